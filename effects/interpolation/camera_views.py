"""Effects that need the camera: true bullet time and camera-aware in-between frames (pure torch + the renderer).

Both re-render real frames through the 2.5D renderer (:mod:`draw_to_video.trajectory.render.warp`) instead of warping in 2D:

* :func:`bullet_time` freezes the clip at one instant and flies the camera around that frozen frame (its depth and a
  camera path, e.g. the ``bullet_time`` or ``orbit`` preset), then resumes the clip.
* :func:`camera_interpolate` makes the in-betweens of a clip whose camera path and per-frame depth are known: the
  camera pose of each in-between is interpolated (rotation by slerp, position, intrinsics, focus linearly) and both
  neighbouring frames are re-projected into it and blended by visibility; where neither sees a pixel, a fallback
  (e.g. optical-flow interpolation) fills it.

Cameras follow :mod:`draw_to_video.trajectory.conventions`.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.transform import Rotation, Slerp

from ...trajectory.checks import CancelFn, ProgressFn, poll
from ...trajectory.render.warp import FILL_MODES, render_views
from .._core import check_frames, fail


def _as_np(x: object, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    a = np.array(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)  # a writable copy
    if a.shape[1:] != shape_tail or a.ndim != len(shape_tail) + 1 or not np.isfinite(a).all():
        fail(f"{name} must be finite with shape [N,{','.join(map(str, shape_tail))}], got {a.shape}")
    return a


def bullet_time(frames: torch.Tensor, depth: torch.Tensor, K: object, cam_T_src: object, *, at: int,
                round_trip: bool = True, fill: str = FILL_MODES[0], chunk: int = 4,
                progress: ProgressFn | None = None,
                cancel: CancelFn | None = None) -> torch.Tensor:
    """Freeze ``frames [F,H,W,C]`` at index ``at`` and orbit it: ``frames[:at+1]``, the frozen frame rendered from
    the ``N`` cameras ``K [N,3,3]``/``cam_T_src [N,4,4]`` (source = the camera of frame ``at``, ``K[0]`` its
    intrinsics) and, with ``round_trip``, back along the same path, then ``frames[at+1:]``.

    ``depth [H,W]`` is the frozen frame's depth (scene units). All output frames of the frozen moment come from the
    one source instant. Returns ``[F + N (x2), H, W, C]``.
    """
    frames = check_frames(frames)
    n, h, w, c = frames.shape
    if not isinstance(at, int) or not 0 <= at < n:
        fail(f"at must be a frame index in 0..{n - 1}, got {at!r}")
    Ks = _as_np(K, (3, 3), "K")
    T = _as_np(cam_T_src, (4, 4), "cam_T_src")
    if len(Ks) != len(T):
        fail(f"K has {len(Ks)} cameras but cam_T_src {len(T)}")
    d = torch.as_tensor(depth, dtype=torch.float32, device=frames.device)
    if d.shape != (h, w):
        fail(f"depth must be [H,W] = [{h},{w}] like the frames, got {tuple(d.shape)}")
    src = frames[at].permute(2, 0, 1).float()
    views = render_views(src, d, torch.from_numpy(Ks[0]), torch.from_numpy(Ks), torch.from_numpy(T), out_hw=(h, w),
                         fill=fill, chunk=chunk, progress=progress, cancel=cancel).frames
    orbit = views.permute(0, 2, 3, 1).clamp(0, 1).to(frames.dtype)
    if round_trip:
        orbit = torch.cat([orbit, orbit.flip(0)[1:]])  # back to the start pose, which is the frozen frame itself
    return torch.cat([frames[: at + 1], orbit, frames[at + 1:]])


def interpolate_poses(K: np.ndarray, world_T_cam: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cameras at fractional frame ``positions``: slerp of rotations, linear positions and intrinsics."""
    n = len(K)
    pos = np.clip(np.asarray(positions, dtype=np.float64), 0, n - 1)
    if n == 1:
        return np.repeat(K, len(pos), 0), np.repeat(world_T_cam, len(pos), 0)
    k = np.minimum(np.floor(pos).astype(int), n - 2)
    t = (pos - k)[:, None]
    Kp = K[k] * (1 - t[..., None]) + K[k + 1] * t[..., None]
    out = np.repeat(np.eye(4)[None], len(pos), 0)
    out[:, :3, 3] = world_T_cam[k, :3, 3] * (1 - t) + world_T_cam[k + 1, :3, 3] * t
    rot = Slerp(np.arange(n), Rotation.from_matrix(world_T_cam[:, :3, :3]))(pos)
    out[:, :3, :3] = rot.as_matrix()
    return Kp, out


def camera_interpolate(frames: torch.Tensor, depths: torch.Tensor, K: object, world_T_cam: object,
                       positions: np.ndarray, *, fallback: torch.Tensor | None = None,
                       progress: ProgressFn | None = None,
                       cancel: CancelFn | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames at fractional ``positions`` (in ``[0, F-1]``) of a clip with known cameras and per-frame depth.

    ``frames [F,H,W,C]``, ``depths [F,H,W]`` (scene units; ``<= 0`` = unknown), ``K [F,3,3]`` and ``world_T_cam
    [F,4,4]`` for the frames' size. Integer positions copy frames bit-exactly. ``fallback [P,H,W,C]`` (e.g. flow
    interpolation at the same positions) fills pixels neither neighbour sees; without it they are left black.
    Returns ``(out [P,H,W,C], covered [P,H,W])`` with ``covered`` = 1 where the camera re-projection gave the pixel.
    """
    frames = check_frames(frames)
    n, h, w, c = frames.shape
    Ks = _as_np(K, (3, 3), "K")
    T = _as_np(world_T_cam, (4, 4), "world_T_cam")
    if len(Ks) != n or len(T) != n or tuple(depths.shape) != (n, h, w):
        fail(f"need K [{n},3,3], world_T_cam [{n},4,4] and depths [{n},{h},{w}] for {n} frames")
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 1 or not np.isfinite(pos).all() or (pos < 0).any() or (pos > n - 1).any():
        fail(f"positions must be finite and within [0, {n - 1}]")
    if fallback is not None and tuple(fallback.shape) != (len(pos), h, w, c):
        fail(f"fallback must be [{len(pos)},{h},{w},{c}], got {tuple(fallback.shape)}")
    Kp, Tp = interpolate_poses(Ks, T, pos)
    cam_T_world = np.linalg.inv(Tp)
    out = torch.zeros((len(pos), h, w, c), dtype=frames.dtype, device=frames.device)
    covered = torch.zeros((len(pos), h, w), dtype=torch.float32, device=frames.device)
    for j, p in enumerate(pos):
        poll(cancel, "camera interpolation")
        k = int(np.floor(p))
        t = p - k
        if t == 0.0:
            out[j] = frames[k]
            covered[j] = 1.0
        else:
            acc = torch.zeros((c, h, w), device=frames.device)
            wsum = torch.zeros((h, w), device=frames.device)
            for idx, weight in ((k, 1.0 - t), (k + 1, t)):
                rel = cam_T_world[j] @ T[idx]  # camera idx -> camera at position j
                r = render_views(frames[idx].permute(2, 0, 1).float(), depths[idx].float(), torch.from_numpy(Ks[idx]),
                                 torch.from_numpy(Kp[j][None]), torch.from_numpy(rel[None]), out_hw=(h, w), fill="none")
                acc += weight * r.visible[0] * r.frames[0]
                wsum += weight * r.visible[0]
            seen = wsum > 1e-6
            img = (acc / wsum.clamp_min(1e-6)).permute(1, 2, 0)
            if fallback is not None:
                img = torch.where(seen[..., None], img, fallback[j].float())
            out[j] = img.clamp(0, 1).to(frames.dtype)
            covered[j] = seen.float()
        if progress is not None:
            progress(j + 1, len(pos))
    return out, covered
