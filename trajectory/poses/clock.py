"""What pose files carry beyond the cameras, kept on the trajectory so that no conversion loses it.

A :class:`~draw_to_video.trajectory.camera.model.CameraTrajectory` has no clock and no provenance of its own, so an
importer records them in ``meta`` under these documented keys (they survive the pack's JSON exactly):

* ``meta["timestamps_us"]``: the file's per-frame timestamps in microseconds, as written (ints when integral).
  Exporters write them back when there is one per frame; otherwise they write ``round(i * 1e6 / fps)``.
* ``meta["source"]``: ``{"format": "re10k" | "cameractrl" | "motionctrl", "url": <RE10K's first line, verbatim>,
  "name": <file name>, "pose_size": [w, h]}`` (only the keys the source has).
* ``meta["world_T_first"]``: set by :func:`rebased` - the first camera's pose in the file's world, so re-basing onto
  the first frame (an explicit option, never a side effect of import) can be undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..camera.model import CameraTrajectory, invert_rigid

TIMESTAMPS = "timestamps_us"
SOURCE = "source"
WORLD_T_FIRST = "world_T_first"


def number(v: float) -> int | float:
    """``v`` as an int when it is integral (how RealEstate10K writes timestamps), else the float."""
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def fps_from_us(ts: np.ndarray, default: float | None) -> float | None:
    """Frames per second the median timestamp step (microseconds) implies, or ``default``."""
    d = np.diff(np.asarray(ts, dtype=np.float64))
    if len(d) and np.isfinite(d).all() and (d > 0).all():
        fps = 1e6 / float(np.median(d))
        if 0 < fps <= 1000:
            return fps
    return default


def with_meta(traj: CameraTrajectory, **entries: Any) -> CameraTrajectory:
    """The same cameras with ``meta`` updated (``None`` values remove a key)."""
    meta = {**traj.meta, **entries}
    meta = {k: v for k, v in meta.items() if v is not None}
    return CameraTrajectory(traj.width, traj.height, traj.fps, traj.K, traj.world_T_cam, traj.focus_distance,
                            traj.aperture, traj.intent, traj.preset, meta)


def with_fps(traj: CameraTrajectory, fps: float) -> CameraTrajectory:
    """The same cameras at a nominal ``fps`` (imported timestamps, if any, stay in ``meta``)."""
    return CameraTrajectory(traj.width, traj.height, fps, traj.K, traj.world_T_cam, traj.focus_distance,
                            traj.aperture, traj.intent, traj.preset, traj.meta)


def imported_meta(fmt: str, ts: Sequence[float] | None, **source: Any) -> dict[str, Any]:
    """The ``meta`` an importer of ``fmt`` records (see the module docstring)."""
    meta: dict[str, Any] = {SOURCE: {"format": fmt, **{k: v for k, v in source.items() if v is not None}}}
    if ts is not None:
        meta[TIMESTAMPS] = [number(t) for t in ts]
    return meta


def timestamps_us(traj: CameraTrajectory) -> list[int | float]:
    """Per-frame timestamps (microseconds): the imported ones when there is one per frame, else ``i * 1e6 / fps``."""
    ts = traj.meta.get(TIMESTAMPS)
    if isinstance(ts, list) and len(ts) == traj.num_frames and all(
            isinstance(t, (int, float)) and not isinstance(t, bool) for t in ts):
        return [number(t) for t in ts]
    return [int(round(i * 1e6 / traj.fps)) for i in range(traj.num_frames)]


def times_s(traj: CameraTrajectory) -> np.ndarray:
    """Seconds of each frame from the first one ``[F]`` (from the timestamps; non-increasing ones fall back to fps)."""
    t = (np.asarray(timestamps_us(traj), dtype=np.float64) - float(timestamps_us(traj)[0])) * 1e-6
    if traj.num_frames > 1 and not (np.diff(t) > 0).all():
        t = np.arange(traj.num_frames) / traj.fps
    return t


def source_url(traj: CameraTrajectory) -> str | None:
    """RealEstate10K's first line as imported, if any."""
    src = traj.meta.get(SOURCE)
    url = src.get("url") if isinstance(src, dict) else None
    return url if isinstance(url, str) else None


def rebased(traj: CameraTrajectory) -> CameraTrajectory:
    """The cameras relative to the first one (``world_T_cam[0] = I``), the file's world kept in
    ``meta["world_T_first"]`` (composed when re-based twice) so that :func:`unrebased` restores it."""
    first = traj.world_T_cam[0]
    prev = np.asarray(traj.meta.get(WORLD_T_FIRST, np.eye(4)), dtype=np.float64)
    c2w = invert_rigid(first) @ traj.world_T_cam
    c2w[0] = np.eye(4)
    meta = {**traj.meta, WORLD_T_FIRST: (prev @ first).tolist()}
    return CameraTrajectory(traj.width, traj.height, traj.fps, traj.K, c2w, traj.focus_distance, traj.aperture,
                            traj.intent, traj.preset, meta)


def unrebased(traj: CameraTrajectory) -> CameraTrajectory:
    """Inverse of :func:`rebased` (the trajectory itself when it was never re-based)."""
    if WORLD_T_FIRST not in traj.meta:
        return traj
    first = np.asarray(traj.meta[WORLD_T_FIRST], dtype=np.float64)
    meta = {k: v for k, v in traj.meta.items() if k != WORLD_T_FIRST}
    return CameraTrajectory(traj.width, traj.height, traj.fps, traj.K, first @ traj.world_T_cam, traj.focus_distance,
                            traj.aperture, traj.intent, traj.preset, meta)
