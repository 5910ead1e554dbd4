"""What every node module shares: the id prefix, the category, the custom types and what flows on them, the cancel
hook and the small IMAGE/MASK converters. Node modules import this (and the other shared modules, :mod:`.inputs`,
:mod:`.models` and :mod:`.rendering`); it imports no node module (the node list lives in ``nodes/__init__.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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


def image_batch(rgb_uint8: np.ndarray) -> torch.Tensor:
    """``[H,W,3]`` uint8 -> ComfyUI IMAGE ``[1,H,W,3]`` float."""
    return torch.from_numpy(np.ascontiguousarray(rgb_uint8)).float().div(255.0)[None]


def depth_preview(depth: torch.Tensor) -> torch.Tensor:
    """A MASK ``[B,H,W]`` in 0..1 for looking at a depth map: bright = near (as depth nodes show it)."""
    inv = 1.0 / depth.clamp_min(1e-6)
    lo = inv.flatten(1).amin(1)[:, None, None]
    hi = inv.flatten(1).amax(1)[:, None, None]
    return ((inv - lo) / (hi - lo).clamp_min(1e-12)).clamp(0, 1)
