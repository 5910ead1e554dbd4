"""Wan 2.1 VACE: the 2.5D render of the drawn camera as core ``WanVaceToVideo``'s control video and masks, so VACE
keeps what the photo shows and paints what it never showed."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ..trajectory.render.vace import HOLE_CONTENTS, MAX_GROW, describe, vace_controls
from .base import CATEGORY, PREFIX, DTVNode

__all__ = ["NODES", "VaceControls"]


class VaceControls(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}VaceControls",
            display_name="Draw to Video: Wan VACE controls",
            category=f"{CATEGORY}/wan",
            description="Turns the 2.5D render into core WanVaceToVideo's control_video and control_masks: mask 1 "
                        "(regenerate) where the photo never showed that part of the frame (1 - visible), grown and "
                        "feathered; 0 (keep) where the render shows the photo. Frames are resampled to Wan's 4n+1 "
                        "count by nearest frame (49 or 81 pass unchanged) and cut about the centre to multiples of "
                        "16; wire width, height and length into WanVaceToVideo.",
            inputs=[
                io.Image.Input("frames", tooltip="The render's frames (Draw to Video: 2.5D camera render)."),
                io.Mask.Input("visible", tooltip="The same render's visible mask (1 = seen in the photo, 0 = "
                                                 "filled); 1 - visible becomes the mask VACE regenerates."),
                io.Int.Input("dilate", default=8, min=0, max=MAX_GROW,
                             tooltip="Pixels the regenerated area grows beyond each hole: the render smears a "
                                     "little next to every disocclusion, so let VACE redo that too."),
                io.Int.Input("feather", default=8, min=0, max=MAX_GROW,
                             tooltip="Pixels over which the mask falls from 1 to 0 outside the grown hole (soft "
                                     "seams; the hole itself stays fully 1). 0 = a hard mask."),
                io.Combo.Input("hole_content", options=list(HOLE_CONTENTS), default="grey",
                               tooltip="What the control video shows where the mask is 1: grey = 0.5, as VACE's "
                                       "own inpainting masks it (the model invents the content); render = the "
                                       "renderer's fill, as a hint for colours and layout."),
            ],
            outputs=[io.Image.Output(display_name="control_video"), io.Mask.Output(display_name="control_masks"),
                     io.Int.Output(display_name="width"), io.Int.Output(display_name="height"),
                     io.Int.Output(display_name="length"),
                     io.String.Output(display_name="note", tooltip="Frames, size, what was resampled or cut, and "
                                                                   "the share of pixels VACE regenerates.")],
        )

    @classmethod
    def execute(cls, frames: torch.Tensor, visible: torch.Tensor, dilate: int, feather: int,
                hole_content: str) -> io.NodeOutput:
        out = vace_controls(frames, visible, dilate=dilate, feather=feather, hole_content=hole_content)
        note = describe(out, int(frames.shape[0]), (int(frames.shape[2]), int(frames.shape[1])))
        return io.NodeOutput(out.video, out.masks, out.width, out.height, out.length, note)


NODES = [VaceControls]
