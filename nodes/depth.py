"""Depth nodes: depth from any depth node's IMAGE/MASK, or a labelled approximate prior."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ..trajectory.render.depth import DEFAULT_FAR, DEFAULT_NEAR, FALLBACK_NOTE, depth_from_map, fallback_depth_prior
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, depth_preview

KINDS = ["inverse_depth", "depth", "disparity_normalised"]


class DepthFromImage(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}DepthFromImage",
            display_name="Draw to Video: depth from depth map",
            category=f"{CATEGORY}/depth",
            description="Turns the output of any depth node (Depth Anything, MiDaS, Lotus, Marigold, ...) into the "
                        "pack's depth: relative maps are normalised robustly so the median lands at 1 scene unit, "
                        "between near and far.",
            inputs=[
                io.Image.Input("image", optional=True, tooltip="A depth map as IMAGE (channels are averaged)."),
                io.Mask.Input("mask", optional=True, tooltip="A depth map as MASK; used when no image is given."),
                io.Combo.Input("kind", options=KINDS, default="inverse_depth",
                               tooltip="inverse_depth: bright = near (Depth Anything, MiDaS, most ComfyUI depth "
                                       "nodes). depth: bright = far (Marigold-style depth). disparity_normalised: "
                                       "a stereo disparity map scaled to 0..1, treated like inverse depth."),
                io.Float.Input("near", default=DEFAULT_NEAR, min=0.01, max=100.0, step=0.01,
                               tooltip="Scene depth of the nearest content (the subject is at 1.0)."),
                io.Float.Input("far", default=DEFAULT_FAR, min=1.01, max=10000.0, step=0.1,
                               tooltip="Scene depth of the farthest content (sky, background)."),
            ],
            outputs=[Depth.Output(display_name="depth"), io.Mask.Output(display_name="preview")],
        )

    @classmethod
    def execute(cls, kind: str, near: float, far: float, image: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> io.NodeOutput:
        src = image if image is not None else mask
        if src is None:
            raise ValueError("connect a depth map to 'image' or 'mask'")
        if not (near < 1.0 < far):
            raise ValueError(f"need near < 1.0 < far (the subject sits at 1.0), got near={near}, far={far}")
        lib_kind = "inverse_depth" if kind == "disparity_normalised" else kind
        depth = depth_from_map(src.float().cpu(), lib_kind, near=near, far=far)
        return io.NodeOutput(DepthValue(depth), depth_preview(depth))


class FallbackDepth(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}FallbackDepth",
            display_name="Draw to Video: approximate depth (no model)",
            category=f"{CATEGORY}/depth",
            description="A labelled approximate depth prior (ground plane below the horizon, far sky above, a soft "
                        "subject in the middle) for images without a depth map. The parallax it gives is "
                        "approximate; the note output says so.",
            inputs=[
                io.Image.Input("image", tooltip="The image the depth is for (only its size is used)."),
                io.Float.Input("horizon", default=0.45, min=0.0, max=0.95, step=0.01,
                               tooltip="Height of the horizon as a fraction of the image height from the top."),
                io.Float.Input("subject_size", default=0.22, min=0.0, max=1.0, step=0.01,
                               tooltip="Size of the assumed central subject (0 = none), as a fraction of the "
                                       "shorter side."),
            ],
            outputs=[Depth.Output(display_name="depth"), io.Mask.Output(display_name="preview"),
                     io.String.Output(display_name="note")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, horizon: float, subject_size: float) -> io.NodeOutput:
        _, h, w, _ = image.shape
        depth = fallback_depth_prior(h, w, horizon, subject_radius=subject_size)[None]
        return io.NodeOutput(DepthValue(depth, FALLBACK_NOTE), depth_preview(depth), FALLBACK_NOTE)


NODES = [DepthFromImage, FallbackDepth]
