"""RIFE frame interpolation: the IFNet of Huang et al. (ECCV 2022) and the Practical-RIFE 4.x family, in plain torch.

Written from the published design, laid out so that the released ``flownet.pkl`` state dicts load one-to-one
(``strict=True``; a ``module.`` prefix is stripped). The variant is read from the keys and shapes
(:func:`detect_spec`):

``hdv3`` (RIFE HDv3, the ECCV 2022 release): three IFBlocks (PReLU convs, four residual pairs, two transposed-conv
heads for flow and mask) at scales 4, 2, 1. Each block is run on both orderings of the frames and the two estimates
are averaged (the design's built-in ensemble); ``fast=True`` runs one ordering only (half the work, slightly lower
quality). The network is trained for t = 0.5 only: other timesteps are made by recursive bisection (mid-frames of
mid-frames, shared between timesteps of the same pair) down to ``max_depth`` levels, then a linear blend of the two
bracketing frames, whose gap is then at most ``2**-max_depth``.

``v4`` (Practical-RIFE 4.x): N IFBlocks (LeakyReLU convs, ``beta``-scaled residual convs, a transposed conv +
pixel shuffle head) at scales ``2**(N-1) .. 1``, the timestep given as an input channel. Optional pieces found in the
weights: a feature encoder (``encode.cnn0..3``; its features are warped and fed to every block), per-block feature
passing (4.21+: the head's extra channels), blocks that replace the mask (with an encoder) or add to it (without).
``ensemble=True`` averages each block with the mirrored problem (frames swapped, 1 - t), for weights without feature
passing only (4.21+ dropped it). Training-only modules in the files (``teacher``, ``caltime``, HDv3's ``block_tea``)
are built so the state dict maps one-to-one, and never run.

Inputs are padded (replicate) to a multiple of ``4 * largest scale`` (at least 32) and cropped back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F

from .rife_net import IFNetHD, IFNetV4, RIFESpec

__all__ = ["RIFE", "RIFEError", "RIFESpec", "SCALES", "detect_spec", "load_rife", "read_state_dict"]

#: Accepted values of ``scale`` (the flow is estimated at ``scale`` times the input resolution).
SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


class RIFEError(ValueError):
    """Unusable RIFE weights or arguments (a one-line ``ValueError``)."""


# ----------------------------------------------------------------------------------------------- loading


def _strip(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    if not isinstance(sd, Mapping) or not sd:
        raise RIFEError("RIFE weights must be a non-empty state dict")
    if "state_dict" in sd and isinstance(sd["state_dict"], Mapping):
        sd = sd["state_dict"]
    out = {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}
    if not all(isinstance(v, torch.Tensor) for v in out.values()):
        raise RIFEError("RIFE weights must map names to tensors")
    return out


def detect_spec(state_dict: Mapping[str, torch.Tensor]) -> RIFESpec:
    """Read the architecture variant and widths from a RIFE state dict (``module.`` prefix allowed)."""
    sd = _strip(state_dict)
    tops = {k.split(".")[0] for k in sd}
    blocks = sorted(int(m.group(1)) for t in tops if (m := re.fullmatch(r"block(\d+)", t)))
    if not blocks or blocks != list(range(len(blocks))):
        raise RIFEError(f"not RIFE IFNet weights: expected block0.., found modules {sorted(tops)[:8]}")
    widths = []
    for i in blocks:
        try:
            mid, cin = sd[f"block{i}.conv0.0.0.weight"].shape[:2]
            c = sd[f"block{i}.conv0.1.0.weight"].shape[0]
        except KeyError as exc:
            raise RIFEError(f"not RIFE IFNet weights: block{i} has no {exc.args[0]!r}") from None
        widths.append((int(cin), int(mid), int(c)))
    if "block0.conv1.0.weight" in sd:  # HDv3: PReLU blocks with separate flow and mask heads
        residuals = len({k.split(".")[1] for k in sd if re.match(r"block0\.convblock\d+\.", k)})
        extras = tuple(t for t in ("block_tea",) if t in tops)
        unknown = tops - {f"block{i}" for i in blocks} - set(extras)
        spec = RIFESpec("hdv3", tuple(widths), residuals, 5, extras=extras)
        expect = 7 + 4
    elif "block0.lastconv.0.weight" in sd:
        residuals = len({k.split(".")[2] for k in sd if k.startswith("block0.convblock.")})
        head = int(sd["block0.lastconv.0.weight"].shape[1]) // 4
        enc = (0, 0)
        if "encode.cnn0.weight" in sd and "encode.cnn3.weight" in sd:
            enc = (int(sd["encode.cnn0.weight"].shape[0]), int(sd["encode.cnn3.weight"].shape[1]))
        elif "encode" in tops:
            raise RIFEError("this RIFE 4.x layout (a sequential feature encoder, RIFE 4.7-4.14) is not supported; "
                            "use RIFE 4.15 or newer, or HDv3")
        extras = tuple(t for t in ("teacher", "caltime") if t in tops)
        unknown = tops - {f"block{i}" for i in blocks} - set(extras) - ({"encode"} if enc[1] else set())
        spec = RIFESpec("v4", tuple(widths), residuals, head, enc, extras)
        expect = 7 + 2 * enc[1]
        later = 6 + 2 * enc[1] + 1 + 1 + spec.feat_channels + 4
        if any(w[0] != later for w in widths[1:]):
            raise RIFEError(f"unrecognised RIFE 4.x layout: block inputs {[w[0] for w in widths]}, expected "
                            f"{expect} then {later}")
    else:
        raise RIFEError("not RIFE IFNet weights: block0 has neither conv1 (HDv3) nor lastconv (4.x)")
    if unknown:
        raise RIFEError(f"unrecognised modules in the RIFE weights: {sorted(unknown)}")
    if widths[0][0] != expect or (spec.variant == "hdv3" and any(w[0] != expect for w in widths)):
        raise RIFEError(f"unrecognised RIFE layout: block0 takes {widths[0][0]} channels, expected {expect}")
    return spec


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors from a ``.pkl``/``.pth``/``.pt``/``.ckpt`` (``torch.load``, weights only) or ``.safetensors`` file."""
    p = Path(path)
    if not p.is_file():
        raise RIFEError(f"RIFE weights not found: {p}")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(p), device="cpu")
    try:
        sd = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file for the user
        raise RIFEError(f"cannot read RIFE weights {p.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") \
            from None
    return _strip(sd)


class RIFE:
    """A loaded RIFE network with the glue around it: padding, scale, precision, timesteps, bisection."""

    def __init__(self, state_dict: Mapping[str, torch.Tensor], device: torch.device | str = "cpu",
                 dtype: torch.dtype | None = None) -> None:
        sd = _strip(state_dict)
        self.spec = detect_spec(sd)
        net = IFNetHD(self.spec) if self.spec.variant == "hdv3" else IFNetV4(self.spec, sd)
        res = net.load_state_dict(sd, strict=False)
        if res.missing_keys or res.unexpected_keys:
            raise RIFEError(f"RIFE weights do not match {self.spec.name}: missing {res.missing_keys[:4]}, "
                            f"unexpected {res.unexpected_keys[:4]}")
        self.load_result = res
        self.net = net.eval().requires_grad_(False)
        self.device = torch.device("cpu")
        self.dtype = torch.float32
        self.to(device, dtype)

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> RIFE:
        """Move to ``device``; ``dtype`` None = float16 on CUDA, float32 elsewhere. float16 needs CUDA."""
        device = torch.device(device)
        if dtype is None:
            dtype = torch.float16 if device.type == "cuda" else torch.float32
        if dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise RIFEError(f"RIFE precision must be float32, float16 or bfloat16, got {dtype}")
        if dtype == torch.float16 and device.type == "cpu":
            raise RIFEError("float16 RIFE needs a GPU; use float32 on the CPU")
        self.net.to(device=device, dtype=dtype)
        self.device, self.dtype = device, dtype
        return self

    def pad_multiple(self, scale: float = 1.0) -> int:
        return max(32, int(math.ceil(4 * self.spec.top_scale / scale)))

    def scales(self, scale: float) -> list[float]:
        n = len(self.spec.blocks)
        return [2.0 ** (n - 1 - i) / scale for i in range(n)]

    def network(self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor | float = 0.5, *, scale: float = 1.0,
                ensemble: bool = False, fast: bool = False) -> torch.Tensor:
        """One network pass on ``[B,3,H,W]`` frames already on the device, sizes a multiple of :meth:`pad_multiple`.

        HDv3 ignores ``t`` (always 0.5) and ``ensemble`` (built in); 4.x ignores ``fast`` (it is the fast design).
        """
        if self.spec.variant == "hdv3":
            return self.net(img0, img1, self.scales(scale), fast=fast)
        if ensemble and not self.spec.supports_ensemble:
            raise RIFEError(f"ensemble is not part of {self.spec.name} (weights with block features, RIFE 4.21+)")
        tt = torch.as_tensor(t, device=img0.device, dtype=img0.dtype).expand(img0.shape[0])
        return self.net(img0, img1, tt, self.scales(scale), ensemble=ensemble)

    @torch.inference_mode()
    def interpolate(self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor, *, pair_ids: torch.Tensor | None = None,
                    scale: float = 1.0, ensemble: bool = False, fast: bool = False, max_depth: int = 4) -> torch.Tensor:
        """Frames at times ``t [B]`` in (0, 1) between ``img0`` and ``img1`` (``[B,3,H,W]`` in 0..1, any device).

        ``pair_ids [B]`` marks rows that share a frame pair, so HDv3's bisection computes each mid-frame once. Returns
        float32 ``[B,3,H,W]`` on the input device, clamped to 0..1.
        """
        if scale not in SCALES:
            raise RIFEError(f"scale must be one of {SCALES}, got {scale!r}")
        if img0.shape != img1.shape or img0.ndim != 4 or img0.shape[1] != 3:
            raise RIFEError(f"RIFE needs two [B,3,H,W] batches of the same shape, got {tuple(img0.shape)} and "
                            f"{tuple(img1.shape)}")
        b, _, h, w = img0.shape
        t = torch.as_tensor(t, dtype=torch.float64).flatten().cpu()
        if t.numel() != b or not bool(((t > 0) & (t < 1)).all()):
            raise RIFEError("timesteps must be one per row, strictly between 0 and 1")
        m = self.pad_multiple(scale)
        ph, pw = (m - h % m) % m, (m - w % m) % m
        out_dev = img0.device

        def prep(x: torch.Tensor) -> torch.Tensor:
            x = x.to(device=self.device, dtype=self.dtype)
            return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x

        a, c = prep(img0), prep(img1)
        if self.spec.arbitrary_timestep:
            res = self.network(a, c, t.to(self.device), scale=scale, ensemble=ensemble, fast=fast)
        else:
            ids = torch.arange(b) if pair_ids is None else torch.as_tensor(pair_ids).flatten().cpu().long()
            res = _bisect(a, c, t, ids, lambda x, y: self.network(x, y, scale=scale, fast=fast), max_depth)
        return res[:, :, :h, :w].float().clamp_(0.0, 1.0).to(out_dev)


def _bisect(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, ids: torch.Tensor, mid_fn, max_depth: int) -> torch.Tensor:
    """Frames at ``t`` by recursive mid-frames (each unique (pair, interval) computed once per level)."""
    n = t.numel()
    lo, hi = a.clone(), b.clone()
    lo_t, hi_t = torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.float64)
    out = torch.empty_like(a)
    todo = torch.ones(n, dtype=torch.bool)
    for _ in range(max(1, int(max_depth))):
        act = todo.nonzero().flatten()
        if act.numel() == 0:
            break
        key = torch.stack((ids[act].double(), lo_t[act]), 1)
        uniq, inv = torch.unique(key, dim=0, return_inverse=True)
        first = torch.full((uniq.shape[0],), -1, dtype=torch.long).scatter_reduce(0, inv, act, "amin", include_self=False)
        mids = mid_fn(lo[first.to(a.device)], hi[first.to(a.device)])[inv.to(a.device)]
        mid_t = (lo_t[act] + hi_t[act]) / 2
        hit = (t[act] - mid_t).abs() < 1e-9
        go_lo = ~hit & (t[act] < mid_t)
        go_hi = ~hit & ~go_lo
        dev = a.device
        out[act[hit].to(dev)] = mids[hit.to(dev)]
        todo[act[hit]] = False
        hi[act[go_lo].to(dev)] = mids[go_lo.to(dev)]
        hi_t[act[go_lo]] = mid_t[go_lo]
        lo[act[go_hi].to(dev)] = mids[go_hi.to(dev)]
        lo_t[act[go_hi]] = mid_t[go_hi]
    rest = todo.nonzero().flatten()
    if rest.numel():  # bracketing frames at most 2**-max_depth apart: blend linearly
        wgt = ((t[rest] - lo_t[rest]) / (hi_t[rest] - lo_t[rest])).to(device=a.device, dtype=a.dtype).view(-1, 1, 1, 1)
        r = rest.to(a.device)
        out[r] = torch.lerp(lo[r], hi[r], wgt)
    return out


def load_rife(path: str | Path, device: torch.device | str = "cpu", dtype: torch.dtype | None = None) -> RIFE:
    """Load RIFE weights from a file; the variant is detected from the keys (see :func:`detect_spec`)."""
    return RIFE(read_state_dict(path), device, dtype)
