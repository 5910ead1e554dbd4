"""RIFE IFNet networks (HDv3 and the Practical-RIFE 4.x family) and their layers; see :mod:`.rife` for the design
notes, the variant detection and the loading. Module names follow the released state dicts so they load one-to-one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class RIFESpec:
    """The architecture read from a state dict."""

    variant: str  # "hdv3" or "v4"
    blocks: tuple[tuple[int, int, int], ...]  # per block (in_channels, mid, width)
    residuals: int  # residual units per block
    head_channels: int  # channels of a block's output (flow 4 + mask 1 + features)
    encoder: tuple[int, int] = (0, 0)  # (width, output channels); (0, 0) = none
    extras: tuple[str, ...] = ()  # training-only modules present in the file

    @property
    def feat_channels(self) -> int:
        """Channels passed from block to block (4.21+), 0 if none."""
        return self.head_channels - 5 if self.variant == "v4" and self.head_channels > 6 else 0

    @property
    def top_scale(self) -> int:
        return 4 if self.variant == "hdv3" else 2 ** (len(self.blocks) - 1)

    @property
    def arbitrary_timestep(self) -> bool:
        return self.variant == "v4"

    @property
    def supports_ensemble(self) -> bool:
        return self.variant == "hdv3" or self.feat_channels == 0

    @property
    def name(self) -> str:
        if self.variant == "hdv3":
            return "RIFE HDv3"
        enc = f", encoder {self.encoder[1]}ch" if self.encoder[1] else ""
        feat = f", {self.feat_channels}ch block features" if self.feat_channels else ""
        return f"RIFE 4.x ({len(self.blocks)} blocks{enc}{feat})"


# ----------------------------------------------------------------------------------------------- layers


def _conv(cin: int, cout: int, stride: int, act: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), act)


class _ResidualPair(nn.Sequential):
    """HDv3: two PReLU convs with an identity shortcut."""

    def __init__(self, c: int) -> None:
        super().__init__(_conv(c, c, 1, nn.PReLU(c)), _conv(c, c, 1, nn.PReLU(c)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        return y.add_(x) if torch.is_inference_mode_enabled() else y + x


class _ResConv(nn.Module):
    """4.x: ``lrelu(conv(x) * beta + x)``."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones(1, c, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(torch.addcmul(x, self.conv(x), self.beta), 0.2, inplace=True)


def _resize(x: torch.Tensor, factor: float) -> torch.Tensor:
    if factor == 1.0:
        return x
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)


class _HDBlock(nn.Module):
    """HDv3 IFBlock: returns a flow update ``[B,4]`` and a mask update ``[B,1]`` at the input resolution."""

    def __init__(self, cin: int, mid: int, c: int, residuals: int) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(_conv(cin, mid, 2, nn.PReLU(mid)), _conv(mid, c, 2, nn.PReLU(c)))
        for i in range(residuals):
            self.add_module(f"convblock{i}", _ResidualPair(c))
        self.residuals = residuals
        self.conv1 = nn.Sequential(nn.ConvTranspose2d(c, mid, 4, 2, 1), nn.PReLU(mid), nn.ConvTranspose2d(mid, 4, 4, 2, 1))
        self.conv2 = nn.Sequential(nn.ConvTranspose2d(c, mid, 4, 2, 1), nn.PReLU(mid), nn.ConvTranspose2d(mid, 1, 4, 2, 1))

    def forward(self, x: torch.Tensor, flow: torch.Tensor, s: float) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.conv0(torch.cat((_resize(x, 1.0 / s), _resize(flow, 1.0 / s) * (1.0 / s)), 1))
        for i in range(self.residuals):
            feat = getattr(self, f"convblock{i}")(feat)
        return _resize(self.conv1(feat), s) * s, _resize(self.conv2(feat), s)


class _V4Block(nn.Module):
    """4.x IFBlock: flow, mask and feature outputs at the input resolution."""

    def __init__(self, cin: int, mid: int, c: int, residuals: int, head: int) -> None:
        super().__init__()
        lrelu = nn.LeakyReLU(0.2)
        self.conv0 = nn.Sequential(_conv(cin, mid, 2, lrelu), _conv(mid, c, 2, lrelu))
        self.convblock = nn.Sequential(*[_ResConv(c) for _ in range(residuals)])
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * head, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, s: float) -> tuple[torch.Tensor, ...]:
        """``(flow [B,4] already scaled, mask [B,1], features [B,k])``."""
        x = _resize(x, 1.0 / s)
        if flow is not None:
            x = torch.cat((x, _resize(flow, 1.0 / s) * (1.0 / s)), 1)
        out = _resize(self.lastconv(self.convblock(self.conv0(x))), s)
        return out[:, :4] * s, out[:, 4:5], out[:, 5:]


class _Encoder(nn.Module):
    """4.x feature encoder: three LeakyReLU convs (the first strided) and a transposed conv back to full size."""

    def __init__(self, width: int, out: int) -> None:
        super().__init__()
        self.cnn0 = nn.Conv2d(3, width, 3, 2, 1)
        self.cnn1 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn2 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(width, out, 4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.cnn0(x), 0.2)
        x = F.leaky_relu(self.cnn1(x), 0.2)
        return self.cnn3(F.leaky_relu(self.cnn2(x), 0.2))


def _sequential_from_keys(sd: Mapping[str, torch.Tensor], prefix: str) -> nn.Sequential:
    """A plain conv stack (training-only ``caltime``) rebuilt from its weight shapes, LeakyReLU in the gaps."""
    idx = sorted({int(m.group(1)) for k in sd if (m := re.match(rf"{prefix}\.(\d+)\.weight$", k))})
    layers: list[nn.Module] = []
    for i in range(idx[-1] + 1):
        if i in idx:
            o, c, kh, kw = sd[f"{prefix}.{i}.weight"].shape
            layers.append(nn.Conv2d(c, o, (kh, kw), 1, (kh // 2, kw // 2)))
        else:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def sampling_grid(flow: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """float32 ``grid_sample`` grid ``[B,H,W,2]`` reading each pixel ``p`` at ``p + flow[p]`` (pixels,
    ``flow [B,2,H,W]``); ``base`` is the float32 identity grid in [-1, 1] (:func:`_identity_grid`). Kept in float32
    even for a half-precision network: a float16 coordinate near 1 is only good to 2**-11, a third of a pixel at 1280
    px."""
    h, w = flow.shape[-2:]
    norm = torch.tensor([2.0 / (w - 1), 2.0 / (h - 1)], device=flow.device, dtype=torch.float32).view(1, 2, 1, 1)
    return torch.addcmul(base, flow.float(), norm).permute(0, 2, 3, 1)


def _sample(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    y = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border", align_corners=True)
    return y.to(x.dtype)


def _identity_grid(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    gx = torch.linspace(-1.0, 1.0, w, device=device, dtype=dtype).view(1, 1, 1, w).expand(1, 1, h, w)
    gy = torch.linspace(-1.0, 1.0, h, device=device, dtype=dtype).view(1, 1, h, 1).expand(1, 1, h, w)
    return torch.cat((gx, gy), 1)


def _pair(fn, a: tuple, b: tuple):
    """``(fn(*a), fn(*b))``: one batched call on a GPU, two calls on the CPU (where a doubled batch of large feature
    maps falls out of the caches and runs slower than two single ones). Tensor outputs (or tuples) are split back."""
    if a[0].device.type == "cpu":
        return fn(*a), fn(*b)
    n = a[0].shape[0]
    out = fn(*[torch.cat((x, y), 0) if isinstance(x, torch.Tensor) else x for x, y in zip(a, b)])
    if isinstance(out, tuple):
        return tuple(o[:n] for o in out), tuple(o[n:] for o in out)
    return out[:n], out[n:]


def _swap(flow: torch.Tensor) -> torch.Tensor:
    """Exchange the two flows of a ``[B,4]`` field (t->0, t->1) for the mirrored problem."""
    return torch.cat((flow[:, 2:4], flow[:, :2]), 1)


# ----------------------------------------------------------------------------------------------- networks


class IFNetHD(nn.Module):
    """RIFE HDv3 IFNet (timestep fixed at 0.5)."""

    def __init__(self, spec: RIFESpec) -> None:
        super().__init__()
        self.spec = spec
        for i, (cin, mid, c) in enumerate(spec.blocks):
            self.add_module(f"block{i}", _HDBlock(cin, mid, c, spec.residuals))
        if "block_tea" in spec.extras:  # training-only teacher, never run
            self.block_tea = _HDBlock(spec.blocks[0][0] + 3, spec.blocks[0][1], spec.blocks[0][2], spec.residuals)

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, scales: list[float], fast: bool = False) -> torch.Tensor:
        b = img0.shape[0]
        base = _identity_grid(img0.shape[2], img0.shape[3], img0.device, torch.float32)
        flow = img0.new_zeros(b, 4, *img0.shape[2:])
        mask = img0.new_zeros(b, 1, *img0.shape[2:])
        w0, w1 = img0, img1
        for i, s in enumerate(scales):
            block = getattr(self, f"block{i}")
            if fast:
                df, dm = block(torch.cat((w0, w1, mask), 1), flow, s)
            else:  # both orderings, averaged
                (fa, ma), (fb, mb) = _pair(block, (torch.cat((w0, w1, mask), 1), flow, s),
                                           (torch.cat((w1, w0, -mask), 1), _swap(flow), s))
                df, dm = (fa + _swap(fb)) * 0.5, (ma - mb) * 0.5
            flow = flow + df
            mask = mask + dm
            w0 = _sample(img0, sampling_grid(flow[:, :2], base))
            w1 = _sample(img1, sampling_grid(flow[:, 2:4], base))
        m = torch.sigmoid(mask)
        return torch.lerp(w1, w0, m)


class IFNetV4(nn.Module):
    """Practical-RIFE 4.x IFNet (arbitrary timestep)."""

    def __init__(self, spec: RIFESpec, sd: Mapping[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.spec = spec
        for i, (cin, mid, c) in enumerate(spec.blocks):
            self.add_module(f"block{i}", _V4Block(cin, mid, c, spec.residuals, spec.head_channels))
        if spec.encoder[1]:
            self.encode = _Encoder(*spec.encoder)
        if "teacher" in spec.extras and sd is not None:  # training-only, never run
            o, cin = sd["teacher.conv0.0.0.weight"].shape[:2]
            self.teacher = _V4Block(cin, o, sd["teacher.conv0.1.0.weight"].shape[0], spec.residuals, spec.head_channels)
        if "caltime" in spec.extras and sd is not None:  # training-only, never run
            self.caltime = _sequential_from_keys(sd, "caltime")

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor, scales: list[float],
                ensemble: bool = False) -> torch.Tensor:
        b = img0.shape[0]
        base = _identity_grid(img0.shape[2], img0.shape[3], img0.device, torch.float32)
        tmap = t.view(b, 1, 1, 1).to(img0.dtype).expand(b, 1, *img0.shape[2:])
        additive = self.spec.encoder[1] == 0
        if self.spec.encoder[1]:
            f0, f1 = _pair(self.encode, (img0,), (img1,))
        else:
            f0, f1 = img0[:, :0], img1[:, :0]
        w0, w1, wf0, wf1 = img0, img1, f0, f1
        flow = mask = feat = None
        for i, s in enumerate(scales):
            block = getattr(self, f"block{i}")
            if flow is None:
                x = torch.cat((img0, img1, f0, f1, tmap), 1)
            else:
                x = torch.cat((w0, w1, wf0, wf1, tmap, mask) + ((feat,) if self.spec.feat_channels else ()), 1)
            if ensemble:  # the mirrored problem: frames swapped, 1 - t
                xm = torch.cat((img1, img0, f1, f0, 1 - tmap) if flow is None else (w1, w0, wf1, wf0, 1 - tmap, -mask), 1)
                oa, ob = _pair(block, (x, flow, s), (xm, None if flow is None else _swap(flow), s))
                df, dm, feat = (oa[0] + _swap(ob[0])) * 0.5, (oa[1] - ob[1]) * 0.5, oa[2]
            else:
                df, dm, feat = block(x, flow, s)
            flow = df if flow is None else flow + df
            mask = dm if mask is None or not additive else mask + dm
            g0, g1 = sampling_grid(flow[:, :2], base), sampling_grid(flow[:, 2:4], base)
            w0, w1 = _sample(img0, g0), _sample(img1, g1)
            if i < len(scales) - 1 and f0.shape[1]:  # features only feed the next block
                wf0, wf1 = _sample(f0, g0), _sample(f1, g1)
        assert mask is not None
        return torch.lerp(w1, w0, torch.sigmoid(mask))
