"""A real camera path (a RealEstate10K, MotionCtrl or pack trajectory file) as the camera of a shot on a photo.

:func:`fit_camera_path` makes an imported trajectory the camera of a render of ``frames`` frames at ``fps`` for a
``width x height`` photo, in four documented steps:

1. **World.** The path is re-based onto its first camera (the render's world is the photo's camera, see
   :mod:`draw_to_video.trajectory.conventions`); the file's world is kept in ``meta["world_T_first"]``.
2. **Clock.** Output frame ``k`` is at ``t_k = k / fps`` seconds on the file's own clock (its timestamps, see
   :mod:`.clock`; a dropped frame is bridged) with ``timing="source_clock"``, holding the last pose past the end;
   ``timing="fit_to_frames"`` spreads the whole path over the frames instead. Between two samples the camera centre,
   the normalised intrinsics and the lens are interpolated linearly and the rotation by slerp.
3. **Scale** (RealEstate10K is up to scale). Translations are multiplied by ``scale`` times:
   ``"median_depth"`` - the photo's median depth (one unit of the file = the median scene depth, i.e. the depth map
   normalised so its median is 1); ``"travel"`` - the photo's median depth over the path's largest distance from its
   first camera (so that distance becomes ``scale`` x the median depth, whatever the file's units); ``"none"`` - 1.
4. **Intrinsics.** ``keep_intrinsics`` keeps the file's (normalised, so they fit any size: fx != fy and an
   off-centre principal point survive), else a square-pixel centred ``K`` of vertical ``fov_deg``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from ..camera.model import CameraTrajectory, K_from_fov, TrajectoryError, normalised_intrinsics, pixel_intrinsics
from .clock import TIMESTAMPS, rebased, times_s

TIMINGS = ("source_clock", "fit_to_frames")
SCALINGS = ("median_depth", "travel", "none")


def _weights(src: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left sample index and blend weight ``[n]`` of times ``t`` on the increasing sample times ``src``."""
    if len(src) == 1:
        return np.zeros(len(t), dtype=np.int64), np.zeros(len(t))
    i = np.clip(np.searchsorted(src, t, side="right") - 1, 0, len(src) - 2)
    w = np.clip((t - src[i]) / (src[i + 1] - src[i]), 0.0, 1.0)
    return i, w


def _lerp(a: np.ndarray, i: np.ndarray, w: np.ndarray) -> np.ndarray:
    if len(a) == 1:
        return np.repeat(a, len(i), axis=0)
    ww = w.reshape((-1,) + (1,) * (a.ndim - 1))
    return a[i] * (1.0 - ww) + a[i + 1] * ww


def fit_camera_path(traj: CameraTrajectory, frames: int, fps: float, width: int, height: int, *,
                    timing: str = "source_clock", scaling: str = "travel", scale: float = 0.25,
                    median_depth: float = 1.0, keep_intrinsics: bool = True, fov_deg: float = 50.0) -> CameraTrajectory:
    """``traj`` as the camera of a ``frames``-frame shot at ``fps`` on a ``width x height`` photo whose median depth
    is ``median_depth`` (scene units); see the module docstring for the rule of each step."""
    if timing not in TIMINGS:
        raise TrajectoryError(f"timing must be one of {', '.join(TIMINGS)}, got {timing!r:.40}")
    if scaling not in SCALINGS:
        raise TrajectoryError(f"scaling must be one of {', '.join(SCALINGS)}, got {scaling!r:.40}")
    if not (isinstance(frames, int) and frames >= 1):
        raise TrajectoryError(f"frames must be an integer >= 1, got {frames!r:.40}")
    for name, v in (("fps", fps), ("scale", scale), ("median_depth", median_depth)):
        if not (np.isfinite(v) and v > 0):
            raise TrajectoryError(f"{name} must be a finite number > 0, got {v!r:.40}")
    rel = rebased(traj)
    src = times_s(rel)
    t = np.arange(frames) / float(fps) if timing == "source_clock" else np.linspace(0.0, src[-1], frames)
    i, w = _weights(src, t)
    rots = Rotation.from_matrix(rel.world_T_cam[:, :3, :3])
    R = (Slerp(src, rots)(np.clip(t, 0.0, src[-1])) if len(src) > 1 else rots[np.zeros(frames, dtype=int)]).as_matrix()
    c = _lerp(rel.world_T_cam[:, :3, 3], i, w)
    factor = float(scale)
    if scaling != "none":
        factor *= float(median_depth)
    if scaling == "travel":
        reach = float(np.linalg.norm(c - c[0], axis=1).max())
        factor = factor / reach if reach > 1e-12 else factor
    T = np.tile(np.eye(4), (frames, 1, 1))
    T[:, :3, :3] = R
    T[:, :3, 3] = c * factor
    if keep_intrinsics:
        K = pixel_intrinsics(_lerp(normalised_intrinsics(rel.K, rel.width, rel.height), i, w), width, height)
    else:
        K = np.broadcast_to(K_from_fov(fov_deg, width, height), (frames, 3, 3))
    meta = {k: v for k, v in rel.meta.items() if k != TIMESTAMPS}
    meta["fit"] = {"timing": timing, "scaling": scaling, "scale": float(scale), "translation_factor": factor,
                   "median_depth": float(median_depth), "source_frames": traj.num_frames,
                   "source_seconds": float(src[-1]), "keep_intrinsics": bool(keep_intrinsics)}
    return CameraTrajectory(width, height, fps, K, T, _lerp(rel.focus_distance, i, w), _lerp(rel.aperture, i, w),
                            rel.intent, rel.preset, meta)
