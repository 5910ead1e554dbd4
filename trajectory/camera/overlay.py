"""The camera path drawn over the photo: what each frame of a trajectory sees, projected into the source image.

The source camera is the one :func:`~draw_to_video.nodes.rendering.render_clip` renders from: the trajectory's
frame-0 intrinsics rescaled to the photo, at the world origin looking along ``+z``
(:mod:`draw_to_video.trajectory.conventions`). For a frame ``f``:

* its **footprint** is its image rectangle cast onto the plane ``z = depth`` of the source camera (the subject plane)
  and projected into the photo: the part of the photo frame ``f`` shows when the subject is at ``depth``;
* its **look-at point** is where its optical axis meets that plane, projected the same way;
* its **centre** is its camera centre projected into the photo where it lies in front of the source camera.

:func:`project_overlay` computes these in photo pixels (pure numpy); :func:`draw_overlay` draws them on an RGB
``uint8`` photo: the look-at path (light blue), footprints of a few frames (green at the start, shading to red at the
end), "start" and "end" labels, and the camera centres' path where it is visible (dashed white).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..conventions import DEFAULT_SUBJECT_DEPTH
from .model import CameraTrajectory

_START, _END = np.array([60.0, 220.0, 90.0]), np.array([240.0, 70.0, 60.0])
_LOOK = (120, 210, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_NEAR = 1e-3  #: smallest source-camera depth (scene units) a projected point may have


@dataclass(frozen=True)
class OverlayGeometry:
    """Projected geometry in photo pixels; a point behind the source camera is NaN."""

    footprints: np.ndarray  #: ``[K, 4, 2]`` corners of the footprints of frames ``frames``
    frames: np.ndarray  #: ``[K]`` the frames drawn as footprints
    look_at: np.ndarray  #: ``[F, 2]`` look-at point of every frame
    centres: np.ndarray  #: ``[F, 2]`` camera centre of every frame (NaN where not in front of the source camera)


def _ray_plane(origin: np.ndarray, direction: np.ndarray, depth: float) -> np.ndarray:
    """Points where rays ``origin + t * direction`` (``t > 0``) meet ``z = depth``; NaN where they do not."""
    dz = direction[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (depth - origin[..., 2]) / dz
    hit = origin + t[..., None] * direction
    bad = ~np.isfinite(t) | (t <= 0)
    hit[bad] = np.nan
    return hit


def _project(K: np.ndarray, p: np.ndarray) -> np.ndarray:
    z = p[..., 2]
    ok = np.isfinite(z) & (z > _NEAR)
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = np.stack([K[0, 0] * p[..., 0] / z + K[0, 2], K[1, 1] * p[..., 1] / z + K[1, 2]], axis=-1)
    uv[~ok] = np.nan
    return uv


def project_overlay(traj: CameraTrajectory, width: int, height: int, depth: float | None = None,
                    footprints: int = 5) -> OverlayGeometry:
    """The trajectory's footprints, look-at points and centres in a ``width x height`` photo (see the module doc).

    ``depth`` is the subject plane's distance (default: the trajectory's ``subject_depth``, else
    :data:`DEFAULT_SUBJECT_DEPTH`); ``footprints`` frames are drawn, evenly spaced, first and last included.
    """
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be at least 1, got {width}x{height}")
    if footprints < 1:
        raise ValueError(f"footprints must be at least 1, got {footprints}")
    d = float(depth if depth is not None else traj.meta.get("subject_depth", DEFAULT_SUBJECT_DEPTH))
    if not np.isfinite(d) or d <= 0:
        d = DEFAULT_SUBJECT_DEPTH
    F = traj.num_frames
    K_src = traj.source_K(width, height)
    T = traj.world_T_cam  # [F, 4, 4]
    R, c = T[:, :3, :3], T[:, :3, 3]
    # footprints: the frame's image corners as rays, in its own camera's pixels
    idx = np.unique(np.round(np.linspace(0, F - 1, min(footprints, F))).astype(int))
    w, h = traj.width, traj.height
    px = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    K = traj.K[idx]
    rays = np.stack([(px[None, :, 0] - K[:, 0, 2, None]) / K[:, 0, 0, None],
                     (px[None, :, 1] - K[:, 1, 2, None]) / K[:, 1, 1, None], np.ones((len(idx), 4))], axis=-1)
    dirs = np.einsum("fij,fkj->fki", R[idx], rays)
    corners = _ray_plane(np.broadcast_to(c[idx, None, :], dirs.shape), dirs, d)
    axis = R[:, :, 2]  # each frame's optical axis in the world
    look = _ray_plane(c, axis, d)
    return OverlayGeometry(footprints=_project(K_src, corners), frames=idx, look_at=_project(K_src, look),
                           centres=_project(K_src, c))


def _colour(t: float) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.round(_START + (_END - _START) * t))


def _polyline(img: np.ndarray, pts: np.ndarray, colour, thick: int, dashed: bool = False) -> None:
    """Draw the finite runs of ``pts`` (NaN breaks the line), dark halo under the colour."""
    ok = np.isfinite(pts).all(axis=1)
    runs, cur = [], []
    for p, good in zip(pts, ok):
        if good:
            cur.append(p)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    for run in runs:
        q = np.round(np.asarray(run) * 16).astype(np.int32)
        if len(q) < 2:
            continue
        if dashed:
            for i in range(0, len(q) - 1, 2):
                cv2.line(img, tuple(q[i]), tuple(q[i + 1]), colour, thick, cv2.LINE_AA, shift=4)
            continue
        cv2.polylines(img, [q], False, (0, 0, 0), thick + 2, cv2.LINE_AA, shift=4)
        cv2.polylines(img, [q], False, colour, thick, cv2.LINE_AA, shift=4)


def _label(img: np.ndarray, text: str, at: np.ndarray, colour, scale: float) -> None:
    if not np.isfinite(at).all():
        return
    th = max(1, round(scale * 2))
    (tw, tht), base = cv2.getTextSize(text, _FONT, scale, th)
    h, w = img.shape[:2]
    x = int(np.clip(at[0] + 8 * scale, 2, max(2, w - tw - 2)))
    y = int(np.clip(at[1] - 8 * scale, tht + 2, max(tht + 2, h - base - 2)))
    cv2.rectangle(img, (x - 3, y - tht - 3), (x + tw + 3, y + base + 1), (0, 0, 0), -1)
    cv2.putText(img, text, (x, y), _FONT, scale, colour, th, cv2.LINE_AA)


def draw_overlay(photo: np.ndarray, traj: CameraTrajectory, depth: float | None = None, footprints: int = 5,
                 line_width: float = 1.0) -> np.ndarray:
    """``photo`` (RGB ``uint8 [H, W, 3]``) with the camera path of ``traj`` drawn over it (a new array)."""
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"photo must be RGB uint8 [H, W, 3], got {photo.dtype} {list(photo.shape)}")
    h, w = photo.shape[:2]
    g = project_overlay(traj, w, h, depth, footprints)
    img = np.ascontiguousarray(photo.copy())
    unit = max(1.0, min(w, h) / 400.0) * line_width  # lines and text grow with the photo
    thick = max(1, round(2 * unit))
    n = max(len(g.frames) - 1, 1)
    for k, quad in enumerate(g.footprints):
        _polyline(img, np.vstack([quad, quad[:1]]), _colour(k / n), thick)
    _polyline(img, g.centres, (255, 255, 255), max(1, thick - 1), dashed=True)
    _polyline(img, g.look_at, _LOOK, thick + 1)
    first = np.flatnonzero(np.isfinite(g.look_at).all(axis=1))
    if first.size:
        s, e = g.look_at[first[0]], g.look_at[first[-1]]
        cv2.circle(img, tuple(int(v) for v in np.round(s)), round(4 * unit), _colour(0.0), -1, cv2.LINE_AA)
        cv2.circle(img, tuple(int(v) for v in np.round(e)), round(4 * unit), _colour(1.0), -1, cv2.LINE_AA)
        _label(img, "start", s, _colour(0.0), 0.5 * unit)
        near = float(np.hypot(*(e - s))) < 40 * unit  # labels of a start and end that (nearly) coincide: end below
        _label(img, "end", e + (0, 28 * unit) if near else e, _colour(1.0), 0.5 * unit)
    return img
