"""Preprocessing of a drawn stroke set: its camera path, smoothed and resampled uniformly by arc length.

:func:`prepare` is the one entry; :class:`PreparedStroke` is what the intent analysis and the camera lift read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import savgol_filter

from .format import DEDUP_EPS_PX, DEFAULT_DT_MS, MAX_POINTS, StrokeError, StrokeSet


@dataclass(frozen=True, eq=False)
class PreparedStroke:
    """The camera path of a stroke set, smoothed and resampled uniformly by arc length.

    ``xy_px [n, 2]`` canvas pixels; ``xy [n, 2]`` isotropic normalised coordinates
    ``(xy_px - [W/2, H/2]) / (max(W, H) / 2)`` (aspect preserved, y down); ``s [n]`` arc-length
    fraction 0..1; ``t [n]`` drawing-time fraction 0..1; ``speed [n]`` drawing speed normalised to
    mean 1 over arc length; ``length_px`` the smoothed path length in pixels.
    """

    xy_px: np.ndarray
    xy: np.ndarray
    s: np.ndarray
    t: np.ndarray
    speed: np.ndarray
    width: int
    height: int
    length_px: float

    @property
    def n(self) -> int:
        """Number of resampled points."""
        return len(self.s)


def _dedupe(p: np.ndarray) -> np.ndarray:
    """Drop points that repeat the previous point's position (within :data:`DEDUP_EPS_PX`)."""
    if len(p) < 2:
        return p
    keep = np.ones(len(p), dtype=bool)
    keep[1:] = np.abs(np.diff(p[:, :2], axis=0)).max(axis=1) > DEDUP_EPS_PX
    return p[keep]


def _length(p: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(p[:, :2], axis=0), axis=1).sum()) if len(p) > 1 else 0.0


def _concat_camera(stroke_set: StrokeSet) -> np.ndarray:
    """Camera strokes joined in list (drawing) order, as one ``[N, 3]`` path with a clock.

    Each stroke's clock restarts where the previous one ended; the pen-up jump between strokes is
    bridged by a straight segment drawn at the mean drawing speed (pen-up time is not motion).
    A timed stroke whose times are all equal is given uniform timing like an untimed one.
    """
    parts = []
    for st in stroke_set.camera_strokes():
        p = _dedupe(np.array(st.points, dtype=np.float64))
        if _length(p) <= DEDUP_EPS_PX:  # only sub-threshold steps: keep the start and the farthest point
            far = int(np.argmax(np.abs(st.points[:, :2] - st.points[0, :2]).max(axis=1)))
            p = np.array(st.points[[0, far]], dtype=np.float64)
        p[:, 2] -= p[0, 2]
        if p[-1, 2] <= 0.0:
            p[:, 2] = np.arange(len(p)) * DEFAULT_DT_MS
        parts.append(p)
    if not parts:
        raise StrokeError("strokes", "no stroke with role 'camera'")
    lengths = [np.linalg.norm(np.diff(p[:, :2], axis=0), axis=1).sum() for p in parts]
    mean_speed = sum(lengths) / sum(p[-1, 2] for p in parts)  # px per ms, > 0
    out = [parts[0]]
    for p in parts[1:]:
        prev = out[-1]
        gap = float(np.linalg.norm(p[0, :2] - prev[-1, :2]))
        p = p.copy()
        p[:, 2] += prev[-1, 2] + max(gap / mean_speed, DEFAULT_DT_MS)
        out.append(p)
    return _dedupe(np.concatenate(out))


def _smooth(p: np.ndarray) -> np.ndarray:
    """Jitter removal that keeps corners: Savitzky-Golay with a clamped correction.

    A quadratic Savitzky-Golay filter in sample order, window N/16 (5..21 samples, at most a third
    of the stroke), proposes a smoothed point for every sample. The pointer noise level sigma is
    estimated robustly from the residual of a 5-sample filter, and each correction is clamped to
    3 sigma: jitter (a few sigma at most) is removed, while a corner, which the filter would cut
    by much more than the noise, moves by at most 3 sigma. A clean polyline (sigma = 0) is left
    exactly as it is.
    """
    n = len(p)
    if n < 7:
        return p
    xy = p[:, :2]
    r5 = np.linalg.norm(savgol_filter(xy, 5, 2, axis=0, mode="nearest")[2:-2] - xy[2:-2], axis=1)
    sigma = 1.4826 / 0.72 * float(np.median(r5))
    if not sigma > 0:
        return p
    w = int(np.clip(round(n / 16), 5, 21))
    w = min(w, n // 3)
    w -= 1 - w % 2  # odd
    if w < 5:
        return p
    d = savgol_filter(xy, w, 2, axis=0, mode="interp") - xy
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    d *= np.minimum(1.0, 3.0 * sigma / np.maximum(norm, 1e-300))
    out = p.copy()
    out[:, :2] = xy + d
    return out


def prepare(stroke_set: StrokeSet, n: int = 256) -> PreparedStroke:
    """Camera strokes -> one smoothed path resampled to ``n`` points uniformly by arc length.

    Steps: camera strokes concatenated in drawing (list) order (see :func:`_concat_camera`);
    repeated points removed; jitter smoothed (:func:`_smooth`); resampled to ``n`` points equally
    spaced in arc length, carrying the drawing time so ``t`` and ``speed`` keep the speed profile.
    """
    if not isinstance(stroke_set, StrokeSet):
        raise TypeError(f"prepare() needs a StrokeSet (from parse_strokes), got {type(stroke_set).__name__}")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 2 <= n <= MAX_POINTS:
        raise ValueError(f"n must be an integer between 2 and {MAX_POINTS}, got {n!r}")
    raw = _concat_camera(stroke_set)
    p = _dedupe(_smooth(raw))
    if len(p) < 2 or _length(p) <= DEDUP_EPS_PX:  # smoothing cannot collapse a real path; be safe
        p = raw
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p[:, :2], axis=0), axis=1))])
    length = float(cum[-1])
    target = np.linspace(0.0, length, n)
    xy_px = np.column_stack([np.interp(target, cum, p[:, 0]), np.interp(target, cum, p[:, 1])])
    t_ms = np.interp(target, cum, p[:, 2])
    duration = t_ms[-1] - t_ms[0]
    s = target / length
    t = (t_ms - t_ms[0]) / duration if duration > 0 else s.copy()
    dt_ds = gaussian_filter1d(np.gradient(t, s), 1.5, mode="nearest") if n > 2 else np.ones(n)
    speed = 1.0 / np.maximum(dt_ds, 0.02 * max(float(dt_ds.mean()), 1e-12))
    speed = speed / speed.mean()
    w, h = stroke_set.width, stroke_set.height
    xy = (xy_px - np.array([w / 2.0, h / 2.0])) / (max(w, h) / 2.0)
    for a in (xy_px, xy, s, t, speed):
        a.setflags(write=False)
    return PreparedStroke(xy_px=xy_px, xy=xy, s=s, t=t, speed=speed, width=w, height=h, length_px=length)
