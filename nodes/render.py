"""The 2.5D renderer node: the image seen from every camera of a trajectory, with disocclusion masks."""

from __future__ import annotations

import comfy.model_management as mm
import comfy.utils
import torch
from comfy_api.latest import io

from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.render.warp import iter_render
from .base import CATEGORY, PREFIX, Depth, DepthValue, Strokes, Trajectory, cancel_hook
from .depth import depth_preview

FILLS = ["background", "pushpull", "none"]


def render_clip(image: torch.Tensor, depth: DepthValue, traj: CameraTrajectory, fill: str = "background",
                chunk: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render ``traj`` over ``image [1,H,W,C]`` (ComfyUI IMAGE) -> (frames IMAGE, visible MASK, depth [F,H',W']).

    The source camera is the trajectory's frame-0 camera rescaled to the image size (so frame 0 shows the whole
    image) and sits at the world origin (:mod:`draw_to_video.trajectory.conventions`).
    """
    if image.ndim != 4 or image.shape[0] < 1:
        raise ValueError(f"image must be an IMAGE [B,H,W,C], got shape {tuple(image.shape)}")
    _, h, w, c = image.shape
    device = mm.get_torch_device()
    src = image[0, ..., :3].permute(2, 0, 1).to(device, torch.float32)
    dep = depth.frame(0, h, w).to(device)
    K_src = torch.tensor(traj.rescaled(w, h).K[0])  # copies: trajectory arrays are read-only
    n, ho, wo = traj.num_frames, traj.height, traj.width
    out = torch.empty((n, ho, wo, 3), dtype=torch.float32, device=mm.intermediate_device())
    vis = torch.empty((n, ho, wo), dtype=torch.float32, device=mm.intermediate_device())
    seen_depth = torch.empty((n, ho, wo), dtype=torch.float32, device=mm.intermediate_device())
    pbar = comfy.utils.ProgressBar(n)
    for part in iter_render(src, dep, K_src, torch.tensor(traj.K), torch.tensor(traj.cam_T_world()),
                            out_hw=(ho, wo), fill=fill, chunk=chunk, cancel=cancel_hook):
        sl = slice(part.start, part.start + part.frames.shape[0])
        out[sl] = part.frames.permute(0, 2, 3, 1).to(out.device)
        vis[sl] = part.visible.to(vis.device)
        seen_depth[sl] = part.depth.to(seen_depth.device)
        pbar.update(part.frames.shape[0])
    return out.clamp_(0.0, 1.0), vis, seen_depth


class Render25D(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}Render25D",
            display_name="Draw to Video: 2.5D camera render",
            category=CATEGORY,
            description="Renders what the camera of a trajectory sees, frame by frame, from one image and its "
                        "depth (forward splatting with a z-buffer, crack-free when zooming in, background-aware hole "
                        "filling). Also outputs where each frame was seen in the source (1) or filled (0), which is "
                        "the visibility mask the camera-guided SVD sampler uses.",
            inputs=[
                io.Image.Input("image", tooltip="The source image (the first image of the batch is used)."),
                Depth.Input("depth", tooltip="Its depth, from a depth node or the approximate prior."),
                Trajectory.Input("trajectory", tooltip="The camera path; the output has its frame count and size."),
                io.Combo.Input("fill", options=FILLS, default="background",
                               tooltip="How disocclusions are filled: background = from the far side of depth "
                                       "edges (no smearing of the foreground), pushpull = depth-aware pyramid fill, "
                                       "none = black."),
                io.Int.Input("chunk", default=4, min=1, max=64,
                             tooltip="Frames rendered at once: higher is faster on a GPU, lower uses less memory."),
            ],
            outputs=[io.Image.Output(display_name="frames"), io.Mask.Output(display_name="visible"),
                     io.Mask.Output(display_name="depth_preview")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, depth: DepthValue, trajectory: CameraTrajectory, fill: str,
                chunk: int) -> io.NodeOutput:
        frames, visible, seen = render_clip(image, depth, trajectory, fill, chunk)
        return io.NodeOutput(frames, visible, depth_preview(torch.where(seen > 0, seen, seen.amax().clamp_min(1))))


NODES = [Render25D]


class DrawToVideo25D(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        from ..trajectory.camera.motion import EASINGS
        from ..trajectory.camera.presets import PRESET_NAMES

        return io.Schema(
            node_id=f"{PREFIX}DrawToVideo25D",
            display_name="Draw to Video (2.5D)",
            category=CATEGORY,
            description="The whole no-weights pipeline in one box: image + drawn strokes (+ optional depth) -> the "
                        "camera move as video frames. Without a depth input an approximate ground/sky prior is used "
                        "and the note output says so.",
            inputs=[
                io.Image.Input("image", tooltip="The image to animate (the first of the batch)."),
                Strokes.Input("strokes", tooltip="The drawn path, from the stroke input node."),
                io.Combo.Input("preset", options=PRESET_NAMES, default="auto",
                               tooltip="auto = the move the stroke's intent implies; or any cinematic preset."),
                io.Int.Input("frames", default=49, min=2, max=1000, tooltip="Number of frames."),
                io.Float.Input("fps", default=24.0, min=1.0, max=240.0, tooltip="Frames per second."),
                io.Float.Input("strength", default=1.0, min=0.0, max=5.0, step=0.05,
                               tooltip="How far the camera moves (0 = static)."),
                io.Combo.Input("easing", options=list(EASINGS), default="ease_in_out", tooltip="Timing curve."),
                io.Float.Input("fov_deg", default=50.0, min=10.0, max=120.0, step=0.5,
                               tooltip="Vertical field of view of the photo's camera, in degrees."),
                Depth.Input("depth", optional=True, tooltip="Depth of the image; without it an approximate prior."),
            ],
            outputs=[io.Image.Output(display_name="frames"), io.Mask.Output(display_name="visible"),
                     Trajectory.Output(display_name="trajectory"), io.String.Output(display_name="note")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, strokes, preset: str, frames: int, fps: float, strength: float,
                easing: str, fov_deg: float, depth: DepthValue | None = None) -> io.NodeOutput:
        from ..trajectory.camera.build import ShotOptions, build_trajectory
        from ..trajectory.render.depth import FALLBACK_NOTE, fallback_depth_prior

        _, h, w, _ = image.shape
        if depth is None:
            depth = DepthValue(fallback_depth_prior(h, w)[None], FALLBACK_NOTE)
        scale = 8 * round(max(h, w) / 8) / max(h, w)  # keep the photo's size and aspect (multiples of 8)
        size = {"width": max(16, 8 * round(w * scale / 8)), "height": max(16, 8 * round(h * scale / 8))}
        options = ShotOptions(preset=preset, frames=frames, fps=fps, strength=strength, easing=easing, fov_deg=fov_deg,
                              **size)
        traj = build_trajectory(strokes, options, depth=depth.depth[0].cpu().numpy().astype("float64"))
        out, vis, _ = render_clip(image, depth, traj)
        return io.NodeOutput(out, vis, traj, depth.note or "real depth")


NODES.append(DrawToVideo25D)
