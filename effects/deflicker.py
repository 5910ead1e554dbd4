"""Temporal consistency for diffusion outputs: exposure/colour deflicker plus flow-guided blending.

1. Per frame and channel, the mean and standard deviation are matched to a Gaussian-smoothed
   (over time, ``sigma`` frames) version of themselves: ``y = (x - m_t) * S_t / s_t + M_t``.
2. Each output frame is blended with the previous *output* warped by OpenCV DIS flow, only where the
   flow passes a forward-backward consistency check and the warped colour is close (``tolerance``),
   so disocclusions and real changes are not smeared.

``strength`` 0 is the identity; ``temporal`` 0 skips step 2 (and the flow).
"""

from __future__ import annotations

import math

import torch

from ..trajectory.checks import CancelFn, ProgressFn
from ._core import Steps, check_frames, chunks, copy_clip, rgb_chunk, write_rgb
from ._flow import FlowEstimator, backward_warp, fb_consistent


def _frame_stats(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    f, h, w, _ = frames.shape
    mean = torch.empty(f, 3, dtype=torch.float64)
    std = torch.empty(f, 3, dtype=torch.float64)
    for sl in chunks(f, h, w):
        x = frames[sl, ..., :3].to(torch.float64)
        mean[sl] = x.mean(dim=(1, 2)).cpu()
        std[sl] = x.std(dim=(1, 2), correction=0).cpu()
    return mean, std


def _smooth_time(v: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian smoothing of ``[F, K]`` along time with replicate ends."""
    if sigma <= 0 or v.shape[0] == 1:
        return v.clone()
    r = max(1, int(math.ceil(3 * sigma)))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=v.dtype) / sigma) ** 2)
    k = k / k.sum()
    x = v.t().unsqueeze(1)  # [K, 1, F]
    x = torch.nn.functional.pad(x, (r, r), mode="replicate")
    return torch.nn.functional.conv1d(x, k.view(1, 1, -1))[:, 0].t()


def exposure_targets(frames: torch.Tensor, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame per-channel ``(gain, offset)`` ``[F, 3]`` that match each frame's mean/std to the
    temporally smoothed ones. Gains are clamped to [0.25, 4]; flat channels keep gain 1."""
    mean, std = _frame_stats(frames)
    tm, ts = _smooth_time(mean, sigma), _smooth_time(std, sigma)
    gain = torch.where(std > 1e-6, ts / std.clamp_min(1e-6), torch.ones_like(std)).clamp(0.25, 4.0)
    return gain, tm - mean * gain


def deflicker(frames: torch.Tensor, *, strength: float = 1.0, sigma: float = 4.0, temporal: float = 0.5,
              tolerance: float = 0.08, flow_max_side: int = 512, seed: int = 0,
              progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Stabilise exposure and colour over time, then blend each frame with the flow-warped previous
    output (weight ``strength * temporal``) where the flow is forward-backward consistent and the
    colour difference is under ``tolerance``. Alpha is left untouched."""
    frames = check_frames(frames)
    if strength == 0.0:
        return copy_clip(frames)
    f, h, w, c = frames.shape
    blend = strength * temporal
    n_chunks = len(list(chunks(f, h, w)))  # the exposure pass, then the flow pass
    steps = Steps("deflicker", progress, cancel, total=n_chunks + (f - 1 if blend > 0.0 and f > 1 else 0))
    gain, offset = exposure_targets(frames, sigma)
    gain = (1.0 + strength * (gain - 1.0)).to(frames.device)
    offset = (strength * offset).to(frames.device)
    out = torch.empty_like(frames)
    for sl in steps.each(chunks(f, h, w)):
        x = rgb_chunk(frames, sl)
        y = x * gain[sl].to(x.dtype).view(-1, 3, 1, 1) + offset[sl].to(x.dtype).view(-1, 3, 1, 1)
        write_rgb(out, sl, y.clamp(0.0, 1.0))
    if blend > 0.0 and f > 1:
        est = FlowEstimator(flow_max_side)
        g_prev = est.grey(frames[0, ..., :3].permute(2, 0, 1))
        for t in steps.each(range(1, f)):
            g_cur = est.grey(frames[t, ..., :3].permute(2, 0, 1))
            fl_b = est.flow_grey(g_cur, g_prev, h, w, frames.device)  # t -> t-1
            fl_f = est.flow_grey(g_prev, g_cur, h, w, frames.device)  # t-1 -> t
            g_prev = g_cur
            cur = rgb_chunk(out, slice(t, t + 1))
            prev = backward_warp(rgb_chunk(out, slice(t - 1, t)), fl_b.unsqueeze(0))
            ok = fb_consistent(fl_b, fl_f) & ((prev - cur).abs().amax(dim=1)[0] < tolerance)
            wgt = blend * ok.to(cur.dtype)
            write_rgb(out, slice(t, t + 1), cur + wgt * (prev - cur))
    if c == 4:
        out[..., 3:] = frames[..., 3:]
    return out
