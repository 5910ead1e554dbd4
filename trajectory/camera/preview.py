"""Pictures of a trajectory: a two-view diagram (:func:`preview_image`) and a scribble of the path (:func:`path_scribble`).

:func:`preview_image` draws, auto-scaled and labelled, the **top view** (left panel: ``x`` to the right,
``z`` forward pointing up the panel) and the **side view** (right panel: ``z`` forward to the right,
``y`` down the panel, so "up" is up) with the camera path, a frustum every few frames (green at the
start, shading to red at the end), start/end markers, the subject point (yellow cross) and the lifted
stroke (orange). World axes and names follow :mod:`draw_to_video.trajectory.conventions`.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ..conventions import DEFAULT_SUBJECT_DEPTH
from .lift import canvas_to_pixels, lift
from .model import CameraTrajectory

_BG = (24, 26, 30)
_AXIS = (70, 74, 82)
_PATH = (90, 200, 255)
_STROKE = (255, 150, 40)
_SUBJECT = (255, 220, 60)
_TEXT = (225, 225, 225)
_START, _END = np.array([60.0, 220.0, 90.0]), np.array([240.0, 70.0, 60.0])
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _stroke_points(traj: CameraTrajectory, stroke: Any) -> np.ndarray | None:
    if stroke is None:
        return None
    if hasattr(stroke, "xy_px"):
        d = float(traj.meta.get("subject_depth", DEFAULT_SUBJECT_DEPTH))
        return lift(stroke, traj.source_K(), traj.width, traj.height, None, d if d > 0 else DEFAULT_SUBJECT_DEPTH)
    pts = np.asarray(stroke, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or not np.isfinite(pts).all():
        raise ValueError(f"stroke must be a PreparedStroke or finite [n, 3] points, got shape {pts.shape}")
    return pts


def _frusta(traj: CameraTrajectory, idx: np.ndarray, size: float) -> np.ndarray:
    """World segments ``[len(idx), 8, 2, 3]`` of the frusta of frames ``idx`` at depth ``size``."""
    w, h = traj.width, traj.height
    px = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    K = traj.K[idx]
    rays = np.stack([(px[None, :, 0] - K[:, 0, 2, None]) / K[:, 0, 0, None],
                     (px[None, :, 1] - K[:, 1, 2, None]) / K[:, 1, 1, None], np.ones((len(idx), 4))], axis=-1)
    T = traj.world_T_cam[idx]
    corners = np.einsum("fij,fkj->fki", T[:, :3, :3], rays * size) + T[:, None, :3, 3]
    c = np.broadcast_to(T[:, None, :3, 3], corners.shape)
    spokes = np.stack([c, corners], axis=2)
    rim = np.stack([corners, np.roll(corners, -1, axis=1)], axis=2)
    return np.concatenate([spokes, rim], axis=1)


class _Panel:
    """Maps two world axes into a ``pw x ph`` panel at ``x0``, equal scale, with a margin and a title band."""

    def __init__(self, pts2: np.ndarray, x0: int, pw: int, ph: int, top: int) -> None:
        lo, hi = pts2.min(axis=0), pts2.max(axis=0)
        span = np.maximum(hi - lo, 1e-6)
        pad = 0.08 * float(span.max()) + 1e-6
        lo, span = lo - pad, span + 2 * pad
        m = 8
        self.scale = min((pw - 2 * m) / span[0], (ph - top - 2 * m) / span[1])
        self.off = np.array([x0 + m + 0.5 * (pw - 2 * m - span[0] * self.scale),
                             top + m + 0.5 * (ph - top - 2 * m - span[1] * self.scale)]) - lo * self.scale

    def __call__(self, p2: np.ndarray) -> np.ndarray:
        return np.round((p2 * self.scale + self.off) * 16.0).astype(np.int32)  # 4 fractional bits


def _views(p3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.stack([p3[..., 0], -p3[..., 2]], axis=-1), np.stack([p3[..., 2], p3[..., 1]], axis=-1)


def preview_image(traj: CameraTrajectory, stroke: Any = None, size: tuple[int, int] = (512, 512)) -> np.ndarray:
    """RGB ``uint8 [H, W, 3]`` diagram of ``traj`` (see the module docstring); ``size`` is ``(width, height)``.

    ``stroke`` is a :class:`~draw_to_video.trajectory.stroke.prepare.PreparedStroke` (lifted onto the subject plane) or world points ``[n, 3]``.
    """
    if not isinstance(traj, CameraTrajectory):
        raise ValueError(f"traj must be a CameraTrajectory, got {type(traj).__name__}")
    try:
        W, H = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height), got {size!r:.40}") from None
    if not (64 <= W <= 8192 and 64 <= H <= 8192):
        raise ValueError(f"size must be between 64 and 8192 pixels per side, got {W}x{H}")
    img = np.empty((H, W, 3), dtype=np.uint8)
    img[:] = _BG
    centres = traj.centres()
    spts = _stroke_points(traj, stroke)
    subject = np.asarray(traj.meta.get("subject", [0.0, 0.0, DEFAULT_SUBJECT_DEPTH]), dtype=np.float64).reshape(3)
    extent_pts = [centres, subject[None]] + ([spts] if spts is not None else [])
    allp = np.concatenate(extent_pts)
    extent = float(np.ptp(allp, axis=0).max()) if len(allp) > 1 else 1.0
    F = traj.num_frames
    k = max(1, math.ceil(F / 8))
    idx = np.unique(np.concatenate([np.arange(0, F, k), [F - 1]]))
    segs = _frusta(traj, idx, 0.12 * max(extent, 1e-3))
    fs = max(0.35, min(W / 2, H) / 700.0)
    top = int(28 * fs / 0.5) if H > 120 else 14
    pw = W // 2
    for v, (x0, title) in enumerate(((0, "TOP  x right, z forward (up)"), (pw, "SIDE  z forward (right), y down"))):
        views = [_views(p)[v] for p in (allp, segs.reshape(-1, 3))]
        panel = _Panel(np.concatenate(views), x0, pw if v == 0 else W - pw, H, top)
        origin = panel(_views(np.zeros((1, 3)))[v])[0]
        cv2.line(img, (int(x0 * 16), int(origin[1])), (int((x0 + pw) * 16), int(origin[1])), _AXIS, 1, cv2.LINE_AA, 4)
        cv2.line(img, (int(origin[0]), top * 16), (int(origin[0]), H * 16), _AXIS, 1, cv2.LINE_AA, 4)
        fseg = panel(_views(segs)[v])  # [n, 8, 2, 2]
        for f in range(len(idx)):  # a handful of frusta (at most 9), one colour each
            a = idx[f] / max(F - 1, 1)
            col = tuple(int(c) for c in (1 - a) * _START + a * _END)
            cv2.polylines(img, list(fseg[f]), False, col, 1, cv2.LINE_AA, 4)
        if spts is not None and len(spts) > 1:
            cv2.polylines(img, [panel(_views(spts)[v])], False, _STROKE, 2, cv2.LINE_AA, 4)
        path = panel(_views(centres)[v])
        if F > 1:
            cv2.polylines(img, [path], False, _PATH, 2, cv2.LINE_AA, 4)
        r = max(3, int(5 * fs / 0.5)) * 16
        cv2.circle(img, tuple(int(c) for c in path[0]), r, tuple(int(c) for c in _START), -1, cv2.LINE_AA, 4)
        cv2.circle(img, tuple(int(c) for c in path[-1]), r, tuple(int(c) for c in _END), 2 if F > 1 else -1,
                   cv2.LINE_AA, 4)
        sp = panel(_views(subject[None])[v])[0]
        cv2.drawMarker(img, (int(sp[0]) // 16, int(sp[1]) // 16), _SUBJECT, cv2.MARKER_CROSS, max(8, r // 8), 2)
        cv2.putText(img, title, (x0 + 6, int(top * 0.7)), _FONT, fs, _TEXT, 1, cv2.LINE_AA)
    cv2.line(img, (pw, 0), (pw, H), _AXIS, 1)
    label = f"{traj.preset} ({traj.intent})  {F} frames @ {traj.fps:g} fps"
    cv2.putText(img, label, (6, H - 8), _FONT, fs * 0.9, _TEXT, 1, cv2.LINE_AA)
    return img


def path_scribble(stroke_set: Any, width: int, height: int, thickness: int = 3) -> np.ndarray:
    """The camera strokes drawn white on black, ``float32 [height, width]`` in ``[0, 1]`` (ControlNet scribble).

    Canvas points map to the image as in :mod:`.lift` (the canvas shows the whole image, centre-cropped to the
    output's aspect); anti-aliased.
    """
    w, h, th = int(width), int(height), int(thickness)
    if not (1 <= w <= 16384 and 1 <= h <= 16384):
        raise ValueError(f"width and height must be between 1 and 16384, got {width}x{height}")
    if not 1 <= th <= 256:
        raise ValueError(f"thickness must be between 1 and 256, got {thickness}")
    strokes = stroke_set.camera_strokes()
    canvas = (stroke_set.width, stroke_set.height)
    lines = [np.round(canvas_to_pixels(s.points[:, :2], canvas, w, h) * 16.0).astype(np.int32) for s in strokes]
    img = np.zeros((h, w), dtype=np.uint8)
    if lines:
        cv2.polylines(img, lines, False, 255, th, cv2.LINE_AA, 4)
    return img.astype(np.float32) / 255.0
