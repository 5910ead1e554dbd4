"""Camera-fidelity node: how closely a clip's actual camera motion follows the requested trajectory."""

from __future__ import annotations

import json

import comfy.model_management as mm
import comfy.utils
import numpy as np
import torch
from comfy_api.latest import io

from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.fidelity.estimate import fidelity_plot
from ..trajectory.fidelity.report import score_clip, summary
from .base import CATEGORY, PREFIX, DTVNode, Trajectory, image_batch


class CameraFidelity(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}CameraFidelity",
            display_name="Draw to Video: camera fidelity",
            category=f"{CATEGORY}/analysis",
            description="Estimates the camera motion a clip actually shows (features + essential matrix, or "
                        "homographies for rotation and zoom) and scores it against the requested trajectory: mean "
                        "rotation error and translation-direction error in degrees, and the focal-change error.",
            inputs=[
                io.Image.Input("images", tooltip="The clip, one frame per trajectory frame (before interpolation)."),
                Trajectory.Input("trajectory", tooltip="The camera path the clip was asked to follow."),
            ],
            outputs=[io.String.Output(display_name="report"), io.Image.Output(display_name="plot")],
        )

    @classmethod
    def execute(cls, images: torch.Tensor, trajectory: CameraTrajectory) -> io.NodeOutput:
        pbar = comfy.utils.ProgressBar(2)
        mm.throw_exception_if_processing_interrupted()
        frames = (images[..., :3].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        report = score_clip(frames, trajectory)
        pbar.update(1)
        plot = image_batch(np.asarray(fidelity_plot(report)))
        pbar.update(1)
        return io.NodeOutput(json.dumps(summary(report)), plot)


NODES = [CameraFidelity]
