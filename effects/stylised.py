"""Stylised effects: the Inception fold (a real perspective fold rendered by a homography per frame) and
the quantum glitch (seeded RGB split, block displacement and scanlines on chosen or high-motion frames).
Alpha is left untouched."""

from __future__ import annotations

import math

import torch

from ..trajectory.checks import CancelFn, ProgressFn
from ._core import (
    Steps,
    check_frames,
    chunks,
    copy_clip,
    cpu_generator,
    fail,
    new_output,
    parse_index_list,
    pixel_grid,
    rgb_chunk,
    sample_pixels,
    write_rgb,
)

#: What the fold shows beyond the picture's top edge.
FOLD_FILLS = ("mirror", "black", "source")


def _mirror(v: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Reflect coordinates into ``[lo, hi]`` repeatedly (a mirrored tiling of that interval)."""
    period = 2.0 * (hi - lo)
    if period <= 0:
        return torch.full_like(v, lo)
    t = torch.remainder(v - lo, period)
    return lo + torch.minimum(t, period - t)


def fold_homographies(angles: torch.Tensor, h: int, w: int, hinge: float, fov: float) -> torch.Tensor:
    """Homographies ``[F, 3, 3]`` mapping output pixels ``(u, v, 1)`` to source pixels of the folded part.

    Pinhole camera (vertical field of view ``fov`` degrees, principal point at the image centre)
    looking at the frame as a plane at depth ``f`` (so it fills the view unchanged). The part above
    the hinge row ``hinge * (H - 1)`` rotates by ``angle`` (radians) about the hinge line towards the
    viewer: a point at distance ``d`` above the hinge moves to ``(Y_h - d cos a, f - d sin a)``.
    """
    f = (h / 2.0) / math.tan(math.radians(fov) / 2.0)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    yh = hinge * (h - 1) - cy
    a = angles.to(torch.float64)
    s, c = torch.sin(a), torch.cos(a)
    lam = f * c - yh * s  # numerator of the ray depth (up to f / w)
    w0 = f * c + cy * s
    hm = torch.zeros(len(a), 3, 3, dtype=torch.float64)
    hm[:, 0, 0] = lam
    hm[:, 0, 1] = -cx * s
    hm[:, 0, 2] = cx * w0 - lam * cx
    hm[:, 1, 1] = f - cy * s - yh * s
    hm[:, 1, 2] = cy * w0 + yh * f * c + yh * cy * s - f * yh - f * cy
    hm[:, 2, 1] = -s
    hm[:, 2, 2] = w0
    return hm


def inception_fold(frames: torch.Tensor, *, angle: float = 90.0, hinge: float = 0.4, start: float = 0.0,
                   end: float = 1.0, fov: float = 50.0, shade: float = 0.3, fill: str = "mirror",
                   seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Fold the part of the frame above ``hinge`` (fraction of the height from the top) up and over the
    viewer, like the street in *Inception*.

    The fold angle ramps (smoothstep) from 0 to ``angle`` degrees between normalised clip times ``start``
    and ``end`` (a 1-frame clip shows the end state). Each frame is rendered by the homography of
    :func:`fold_homographies`. Beyond the picture's top and side edges the folded plane continues as
    a mirrored tiling of the upper part with ``fill="mirror"`` (default: it then reaches over the
    camera); with ``"black"`` or ``"source"`` (the unfolded frame at half brightness) those rays, and rays
    that miss the plane (behind the camera), show that fill instead. The folded plane is
    darkened by ``shade * (1 - cos angle)``; it is double-sided, so past the angle where it passes the
    camera its back (the same picture, seen from behind) shows. Frames at angle 0 are copied exactly.
    """
    frames = check_frames(frames)
    if end <= start:
        fail(f"end ({end:g}) must be greater than start ({start:g})")
    f, h, w, c = frames.shape
    if angle == 0.0:
        return copy_clip(frames)
    u = torch.linspace(0.0, 1.0, f, dtype=torch.float64) if f > 1 else torch.ones(1, dtype=torch.float64)
    r = ((u - start) / (end - start)).clamp(0.0, 1.0)
    angles = math.radians(angle) * r * r * (3.0 - 2.0 * r)
    hm = fold_homographies(angles, h, w, hinge, fov).to(frames.device)
    hinge_row = hinge * (h - 1)
    cy = (h - 1) / 2.0
    yh = hinge_row - cy
    uv1 = torch.cat((pixel_grid(h, w, frames.device), torch.ones(h, w, 1, device=frames.device)), -1)
    below = (uv1[..., 1] >= hinge_row).view(1, 1, h, w)
    out = new_output(frames, None)
    for sl in Steps("inception_fold", progress, cancel).each(chunks(f, h, w)):
        x = rgb_chunk(frames, sl)
        p = torch.einsum("fij,hwj->fhwi", hm[sl].float(), uv1)  # float32 grid: ~1e-4 px at 4K
        wz = p[..., 2]
        ok = wz.abs() > 1e-9
        src = p[..., :2] / torch.where(ok, wz, torch.ones_like(wz)).unsqueeze(-1)
        d = cy + yh - src[..., 1]
        in_front = hm[sl, 0, 0].float().view(-1, 1, 1) / torch.where(ok, wz, torch.ones_like(wz)) > 1e-6
        on_plane = ok & in_front & (d >= 0)
        if fill == "mirror":  # the plane continues beyond the picture, mirrored (a city that goes on)
            src = torch.stack((_mirror(src[..., 0], -0.5, w - 0.5), _mirror(src[..., 1], -0.5, hinge_row)), -1)
            valid = on_plane
        else:
            valid = on_plane & (d <= hinge_row + 0.5) & (src[..., 0] >= -0.5) & (src[..., 0] <= w - 0.5)
        folded = sample_pixels(x, src.to(x.dtype), "border")
        a = angles[sl].to(frames.device, x.dtype).view(-1, 1, 1, 1)
        folded = folded * (1.0 - shade * (1.0 - torch.cos(a)))
        back = 0.5 * x if fill == "source" else torch.zeros_like(x)
        y = torch.where(valid.unsqueeze(1), folded, torch.where(below, x, back))
        write_rgb(out, sl, torch.where((a == 0).view(-1, 1, 1, 1), x, y))
    if c == 4:
        out[..., 3:] = frames[..., 3:]
    return out


def motion_peaks(frames: torch.Tensor, percentile: float = 90.0) -> list[int]:
    """Frames whose mean absolute difference to the previous frame exceeds the given percentile of
    those differences (frame 0 never; clips under 3 frames give none)."""
    f, h, w, _ = frames.shape
    if f < 3:
        return []
    diffs = torch.empty(f - 1, dtype=torch.float64)
    for sl in chunks(f - 1, h, w):
        a = frames[sl.start:sl.stop, ..., :3].float()
        b = frames[sl.start + 1:sl.stop + 1, ..., :3].float()
        diffs[sl] = (b - a).abs().mean(dim=(1, 2, 3)).double().cpu()
    thr = torch.quantile(diffs, percentile / 100.0)
    return [i + 1 for i in torch.nonzero(diffs > thr).flatten().tolist()]


def quantum_glitch(frames: torch.Tensor, *, strength: float = 1.0, trigger: str = "motion", at: str = "",
                   percentile: float = 85.0, rgb_split: float = 0.012, blocks: int = 8,
                   block_shift: float = 0.08, scanlines: float = 0.3, seed: int = 0,
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Digital glitch on selected frames: red/blue split horizontally by up to ``rgb_split`` x width,
    ``blocks`` horizontal bands displaced by up to ``block_shift`` x width (wrapping), and every other
    pair of rows darkened by ``scanlines``; each hit gets a seeded random intensity in [0.5, 1] x
    ``strength``. ``trigger``: ``"frames"`` (indices in ``at``), ``"motion"`` (see :func:`motion_peaks`)
    or ``"all"``. Other frames are exact copies; ``strength`` 0 is the identity.
    """
    frames = check_frames(frames)
    f, h, w, c = frames.shape
    if trigger == "frames":
        hits = parse_index_list(at, f, "at")
    elif trigger == "motion":
        hits = motion_peaks(frames, percentile)
    else:  # "all"
        hits = list(range(f))
    out = copy_clip(frames)
    if strength == 0.0 or not hits:
        return out
    gen = cpu_generator(seed)
    dev = frames.device
    cols = torch.arange(w, device=dev)
    rows = torch.arange(h)
    scan = ((rows // 2) % 2 == 1).to(torch.float32).to(dev).view(1, h, 1)
    for t in Steps("quantum_glitch", progress, cancel).each(hits):
        k = strength * (0.5 + 0.5 * float(torch.rand((), generator=gen)))
        split = int(round(k * rgb_split * w * (0.5 + 0.5 * float(torch.rand((), generator=gen)))))
        shift_row = torch.zeros(h, dtype=torch.long)
        for _ in range(blocks):
            y0, hh, sh = torch.rand(3, generator=gen).tolist()
            y0, y1 = int(y0 * h), int(y0 * h) + max(1, int(hh * h * 0.15))
            shift_row[y0:y1] = int(round((sh * 2.0 - 1.0) * k * block_shift * w))
        base = cols.view(1, w) - shift_row.to(dev).view(h, 1)
        idx = torch.stack(((base - split) % w, base % w, (base + split) % w), 0)  # [3, H, W]
        x = frames[t, ..., :3].permute(2, 0, 1)
        y = torch.gather(x, 2, idx)
        y = y * (1.0 - scanlines * k * scan.to(y.dtype))
        out[t, ..., :3] = y.permute(1, 2, 0)
    return out
