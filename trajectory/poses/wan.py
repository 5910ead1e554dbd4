"""ComfyUI core's ``WAN_CAMERA_EMBEDDING`` (Plücker rays) for a :class:`draw_to_video.trajectory.camera.model.CameraTrajectory`.

Read from core's ``comfy_extras/nodes_camera_trajectory.py`` (ComfyUI 0.3.75, node ``WanCameraEmbedding``,
functions ``process_pose_params``, ``Camera``, ``ray_condition``); this is an independent vectorised
implementation producing the same tensor. What core does, step by step:

1. ``cam_params`` rows of 23 floats ``[0, fx_n, fy_n, cx_n, cy_n, 0, 0, *c2w 4x4 row-major]`` - note
   core's ``Camera`` reads a **4x4 camera-to-world** from index 7 (CameraCtrl's reads a 3x4
   world-to-camera). :func:`wan_cam_params` returns exactly these rows for a trajectory.
2. Aspect "correction" against a fixed 1280x720 pose size: with ``P = 1280/720`` and ``S = W/H``,
   ``fx_n *= H*P/W`` if ``P > S`` else ``fy_n *= W/(P*H)``. Intrinsics in pixels:
   ``(fx_n W, fy_n H, cx_n W, cy_n H)`` (float64, then float32).
3. Poses relative to frame 0: ``c2w_0 = I``, ``c2w_i = inv(c2w_0) c2w_i`` (float64, then float32).
4. For pixel column ``i`` and row ``j`` (float32 from here): ``d = normalise(((i + 0.5 - cx)/fx,
   (j + 0.5 - cy)/fy, 1))`` rotated to the world, ``d_w = R d``; origin ``o = t``; Plücker ``(o x d_w, d_w)``.
5. Layout: ``[F, H, W, 6]`` -> ``[1, 6, F, H, W]``; the first frame repeated 3 more times (``F + 3``
   frames, which must be a multiple of 4, so ``F = 4k + 1``); groups of 4 consecutive frames are
   folded into the channels: output ``[1, 24, (F + 3) / 4, H, W]`` float32 with
   ``out[0, 4 c + k, g] = plucker_c(frame max(4 g + k - 3, 0))``.

With our half-pixel convention ``cx_n W = cx + 0.5``, so core's ray for pixel ``(j, i)`` passes exactly
through our pixel centre ``u = i, v = j``. ``exact_intrinsics=True`` pre-divides step 2's factor so the
rays use the trajectory's own ``K``; the default reproduces core (the lead's cross-check feeds
:func:`wan_cam_params` to core's ``process_pose_params`` and compares).
"""

from __future__ import annotations

import numpy as np
import torch

from ..camera.model import CameraTrajectory, normalised_intrinsics

CORE_POSE_SIZE = (1280, 720)  #: the pose size core's process_pose_params assumes
_CHUNK_PIXELS = 1 << 22  # ray rows computed per chunk (bounds the temporary memory)


def _size(traj: CameraTrajectory, width: int | None, height: int | None) -> tuple[CameraTrajectory, int, int]:
    w = traj.width if width is None else width
    h = traj.height if height is None else height
    return (traj if (w, h) == (traj.width, traj.height) else traj.rescaled(w, h)), int(w), int(h)


def _core_factor(width: int, height: int) -> tuple[int, float]:
    P = CORE_POSE_SIZE[0] / CORE_POSE_SIZE[1]
    if P > width / height:
        return 0, height * P / width
    return 1, width / P / height


def wan_cam_params(traj: CameraTrajectory, width: int | None = None, height: int | None = None,
                   exact_intrinsics: bool = False) -> np.ndarray:
    """The ``[F, 23]`` float64 ``cam_params`` core's ``process_pose_params`` takes for this trajectory."""
    tr, w, h = _size(traj, width, height)
    norm = normalised_intrinsics(tr.K, w, h)
    if exact_intrinsics:
        axis, k = _core_factor(w, h)
        norm[:, axis] /= k
    out = np.zeros((tr.num_frames, 23))
    out[:, 1:5] = norm
    out[:, 7:] = tr.world_T_cam.reshape(-1, 16)
    return out


def _pixel_intrinsics(params: np.ndarray, width: int, height: int) -> np.ndarray:
    fx, fy, cx, cy = (params[:, i].copy() for i in range(1, 5))
    pose_ratio = CORE_POSE_SIZE[0] / CORE_POSE_SIZE[1]
    if pose_ratio > width / height:
        fx = height * pose_ratio * fx / width
    else:
        fy = width / pose_ratio * fy / height
    return np.stack([fx * width, fy * height, cx * width, cy * height], axis=-1).astype(np.float32)


def _relative_c2w(params: np.ndarray) -> np.ndarray:
    c2w = params[:, 7:].reshape(-1, 4, 4)
    rel = np.matmul(np.linalg.inv(c2w[0]), c2w)
    rel[0] = np.eye(4)
    return rel.astype(np.float32)


def plucker_rays(intr: torch.Tensor, c2w: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Plücker rays ``[n, H, W, 6]`` = ``(o x d, d)`` for intrinsics ``[n, 4]`` and camera-to-world ``[n, 4, 4]``."""
    dev, dt = intr.device, intr.dtype
    i = (torch.arange(width, device=dev, dtype=dt) + 0.5).repeat(height)
    j = (torch.arange(height, device=dev, dtype=dt) + 0.5).repeat_interleave(width)
    fx, fy, cx, cy = intr[:, 0:1], intr[:, 1:2], intr[:, 2:3], intr[:, 3:4]
    xs = (i[None] - cx) / fx
    ys = (j[None] - cy) / fy
    dirs = torch.stack((xs, ys, torch.ones_like(xs)), dim=-1)
    dirs = dirs / dirs.norm(dim=-1, keepdim=True)
    rays_d = dirs @ c2w[:, :3, :3].transpose(-1, -2)
    rays_o = c2w[:, None, :3, 3].expand_as(rays_d)
    moment = torch.linalg.cross(rays_o, rays_d, dim=-1)
    return torch.cat([moment, rays_d], dim=-1).reshape(-1, height, width, 6)


def to_wan_embedding(traj: CameraTrajectory, width: int | None = None, height: int | None = None,
                     exact_intrinsics: bool = False, device: str | torch.device = "cpu") -> torch.Tensor:
    """``WAN_CAMERA_EMBEDDING`` ``[1, 24, (F + 3) // 4, H, W]`` float32, as core's ``WanCameraEmbedding`` returns it.

    ``width x height`` default to the trajectory's size (K is rescaled otherwise). ``F`` must be ``4k + 1``.
    """
    F = traj.num_frames
    if F % 4 != 1:
        raise ValueError(f"the Wan camera embedding needs 4k+1 frames (core packs 4 frames per latent after "
                         f"repeating the first 3 times), got {F}")
    params = wan_cam_params(traj, width, height, exact_intrinsics)
    w = traj.width if width is None else int(width)
    h = traj.height if height is None else int(height)
    intr = torch.from_numpy(_pixel_intrinsics(params, w, h)).to(device)
    c2w = torch.from_numpy(_relative_c2w(params)).to(device)
    G = (F + 3) // 4
    out = torch.empty((1, 24, G, h, w), dtype=torch.float32, device=device)
    view = out[0].view(6, 4, G, h, w)  # channel 4c + k
    step = max(1, _CHUNK_PIXELS // max(1, h * w))
    for a in range(0, F, step):  # chunks of frames bound the temporary memory; one chunk for small videos
        b = min(F, a + step)
        rays = plucker_rays(intr[a:b], c2w[a:b], h, w).permute(3, 0, 1, 2)  # [6, n, H, W]
        padded = torch.arange(a + 3, b + 3, device=device)  # frame f sits at padded index f + 3 ...
        src = torch.arange(0, b - a, device=device)
        if a == 0:  # ... and frame 0 also at 0, 1, 2
            padded = torch.cat([torch.arange(3, device=device), padded])
            src = torch.cat([torch.zeros(3, dtype=src.dtype, device=device), src])
        view[:, padded % 4, padded // 4] = rays[:, src]
    return out
