"""The camera path over the photo: which part of the photo each frame shows, its look-at path, start and end."""

from __future__ import annotations

import numpy as np
import torch
from comfy_api.latest import io

from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.camera.overlay import draw_overlay
from ..trajectory.checks import check_shape
from .base import CATEGORY, PREFIX, DTVNode, Trajectory, image_batch


class CameraPathOverlay(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}CameraPathOverlay",
            display_name="Draw to Video: camera path on the photo",
            category=CATEGORY,
            description="Draws the camera move over the photo it starts from: the part of the photo a few frames "
                        "show (green at the start to red at the end, on the subject plane), the path of the point "
                        "the camera looks at, and start and end, as an IMAGE.",
            inputs=[
                io.Image.Input("image", tooltip="The photo the trajectory starts from (the first image is used)."),
                Trajectory.Input("trajectory", tooltip="The camera path to draw."),
                io.Int.Input("footprints", default=5, min=1, max=32,
                             tooltip="How many frames to outline, evenly spaced, first and last included."),
                io.Float.Input("depth", default=0.0, min=0.0, max=1000.0, step=0.05,
                               tooltip="Distance of the subject plane in scene units; 0 uses the trajectory's "
                                       "subject depth."),
            ],
            outputs=[io.Image.Output(display_name="overlay")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, trajectory: CameraTrajectory, footprints: int,
                depth: float) -> io.NodeOutput:
        check_shape(image, "B H W C", "image")
        if image.shape[0] < 1:
            raise ValueError("image must hold at least one image, got an empty batch")
        photo = (image[0, ..., :3].clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()
        out = draw_overlay(np.ascontiguousarray(photo), trajectory, depth if depth > 0 else None, footprints)
        return io.NodeOutput(image_batch(out))


NODES = [CameraPathOverlay]
