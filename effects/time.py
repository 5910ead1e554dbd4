"""Time effects: speed ramp (with a pure timestamp re-mapper), freeze frame, reverse, boomerang, tenet.

Time effects change which frame is shown when, so the alpha channel travels (and is blended) with its
frame; pixel effects elsewhere in the library leave alpha untouched.

Speed curves are ``"u:speed, u:speed, ..."`` keyframes where ``u`` is normalised *output* time in
0..1 and ``speed`` is source seconds per output second (0.5 = half speed, 2 = double). Between
keyframes speed is linear; before the first / after the last it is held. A preset name may be given
instead (see :data:`PRESET_CURVES`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..trajectory.checks import CancelFn, ProgressFn
from ._core import Steps, check_frames, check_range, check_shape, chunks, compute_dtype, copy_clip, fail

#: Named speed curves (normalised output time : speed).
PRESET_CURVES: dict[str, str] = {
    "ramp_slow_mid": "0:1, 0.4:0.25, 0.6:0.25, 1:1",
    "ramp_up": "0:0.5, 1:2",
    "ramp_down": "0:2, 1:0.5",
    "pulse": "0:1, 0.2:1, 0.3:0.3, 0.4:1, 0.6:1, 0.7:0.3, 0.8:1, 1:1",
}

#: Largest accepted speed in a curve.
MAX_SPEED = 64.0


def parse_speed_curve(curve: str) -> list[tuple[float, float]]:
    """Parse a speed curve string (or preset name) into sorted ``(u, speed)`` keyframes.

    Raises a one-line ``ValueError`` for empty or malformed strings, ``u`` outside 0..1 or not
    strictly increasing, speeds outside ``[0, MAX_SPEED]`` or a curve whose speed is 0 everywhere.
    """
    if not isinstance(curve, str):
        fail(f"speed curve must be a string, got {type(curve).__name__}")
    text = PRESET_CURVES.get(curve.strip(), curve)
    if not text.strip():
        fail("speed curve is empty; give 'u:speed' keyframes like '0:1, 0.5:0.25, 1:1' or a preset name")
    keys: list[tuple[float, float]] = []
    for item in text.split(","):
        part = item.strip()
        bits = part.split(":")
        try:
            if len(bits) != 2:
                raise ValueError
            u, v = float(bits[0]), float(bits[1])
        except ValueError:
            fail(f"speed curve entry {part!r} is not 'u:speed' (known presets: {', '.join(PRESET_CURVES)})")
        if not (math.isfinite(u) and 0.0 <= u <= 1.0):
            fail(f"speed curve time {bits[0].strip()!r} must be in [0, 1]")
        if not (math.isfinite(v) and 0.0 <= v <= MAX_SPEED):
            fail(f"speed curve speed {bits[1].strip()!r} must be in [0, {MAX_SPEED:g}]")
        if keys and u <= keys[-1][0]:
            fail(f"speed curve times must increase strictly, got {u:g} after {keys[-1][0]:g}")
        keys.append((u, v))
    return keys


def _knots(curve: str, strength: float) -> tuple[np.ndarray, np.ndarray]:
    keys = parse_speed_curve(curve)
    u = np.array([k[0] for k in keys], dtype=np.float64)
    v = 1.0 + strength * (np.array([k[1] for k in keys], dtype=np.float64) - 1.0)
    if u[0] > 0.0:
        u, v = np.r_[0.0, u], np.r_[v[0], v]
    if u[-1] < 1.0:
        u, v = np.r_[u, 1.0], np.r_[v, v[-1]]
    if len(u) == 1:  # a single keyframe at u=0 or u=1
        u, v = np.array([0.0, 1.0]), np.array([v[0], v[0]])
    return u, v


def _integral(u: np.ndarray, v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Exact integral of the piecewise-linear speed from 0 to ``x``."""
    du = np.diff(u)
    cum = np.r_[0.0, np.cumsum(0.5 * (v[:-1] + v[1:]) * du)]
    seg = np.clip(np.searchsorted(u, x, side="right") - 1, 0, len(du) - 1)
    d = x - u[seg]
    slope = (v[seg + 1] - v[seg]) / du[seg]
    return cum[seg] + v[seg] * d + 0.5 * slope * d * d


def retime_timestamps(n_in: int, curve: str, fps: float = 24.0, *, strength: float = 1.0) -> np.ndarray:
    """Source timestamps (seconds, float64 ``[n_out]``) for each output frame of a speed ramp.

    The output lasts ``n_in / mean_speed`` frames (rounded, at least 1); output frame ``k`` shows
    source time ``T_in * S(k / n_out) / S(1)`` where ``S`` is the integral of the speed curve and
    ``T_in = n_in / fps``, so the whole source is covered exactly once. Timestamps are clamped to
    the last source frame ``(n_in - 1) / fps``. ``strength`` scales the curve towards constant speed 1
    (0 = the identity timing ``k / fps``).
    """
    if isinstance(n_in, bool) or not isinstance(n_in, (int, np.integer)) or n_in < 1:
        fail(f"n_in must be a positive int, got {n_in!r}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not (math.isfinite(fps) and fps > 0):
        fail(f"fps must be a positive number, got {fps!r}")
    strength = check_range(strength, "strength")
    u, v = _knots(curve, strength)
    total = float(_integral(u, v, np.array([1.0]))[0])
    if total <= 1e-9:
        fail("speed curve has zero speed everywhere")
    n_out = max(1, int(round(n_in / total)))
    src = _integral(u, v, np.arange(n_out, dtype=np.float64) / n_out) / total * n_in
    near = np.round(src)
    src = np.where(np.abs(src - near) < 1e-6, near, src)
    return np.clip(src, 0.0, n_in - 1) / float(fps)


def sample_times(frames: torch.Tensor, src_index: np.ndarray | torch.Tensor, *, blend: bool = True,
                 steps: Steps | None = None) -> torch.Tensor:
    """Frames at fractional source indices by blending the two neighbours (or nearest if not ``blend``).

    All channels (alpha included) are sampled. Integer indices return the exact source frame.
    """
    frames = check_frames(frames)
    n = frames.shape[0]
    p = torch.as_tensor(np.asarray(src_index, dtype=np.float64)).clamp(0, n - 1)
    if not blend:
        p = torch.floor(p + 0.5)
    i0 = torch.floor(p).long().clamp(0, n - 1)
    i1 = (i0 + 1).clamp(max=n - 1)
    w = (p - i0.double()).float()
    out = frames.new_empty((len(p),) + tuple(frames.shape[1:]))
    cd = compute_dtype(frames.dtype)
    for sl in (steps or Steps("retime")).each(chunks(len(p), frames.shape[1], frames.shape[2])):
        a = frames[i0[sl].to(frames.device)].to(cd)
        b = frames[i1[sl].to(frames.device)].to(cd)
        ww = w[sl].to(device=frames.device, dtype=cd).view(-1, 1, 1, 1)
        out[sl] = (a + ww * (b - a)).to(out.dtype)
    return out


def speed_ramp(frames: torch.Tensor, *, curve: str = "ramp_slow_mid", fps: float = 24.0,
               strength: float = 1.0, blend: bool = True, seed: int = 0, progress: ProgressFn | None = None,
               cancel: CancelFn | None = None) -> torch.Tensor:
    """Re-time a clip by a speed curve; in-between frames blend their two source neighbours.

    Output length is ``round(F / mean_speed)`` (see :func:`retime_timestamps`); a 0.5 constant speed
    doubles the frame count. ``strength`` 0 is the identity.
    """
    frames = check_frames(frames)
    ts = retime_timestamps(frames.shape[0], curve, fps, strength=strength)
    return sample_times(frames, ts * fps, blend=blend, steps=Steps("speed_ramp", progress, cancel))


def freeze_frame(frames: torch.Tensor, *, index: int = 0, duration: int = 12, mode: str = "insert",
                 seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Hold frame ``index`` (negative counts from the end) for ``duration`` extra frames.

    ``mode="insert"`` lengthens the clip by ``duration``; ``mode="hold"`` keeps the length and
    replaces the following ``duration`` frames (clipped at the end). ``duration`` 0 is the identity.
    """
    frames = check_frames(frames)
    n = frames.shape[0]
    if not -n <= index < n:
        fail(f"index must be in [{-n}, {n - 1}] for a {n}-frame clip, got {index}")
    Steps("freeze_frame", progress, cancel).check()
    i = index % n
    if mode == "insert":
        idx = list(range(i + 1)) + [i] * duration + list(range(i + 1, n))
    else:
        idx = [i if i < k <= i + duration else k for k in range(n)]
    return frames[torch.tensor(idx, device=frames.device)]


def reverse(frames: torch.Tensor, *, seed: int = 0, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> torch.Tensor:
    """The clip played backwards."""
    Steps("reverse", progress, cancel).check()
    return check_frames(frames).flip(0)


def boomerang(frames: torch.Tensor, *, seamless: bool = True, seed: int = 0, progress: ProgressFn | None = None,
              cancel: CancelFn | None = None) -> torch.Tensor:
    """Forward then backward without repeating the turn-around frame (``2F - 1`` frames).

    ``seamless`` also drops the final frame 0 (``2F - 2`` frames) so the result loops without a stall.
    """
    frames = check_frames(frames)
    Steps("boomerang", progress, cancel).check()
    n = frames.shape[0]
    back = list(range(n - 2, 0 if seamless else -1, -1))
    return frames[torch.tensor(list(range(n)) + back, device=frames.device)]


def mask_from_depth(depth: torch.Tensor, near_fraction: float = 0.3) -> torch.Tensor:
    """Near-region mask ``[F, H, W]`` (or ``[H, W]``) 0/1 from a depth map (larger = farther).

    Depth is normalised over the whole clip to 0..1; pixels below ``near_fraction`` are 1. Using one
    normalisation for the clip keeps the mask stable over time.
    """
    if not isinstance(depth, torch.Tensor) or depth.ndim not in (2, 3) or depth.numel() == 0:
        fail("depth must be a non-empty tensor [F,H,W] or [H,W]")
    if not depth.dtype.is_floating_point or not bool(torch.isfinite(depth).all()):
        fail("depth must be a finite float tensor")
    near_fraction = check_range(near_fraction, "near_fraction")
    lo, hi = depth.amin(), depth.amax()
    dn = (depth - lo) / (hi - lo).clamp_min(1e-12)
    return (dn < near_fraction).to(torch.float32) if near_fraction < 1.0 else torch.ones_like(dn, dtype=torch.float32)


def _mask_frames(mask: torch.Tensor, f: int, h: int, w: int, device: torch.device) -> torch.Tensor:
    """A mask ``[F|1, H', W']`` or ``[H', W']`` (values checked by the registry) as ``[F, H, W]`` on ``device``."""
    if getattr(mask, "ndim", 0) != 2:
        check_shape(mask, f"{f}|1 H W", "mask")
    m = mask.to(device=device, dtype=torch.float32)
    m = m.reshape(-1, 1, m.shape[-2], m.shape[-1])
    if m.shape[-2:] != (h, w):
        m = F.interpolate(m, size=(h, w), mode="bilinear", align_corners=False)
    return m[:, 0].expand(f, h, w)


def tenet_reverse(frames: torch.Tensor, *, mask: torch.Tensor, strength: float = 1.0,
                  mask_mode: str = "union", seed: int = 0, progress: ProgressFn | None = None,
                  cancel: CancelFn | None = None) -> torch.Tensor:
    """Run the masked region backwards while the rest of the frame runs forwards.

    ``mask`` ``[F, H, W]`` or ``[H, W]`` in 0..1 (resized bilinearly if its size differs; see
    :func:`mask_from_depth`) marks the region in each *source* frame. Output frame ``t`` shows the
    reversed frame ``F-1-t`` where ``mask[F-1-t]`` is set (``mask_mode="source"``), or where either
    ``mask[t]`` or ``mask[F-1-t]`` is set (``"union"``, default: also hides the forward copy of the
    region). ``strength`` 0 is the identity.
    """
    frames = check_frames(frames)
    f, h, w, _ = frames.shape
    m = _mask_frames(mask, f, h, w, frames.device)
    if strength == 0.0:
        return copy_clip(frames)
    out = torch.empty_like(frames)
    cd = compute_dtype(frames.dtype)
    for sl in Steps("tenet_reverse", progress, cancel).each(chunks(f, h, w)):
        src = torch.arange(sl.start, sl.stop, device=frames.device)
        rev = f - 1 - src
        mm = m[rev] if mask_mode == "source" else torch.maximum(m[rev], m[src])
        a = frames[sl].to(cd)
        b = frames[rev].to(cd)
        out[sl] = (a + (strength * mm.to(cd)).unsqueeze(-1) * (b - a)).to(out.dtype)
    return out
