"""Today's (2026-12-01, commit 1b7f08a) weight-free flow interpolator, kept verbatim as the speed/quality reference.

:func:`reference_flow_interpolate` is the ``FlowBackend`` of ``effects/interpolation/frames.py`` (with the DIS helper
of ``effects/_flow.py``) as it was before the issue-19 speed-up, so ``bench_interpolate.py`` can time the old and the
new implementation alternately in the same run. It is a benchmark reference only: nothing in the pack imports it.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from draw_to_video.effects._core import LUMA_709, pixel_grid, sample_pixels

MIN_SIDE = 32


class _Estimator:
    def __init__(self, max_side: int = 720, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self.max_side = int(max_side)
        self._dis = cv2.DISOpticalFlow_create(preset)

    def _work_size(self, h: int, w: int) -> tuple[int, int]:
        s = min(1.0, self.max_side / max(h, w))
        return max(MIN_SIDE, round(h * s)), max(MIN_SIDE, round(w * s))

    def grey(self, rgb: torch.Tensor) -> np.ndarray:
        h, w = rgb.shape[-2:]
        y = (LUMA_709[0] * rgb[0] + LUMA_709[1] * rgb[1] + LUMA_709[2] * rgb[2]).float()
        g = (y.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).cpu().numpy()
        wh, ww = self._work_size(h, w)
        if (wh, ww) != (h, w):
            interp = cv2.INTER_AREA if wh <= h and ww <= w else cv2.INTER_LINEAR
            g = cv2.resize(g, (ww, wh), interpolation=interp)
        return np.ascontiguousarray(g)

    def flow_grey(self, src: np.ndarray, dst: np.ndarray, h: int, w: int, device: torch.device) -> torch.Tensor:
        if np.array_equal(src, dst):
            return torch.zeros(h, w, 2, device=device)
        fl = self._dis.calc(src, dst, None)
        wh, ww = src.shape
        if (wh, ww) != (h, w):
            fl = cv2.resize(fl, (w, h), interpolation=cv2.INTER_LINEAR)
            fl[..., 0] *= w / ww
            fl[..., 1] *= h / wh
        return torch.from_numpy(np.ascontiguousarray(fl, dtype=np.float32)).to(device)


def _backward_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2:]
    uv = pixel_grid(h, w, x.device, flow.dtype).unsqueeze(0) + flow
    return sample_pixels(x, uv, padding="border")


def _soft_consistency(fw: torch.Tensor, bw: torch.Tensor) -> torch.Tensor:
    bw_at = _backward_warp(bw.permute(0, 3, 1, 2), fw).permute(0, 2, 3, 1)
    err = (fw + bw_at).square().sum(-1)
    return torch.exp(-err / (0.01 * (fw.square().sum(-1) + bw_at.square().sum(-1)) + 0.5))


def _splat(motion: torch.Tensor, value: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    j, h, w, _ = motion.shape
    pos = pixel_grid(h, w, motion.device, motion.dtype).unsqueeze(0) + motion
    base = pos.floor()
    frac = pos - base
    x0, y0 = base[..., 0].long(), base[..., 1].long()
    off = (torch.arange(j, device=motion.device) * (h * w)).view(j, 1, 1)
    acc = motion.new_zeros(j * h * w, 3)
    payload = torch.cat((value * weight.unsqueeze(-1), weight.unsqueeze(-1)), -1)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        xi, yi = x0 + dx, y0 + dy
        bil = (frac[..., 0] if dx else 1 - frac[..., 0]) * (frac[..., 1] if dy else 1 - frac[..., 1])
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        idx = (off + yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1))[ok]
        acc.index_add_(0, idx, (payload * bil.unsqueeze(-1))[ok])
    acc = acc.view(j, h, w, 3)
    return acc[..., :2], acc[..., 2]


def _full_res(weight: torch.Tensor, h: int, w: int) -> torch.Tensor:
    x = weight.unsqueeze(1)
    return x if x.shape[-2:] == (h, w) else F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)


class reference_flow_interpolate:  # noqa: N801 - a backend object, named as the brief's reference function
    """The old ``FlowBackend``: ``(a, b [P,3,H,W], pair [J], t [J]) -> [J,3,H,W]`` (preset "medium", max_side 720)."""

    def __init__(self, max_side: int = 720) -> None:
        self.estimator = _Estimator(max_side=max_side)

    def flows(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        est = self.estimator
        fw, bw = [], []
        for i in range(a.shape[0]):
            ga, gb = est.grey(a[i]), est.grey(b[i])
            h, w = ga.shape
            fw.append(est.flow_grey(ga, gb, h, w, a.device))
            bw.append(est.flow_grey(gb, ga, h, w, a.device))
        return torch.stack(fw), torch.stack(bw)

    def __call__(self, a: torch.Tensor, b: torch.Tensor, pair: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        fw, bw = self.flows(a.float(), b.float())
        c0, c1 = _soft_consistency(fw, bw), _soft_consistency(bw, fw)
        p = pair.to(a.device)
        tt = t.to(device=a.device, dtype=torch.float32).view(-1, 1, 1, 1)
        f01, f10, k0, k1 = fw[p], bw[p], c0[p], c1[p]
        lin_t0 = -(1 - tt) * tt * f01 + tt * tt * f10
        lin_t1 = (1 - tt) ** 2 * f01 - tt * (1 - tt) * f10
        eps = 1e-2
        s0, w0 = _splat(tt * f01, -tt * f01, k0 + eps)
        s1, w1 = _splat((1 - tt) * f10, -(1 - tt) * f10, k1 + eps)
        ft0 = (s0 + eps * lin_t0) / (w0 + eps).unsqueeze(-1)
        ft1 = (s1 + eps * lin_t1) / (w1 + eps).unsqueeze(-1)
        h, w = a.shape[-2:]
        wh, ww = fw.shape[1:3]

        def full(fl: torch.Tensor) -> torch.Tensor:
            if (wh, ww) == (h, w):
                return fl
            up = F.interpolate(fl.permute(0, 3, 1, 2), size=(h, w), mode="bilinear", align_corners=False)
            return (up * torch.tensor([w / ww, h / wh], device=fl.device).view(1, 2, 1, 1)).permute(0, 2, 3, 1)

        v0 = _backward_warp(k0.unsqueeze(1), ft0)[:, 0]
        v1 = _backward_warp(k1.unsqueeze(1), ft1)[:, 0]
        wt0 = (1 - tt[:, 0]) * (1 - v0 * (1 - v1)) + 1e-4
        wt1 = tt[:, 0] * (1 - v1 * (1 - v0)) + 1e-4
        grid = pixel_grid(h, w, a.device, torch.float32).unsqueeze(0)
        warp0 = sample_pixels(a[p].float(), grid + full(ft0), padding="border")
        warp1 = sample_pixels(b[p].float(), grid + full(ft1), padding="border")
        wt0, wt1 = _full_res(wt0, h, w), _full_res(wt1, h, w)
        out = (warp0 * wt0 + warp1 * wt1) / (wt0 + wt1)
        return out.clamp_(0.0, 1.0)
