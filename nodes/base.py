"""What every node module shares: the id prefix, the category, the custom types and what flows on them, and the
cancel hook. Node modules import this; it imports no node module (the node list lives in ``nodes/__init__.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from comfy_api.latest import io

#: Every node id of the pack starts with this and never changes.
PREFIX = "DTV_"
CATEGORY = "draw-to-video"

#: Custom ComfyUI types of the pack.
Strokes = io.Custom("DTV_STROKES")
Intent = io.Custom("DTV_INTENT")
Trajectory = io.Custom("DTV_TRAJECTORY")
Depth = io.Custom("DTV_DEPTH")


@dataclass(frozen=True)
class DepthValue:
    """What flows on a ``DTV_DEPTH`` link: positive depth ``[B,H,W]`` in scene units (OpenCV ``z``; the subject at
    about 1.0 for relative maps) and, for the prior, the note that the parallax is approximate."""

    depth: torch.Tensor
    note: str | None = None

    def frame(self, index: int, height: int, width: int) -> torch.Tensor:
        """Depth ``[H,W]`` of batch item ``index`` (the last item when the batch is shorter), resized to the image
        size with nearest sampling (no blending across depth edges)."""
        d = self.depth[min(index, self.depth.shape[0] - 1)].float()
        if d.shape != (height, width):
            d = torch.nn.functional.interpolate(d[None, None], size=(height, width), mode="nearest-exact")[0, 0]
        return d

    @property
    def approximate(self) -> bool:
        return self.note is not None


def cancel_hook() -> bool:
    """The ``check_cancel``/``cancel`` callback the libraries take: raises ComfyUI's interrupt when the user cancels,
    else returns False."""
    import comfy.model_management as mm

    mm.throw_exception_if_processing_interrupted()
    return False
