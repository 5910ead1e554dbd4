"""Camera fidelity of a clip against a :class:`draw_to_video.trajectory.camera.model.CameraTrajectory`: the adapter the node and the CLI share."""

from __future__ import annotations

import math

import numpy as np

from ..camera.model import CameraTrajectory
from ..checks import check_shape
from .estimate import FidelityError, score

SUMMARY_KEYS = ("rot_err_deg", "trans_dir_err_deg", "focal_err", "n_frames", "degenerate_frames",
                "static_translation_frames")


def score_clip(frames: np.ndarray, traj: CameraTrajectory) -> dict:
    """Score ``frames`` (``[F,H,W,3]``, uint8 or float 0..1) against ``traj`` (same frame count; any frame size: the
    intrinsics are rescaled to the clip). The world is the source camera, so the requested motion is
    ``cam_T_world`` (see :mod:`draw_to_video.trajectory.conventions`)."""
    arr = np.asarray(frames)
    check_shape(arr, "F H W 3|4", "frames", error=FidelityError)
    if arr.shape[0] != traj.num_frames:
        raise FidelityError(f"the clip has {arr.shape[0]} frames but the trajectory {traj.num_frames}; "
                            "score the clip before retiming or interpolating it")
    h, w = arr.shape[1:3]
    return score(arr[..., :3], traj.rescaled(w, h).K, traj.cam_T_world())


def json_safe(obj: object) -> object:
    """Arrays to lists and non-finite floats to None, recursively (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in (obj.tolist() if isinstance(obj, np.ndarray) else obj)]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def summary(report: dict, per_frame: bool = False) -> dict:
    """The JSON-safe headline of a :func:`score_clip` report (NaN becomes null), optionally with the per-frame data."""
    keys = SUMMARY_KEYS + (("per_frame",) if per_frame else ())
    return json_safe({k: report[k] for k in keys})  # type: ignore[return-value]
