"""Interoperability: RealEstate10K pose text, ComfyUI ``CAMERACTRL_POSES``, MotionCtrl ``RT``, core's Wan embedding.

All of them store the **world-to-camera** ``[R | t]`` (``cam_T_world``, 3x4, row-major) and, where they
have intrinsics, *normalised* ones for an image spanning ``[0, 1]``; :func:`draw_to_video.trajectory.camera.model.normalised_intrinsics`
converts with the half-pixel shift of our pixel-centre convention (``cx_n = (cx + 0.5) / W``).

* **RealEstate10K** (the text CameraCtrl reads): first line a URL (any text), then one line per frame
  ``timestamp_us fx_n fy_n cx_n cy_n 0 0 r11 r12 r13 t1 r21 r22 r23 t2 r31 r32 r33 t3``.
* **CAMERACTRL_POSES** - read in Kosinkadink/ComfyUI-AnimateDiff-Evolved ``animatediff/nodes_cameractrl.py``
  (``LoadCameraPosesFromFile``, ``CameraCtrlPoseBasic`` via ``ndarray_to_poses``) and
  ``animatediff/adapter_cameractrl.py`` (``CameraEntry``, ``prepare_pose_embedding``), and in
  kijai/ComfyUI-WanVideoWrapper ``fun_camera/nodes.py`` (``Camera``, ``process_poses``,
  ``WanVideoFunCameraEmbeds``): a Python ``list`` with one ``list`` of 19 floats per frame,
  ``[timestamp, fx_n, fy_n, cx_n, cy_n, pose_w, pose_h, *w2c 3x4 row-major]`` - the RE10K row with
  indices 5 and 6 holding the size the poses were made for (AnimateDiff-Evolved's loaders set them
  to 1280, 720; ``CameraEntry`` divides by them, so they must not be 0 there). Both consumers then
  "correct" the focal length for their sample aspect ratio ``S = W/H`` against the pose aspect
  ``P = pose_w/pose_h``: if ``P > S`` ``fx_n *= H*P/W`` else ``fy_n *= W/(P*H)``. AnimateDiff-Evolved
  takes ``P`` from indices 5-6; the Wan wrapper always assumes 1280x720. :func:`to_cameractrl_poses`
  writes the trajectory's own size there (AnimateDiff then uses K exactly); with
  ``pose_size=(1280, 720)`` it writes that and pre-divides the focal so that both consumers recover
  the trajectory's K exactly when sampling at its size.
* **MotionCtrl** (TencentARC/MotionCtrl ``main/evaluation/motionctrl_inference.py`` ``load_camera_pose``
  reads a JSON ``[t, 12]``; ``motionctrl/data/realestate10k.py`` fills it from RE10K columns 7..18,
  made relative to frame 0 by ``motionctrl/data/utils.py`` ``create_relative``): per frame the 12
  floats of the world-to-camera ``[R | t]``, row-major, relative to the first frame.
* **WAN_CAMERA_EMBEDDING** (ComfyUI core ``comfy_extras/nodes_camera_trajectory.py``): see
  :mod:`.wan` (re-exported here).

Nothing is lost on import: poses stay absolute in the file's world (``relative=True`` re-bases onto the first frame
explicitly, keeping the file's world in ``meta``), and the timestamps, the URL line and the pose size go into the
trajectory's ``meta`` (see :mod:`.clock`), from where the exporters write them back. The one change is the print
precision: a 3x3 block off a rotation by up to 1e-3 is snapped to the nearest rotation (SVD).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..camera.model import (
    CameraTrajectory,
    K_from_fov,
    TrajectoryError,
    invert_rigid,
    normalised_intrinsics,
    pixel_intrinsics,
)
from .clock import fps_from_us, imported_meta, number, rebased, source_url, timestamps_us
from .wan import to_wan_embedding, wan_cam_params

__all__ = ["to_re10k", "from_re10k", "to_cameractrl_poses", "from_cameractrl_poses", "to_motionctrl",
           "from_motionctrl", "to_wan_embedding", "wan_cam_params", "orthonormalise"]

DEFAULT_URL = "https://github.com/draw-to-video/draw-to-video (generated camera path)"
_ORTHO_TOL = 1e-3  # imported rotations may be this far from orthonormal (printed precision); snapped by SVD


def orthonormalise(R: np.ndarray, where: Sequence[str]) -> np.ndarray:
    """Nearest proper rotations ``[F, 3, 3]`` (SVD); rows off by more than 1e-3 raise naming ``where[f]``."""
    U, _, Vt = np.linalg.svd(R)
    D = np.ones(R.shape[:-1])
    D[:, 2] = np.sign(np.linalg.det(U @ Vt))
    Q = (U * D[:, None, :]) @ Vt
    err = np.abs(Q - R).max(axis=(1, 2))
    bad = np.flatnonzero(~(err <= _ORTHO_TOL))
    if bad.size:
        f = int(bad[0])
        raise TrajectoryError(f"{where[f]}: the 3x3 block is not a rotation (off by {err[f]:.3g})")
    return Q


def _w2c(traj: CameraTrajectory, relative: bool) -> np.ndarray:
    return (rebased(traj) if relative else traj).cam_T_world()[:, :3, :]


def _build(norm: np.ndarray, w2c: np.ndarray, width: int, height: int, fps: float, relative: bool,
           where: Sequence[str], preset: str, meta: dict[str, Any]) -> CameraTrajectory:
    bad = np.flatnonzero(~((norm[:, 0] > 0) & (norm[:, 1] > 0)))
    if bad.size:
        raise TrajectoryError(f"{where[int(bad[0])]}: fx and fy must be > 0")
    T = np.zeros((len(w2c), 4, 4))
    T[:, :3, :3] = orthonormalise(w2c[:, :, :3], where)
    T[:, :3, 3] = w2c[:, :, 3]
    T[:, 3, 3] = 1.0
    K = pixel_intrinsics(norm, width, height)
    F = len(w2c)
    traj = CameraTrajectory(width, height, fps, K, invert_rigid(T), np.ones(F), np.full(F, 2.8), preset=preset,
                            meta=meta)
    return rebased(traj) if relative else traj


def _ts_text(t: int | float) -> str:
    return str(t) if isinstance(t, int) else repr(t)


# -- RealEstate10K ---------------------------------------------------------------------------------


def to_re10k(traj: CameraTrajectory, url: str | None = None, relative: bool = False) -> str:
    """RealEstate10K / CameraCtrl pose text (see the module docstring); floats at full precision.

    The first line is ``url``, else the imported URL line (``meta["source"]["url"]``), else a generic one; the
    timestamps are the imported ones when there is one per frame (see :mod:`.clock`). ``relative`` writes the poses
    relative to the first frame.
    """
    first = url if url is not None else source_url(traj)
    first = " ".join(first.splitlines()) if first is not None else DEFAULT_URL
    norm = normalised_intrinsics(traj.K, traj.width, traj.height).tolist()
    w2c = _w2c(traj, relative).reshape(-1, 12).tolist()
    lines = [first]
    for ts, n, m in zip(timestamps_us(traj), norm, w2c):
        lines.append(" ".join([_ts_text(ts), *map(repr, n), "0", "0", *map(repr, m)]))
    return "\n".join(lines) + "\n"


def from_re10k(text: str, width: int, height: int, fps: float | None = None, relative: bool = False,
               name: str | None = None) -> CameraTrajectory:
    """Parse RealEstate10K pose text into a trajectory for a ``width x height`` image.

    Poses stay absolute (the file's world); ``relative`` re-bases them onto the first frame. The URL line and the
    timestamps go into ``meta`` (see :mod:`.clock`); ``fps`` defaults to the one the timestamps (microseconds) imply,
    else 24. ``name`` (a file name) is recorded as the source's name. Errors name the line.
    """
    if not isinstance(text, str):
        raise TrajectoryError(f"RealEstate10K text must be a str, got {type(text).__name__}")
    lines = text.splitlines()
    rows, where, ts = [], [], []
    for n, raw in enumerate(lines[1:], start=2):
        tok = raw.split()
        if not tok:
            continue
        if len(tok) != 19:
            raise TrajectoryError(f"line {n}: expected 19 values (timestamp fx fy cx cy 0 0 and 12 pose values), "
                                  f"got {len(tok)}")
        vals = []
        for j, s in enumerate(tok, start=1):
            try:
                v = float(s)
            except ValueError:
                what = "the timestamp" if j == 1 else f"value {j}"
                raise TrajectoryError(f"line {n}: {what} ({s[:20]!r}) is not a number") from None
            if not math.isfinite(v):
                raise TrajectoryError(f"line {n}: value {j} is not finite")
            vals.append(v)
        ts.append(vals[0])
        rows.append(vals[1:])
        where.append(f"line {n}")
    if not rows:
        raise TrajectoryError("RealEstate10K text has no pose lines (the first line is the URL)")
    a = np.asarray(rows)
    if fps is None:
        fps = fps_from_us(np.asarray(ts), 24.0)
    meta = imported_meta("re10k", ts, url=lines[0].rstrip("\r"), name=name)
    return _build(a[:, :4], a[:, 6:].reshape(-1, 3, 4), width, height, fps, relative, where, "re10k", meta)


# -- CAMERACTRL_POSES ------------------------------------------------------------------------------


def _aspect_factor(width: int, height: int, pose_size: tuple[float, float]) -> tuple[int, float]:
    """(axis, factor) the consumers multiply ``fx_n`` (axis 0) or ``fy_n`` (axis 1) by."""
    P, S = pose_size[0] / pose_size[1], width / height
    return (0, height * P / width) if P > S else (1, width / (P * height))


def to_cameractrl_poses(traj: CameraTrajectory, pose_size: tuple[int, int] | None = None,
                        relative: bool = False) -> list[list[float]]:
    """``CAMERACTRL_POSES`` (see the module docstring): ``F`` lists of 19 floats."""
    norm = normalised_intrinsics(traj.K, traj.width, traj.height)
    size = (float(traj.width), float(traj.height)) if pose_size is None else tuple(map(float, pose_size))
    if not (len(size) == 2 and min(size) > 0 and all(map(math.isfinite, size))):
        raise TrajectoryError(f"pose_size must be two positive numbers, got {pose_size!r}")
    axis, k = _aspect_factor(traj.width, traj.height, size)
    norm[:, axis] /= k
    w2c = _w2c(traj, relative).reshape(-1, 12)
    return [[float(ts), *n, size[0], size[1], *m] for ts, n, m in zip(timestamps_us(traj), norm.tolist(), w2c.tolist())]


def _table(rows: Any, cols: int, name: str) -> np.ndarray:
    if isinstance(rows, str):
        try:
            rows = json.loads(rows)
        except json.JSONDecodeError as e:
            raise TrajectoryError(f"{name}: invalid JSON: {e}") from None
    try:
        a = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise TrajectoryError(f"{name} must be a list of lists of {cols} numbers") from None
    if a.ndim == 3 and a.shape[1:] == (3, 4) and cols == 12:
        a = a.reshape(-1, 12)
    if a.ndim != 2 or a.shape[1] != cols or len(a) < 1:
        raise TrajectoryError(f"{name} must have shape [F, {cols}] with F >= 1, got {list(a.shape)}")
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        raise TrajectoryError(f"{name}[{bad[0][0]}][{bad[0][1]}] is not finite")
    return a


def from_cameractrl_poses(poses: Any, width: int, height: int, fps: float | None = None,
                          relative: bool = False) -> CameraTrajectory:
    """Load ``CAMERACTRL_POSES`` for a ``width x height`` image (undoing the aspect correction when
    indices 5-6 hold a pose size, as AnimateDiff-Evolved would apply it). Like :func:`from_re10k`, poses stay
    absolute unless ``relative``; timestamps and the pose size go into ``meta``."""
    a = _table(poses, 19, "poses")
    norm = a[:, 1:5].copy()
    sized = (a[:, 5] > 0) & (a[:, 6] > 0)
    P = np.where(sized, a[:, 5], width) / np.where(sized, a[:, 6], height)
    S = width / height
    wide = sized & (P > S)
    norm[:, 0] *= np.where(wide, height * P / width, 1.0)
    norm[:, 1] *= np.where(sized & ~wide, width / (P * height), 1.0)
    if fps is None:
        fps = fps_from_us(a[:, 0], 24.0)
    where = [f"poses[{i}]" for i in range(len(a))]
    size = [number(a[0, 5]), number(a[0, 6])] if sized.all() and (a[:, 5:7] == a[0, 5:7]).all() else None
    meta = imported_meta("cameractrl", a[:, 0].tolist(), pose_size=size)
    return _build(norm, a[:, 7:].reshape(-1, 3, 4), width, height, fps, relative, where, "cameractrl", meta)


# -- MotionCtrl ------------------------------------------------------------------------------------


def to_motionctrl(traj: CameraTrajectory, relative: bool = True) -> list[list[float]]:
    """MotionCtrl ``RT``: ``F`` lists of 12 floats, world-to-camera ``[R | t]`` row-major, relative to frame 0 (the
    format's definition). It cannot hold the intrinsics, the clock, the image size, the lens, the file's world
    (the first pose) or ``meta``."""
    return _w2c(traj, relative).reshape(-1, 12).tolist()


def from_motionctrl(rt: Any, width: int, height: int, fov_deg: float | None = 50.0, K: np.ndarray | None = None,
                    fps: float = 24.0, relative: bool = False, name: str | None = None) -> CameraTrajectory:
    """Load a MotionCtrl ``RT`` (``[F, 12]``, ``[F, 3, 4]`` or its JSON text) as it is (the format is relative to
    frame 0 by definition; ``relative`` re-bases a file that is not); intrinsics from ``K`` (``[3, 3]`` or
    ``[F, 3, 3]`` pixels for ``width x height``) or else the vertical ``fov_deg``."""
    a = _table(rt, 12, "RT")
    if K is None:
        if fov_deg is None:
            raise TrajectoryError("from_motionctrl needs fov_deg or K")
        Kf = np.broadcast_to(K_from_fov(fov_deg, width, height), (len(a), 3, 3))
    else:
        Kf = np.asarray(K, dtype=np.float64)
        if Kf.shape == (3, 3):
            Kf = np.broadcast_to(Kf, (len(a), 3, 3))
        if Kf.shape != (len(a), 3, 3):
            raise TrajectoryError(f"K must be [3, 3] or [{len(a)}, 3, 3], got {list(Kf.shape)}")
    norm = normalised_intrinsics(Kf, width, height)
    where = [f"RT[{i}]" for i in range(len(a))]
    meta = imported_meta("motionctrl", None, name=name)
    return _build(norm, a.reshape(-1, 3, 4), width, height, fps, relative, where, "motionctrl", meta)
