"""The 2.5D render as node glue, shared by the render nodes and the camera-effect nodes: ComfyUI IMAGE in, the
frames, visibility and seen depth out, on ComfyUI's devices with a progress bar and the cancel hook."""

from __future__ import annotations

import comfy.model_management as mm
import comfy.utils
import torch
from comfy_api.latest import io

from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.checks import check_shape
from ..trajectory.render.warp import FILL_MODES, iter_render
from .base import DepthValue, cancel_hook

FILLS = list(FILL_MODES)  # the first is the default
#: what a prompt that leaves the optional ``supersample`` out gets (graphs saved before it existed keep their bytes)
LEGACY_SUPERSAMPLE = 1


def supersample_input(default: int) -> io.Int.Input:
    """The render's ``supersample`` widget (the same range and tooltip on every node that renders)."""
    return io.Int.Input("supersample", default=default, min=1, max=4, optional=True,
                        tooltip="Render each frame at this many times the width and height and average it down: 2 "
                                "stops thin parts and outlines shimmering as they move, at about 5 times the render "
                                "time and 4 times its working memory. 1 = off (fastest).")


def render_clip(image: torch.Tensor, depth: DepthValue, traj: CameraTrajectory, fill: str = FILLS[0],
                chunk: int = 4, supersample: int = LEGACY_SUPERSAMPLE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render ``traj`` over ``image [B,H,W,C]`` (ComfyUI IMAGE; the first image) -> (frames IMAGE, visible MASK,
    depth ``[F,H',W']``); ``supersample`` as :func:`~draw_to_video.trajectory.render.warp.render_views`.

    The source camera is the trajectory's :meth:`~.CameraTrajectory.source_K` at the image size (frame 0 shows the
    whole image, or its central share with overscan) and sits at the world origin
    (:mod:`draw_to_video.trajectory.conventions`).
    """
    size = check_shape(image, "B H W C", "image")
    h, w = size["H"], size["W"]
    if size["B"] < 1:
        raise ValueError("image must hold at least one image, got an empty batch")
    device = mm.get_torch_device()
    src = image[0, ..., :3].permute(2, 0, 1).to(device, torch.float32)
    dep = depth.frame(0, h, w).to(device)
    K_src = torch.tensor(traj.source_K(w, h))
    n, ho, wo = traj.num_frames, traj.height, traj.width
    out = torch.empty((n, ho, wo, 3), dtype=torch.float32, device=mm.intermediate_device())
    vis = torch.empty((n, ho, wo), dtype=torch.float32, device=mm.intermediate_device())
    seen_depth = torch.empty((n, ho, wo), dtype=torch.float32, device=mm.intermediate_device())
    pbar = comfy.utils.ProgressBar(n)
    for part in iter_render(src, dep, K_src, torch.tensor(traj.K), torch.tensor(traj.cam_T_world()),
                            out_hw=(ho, wo), fill=fill, chunk=chunk, supersample=supersample, cancel=cancel_hook):
        sl = slice(part.start, part.start + part.frames.shape[0])
        out[sl] = part.frames.permute(0, 2, 3, 1).to(out.device)
        vis[sl] = part.visible.to(vis.device)
        seen_depth[sl] = part.depth.to(seen_depth.device)
        pbar.update(part.frames.shape[0])
    return out.clamp_(0.0, 1.0), vis, seen_depth
