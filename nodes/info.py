"""A tiny node that reports the pack's version and device: the first thing to check after installing."""

from __future__ import annotations

from comfy_api.latest import io

from .. import __version__
from .base import CATEGORY, PREFIX, DTVNode


class PackInfo(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}PackInfo",
            display_name="Draw to Video: pack info",
            category=CATEGORY,
            description="Reports the Draw to Video version, torch version and compute device as a STRING.",
            inputs=[io.String.Input("note", default="", optional=True,
                                    tooltip="Free text echoed at the end of the report (handy as a run label).")],
            outputs=[io.String.Output(display_name="report")],
        )

    @classmethod
    def execute(cls, note: str = "") -> io.NodeOutput:
        import comfy.model_management as mm
        import torch

        text = f"draw-to-video {__version__}; torch {torch.__version__}; device {mm.get_torch_device()}"
        return io.NodeOutput(text + (f"; {note}" if note else ""))


NODES = [PackInfo]
