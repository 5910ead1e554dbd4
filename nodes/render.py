"""The 2.5D renderer nodes: the image seen from every camera of a trajectory, with disocclusion masks, and the
one-box pipeline (image + strokes -> frames)."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ..trajectory.camera.budget import budget_note
from ..trajectory.camera.build import ShotOptions, build_trajectory
from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.checks import check_shape
from ..trajectory.render.depth import FALLBACK_NOTE, fallback_depth_prior
from ..trajectory.stroke.format import StrokeSet
from . import inputs
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, Strokes, Trajectory, cancel_hook, depth_preview
from .rendering import FILLS, LEGACY_SUPERSAMPLE, render_clip, supersample_input

__all__ = ["NODES", "DrawToVideo25D", "Render25D"]


class Render25D(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}Render25D",
            display_name="Draw to Video: 2.5D camera render",
            category=CATEGORY,
            description="Renders what the camera of a trajectory sees, frame by frame, from one image and its "
                        "depth (forward splatting with a z-buffer, crack-free when zooming in; a camera that only "
                        "turns or zooms maps the image exactly; an 8-bit depth map smoothed within its steps, "
                        "background-aware hole filling, specks at moving depth edges cleaned and their outlines "
                        "anti-aliased; optionally supersampled). Also outputs where "
                        "each frame was seen in the source (1) or filled (0), which is the visibility mask the "
                        "camera-guided SVD sampler uses.",
            inputs=[
                io.Image.Input("image", tooltip="The source image (the first image of the batch is used)."),
                Depth.Input("depth", tooltip="Its depth, from a depth node or the approximate prior."),
                Trajectory.Input("trajectory", tooltip="The camera path; the output has its frame count and size."),
                io.Combo.Input("fill", options=FILLS, default=FILLS[0],
                               tooltip="How holes are filled: layered = across a depth edge from the background "
                                       "only (no smearing of the foreground), elsewhere (the border a pan or "
                                       "pull-back reveals) a smooth continuation, without streaks; background = "
                                       "the farther of the nearest seen pixels along rows and columns; pushpull = "
                                       "depth-aware pyramid fill; none = black, and the raw render (no clean-up or "
                                       "anti-aliasing at moving depth edges)."),
                io.Int.Input("chunk", default=4, min=1, max=64,
                             tooltip="Frames rendered at once: higher is faster on a GPU, lower uses less memory."),
                supersample_input(LEGACY_SUPERSAMPLE),  # fast by default: this render often only guides a model
            ],
            outputs=[io.Image.Output(display_name="frames"), io.Mask.Output(display_name="visible"),
                     io.Mask.Output(display_name="depth_preview")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, depth: DepthValue, trajectory: CameraTrajectory, fill: str,
                chunk: int, supersample: int = LEGACY_SUPERSAMPLE) -> io.NodeOutput:
        frames, visible, seen = render_clip(image, depth, trajectory, fill, chunk, supersample)
        return io.NodeOutput(frames, visible, depth_preview(torch.where(seen > 0, seen, seen.amax().clamp_min(1))))


class DrawToVideo25D(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}DrawToVideo25D",
            display_name="Draw to Video (2.5D)",
            category=CATEGORY,
            description="The whole no-weights pipeline in one box: image + drawn strokes (+ optional depth) -> the "
                        "camera move as video frames. Without a depth input an approximate ground/sky prior is used "
                        "and the note output says so. Supersampled 2x by default.",
            inputs=[
                io.Image.Input("image", tooltip="The image to animate (the first of the batch)."),
                Strokes.Input("strokes", tooltip="The drawn path, from the stroke input node."),
                inputs.preset("auto = the move the stroke's intent implies; or any cinematic preset."),
                inputs.frames("Number of frames."),
                inputs.fps(),
                inputs.strength_mode(),
                inputs.strength("How far the camera moves (0 = static, 1 = the preset's natural amount); with "
                                "strength_mode auto the most it moves."),
                inputs.coverage_budget(), inputs.overscan(),
                inputs.easing("Timing curve."),
                inputs.fov_deg("Vertical field of view of the photo's camera, in degrees."),
                Depth.Input("depth", optional=True, tooltip="Depth of the image; without it an approximate prior."),
                supersample_input(2),  # the finished shot: steady outlines are worth the time
            ],
            outputs=[io.Image.Output(display_name="frames"), io.Mask.Output(display_name="visible"),
                     Trajectory.Output(display_name="trajectory"),
                     io.String.Output(display_name="note", tooltip="Which depth was used, the coverage budget that "
                                                                   "applied and what strength auto limited.")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, strokes: StrokeSet, preset: str, frames: int, fps: float, strength: float,
                easing: str, fov_deg: float, depth: DepthValue | None = None,
                strength_mode: str = inputs.LEGACY_STRENGTH_MODE,
                coverage_budget: float = inputs.DEFAULT_BUDGET,
                overscan: float = inputs.LEGACY_OVERSCAN,
                supersample: int = LEGACY_SUPERSAMPLE) -> io.NodeOutput:
        shape = check_shape(image, "B H W C", "image")
        h, w = shape["H"], shape["W"]
        if depth is None:
            depth = DepthValue(fallback_depth_prior(h, w)[None], FALLBACK_NOTE)
        scale = 8 * round(max(h, w) / 8) / max(h, w)  # keep the photo's size and aspect (multiples of 8)
        size = {"width": max(16, 8 * round(w * scale / 8)), "height": max(16, 8 * round(h * scale / 8))}
        options = ShotOptions(preset=preset, frames=frames, fps=fps, easing=easing, fov_deg=fov_deg, **size,
                              **inputs.shot_strength(strength_mode, strength, coverage_budget, overscan))
        traj = build_trajectory(strokes, options, depth=depth.depth[0].cpu().numpy().astype("float64"),
                                cancel=cancel_hook)
        out, vis, _ = render_clip(image, depth, traj, supersample=supersample)
        return io.NodeOutput(out, vis, traj, "; ".join([depth.note or "real depth", budget_note(traj.meta)]))


NODES = [Render25D, DrawToVideo25D]
