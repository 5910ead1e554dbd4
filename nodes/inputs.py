"""The inputs every trajectory-making node shares, declared once: same name, default, range and step everywhere.

The ranges are the trajectory library's own (:class:`~draw_to_video.trajectory.camera.build.ShotOptions` validates
the same fields): one frame up to :data:`~draw_to_video.trajectory.camera.model.MAX_FRAMES`, the field of view
within the lens limits. A node may word a tooltip for its context; the numbers never change per node.
"""

from __future__ import annotations

from typing import Any

import torch
from comfy_api.latest import io

from ..trajectory.camera.budget import DEFAULT_BUDGET
from ..trajectory.camera.build import FOV_MAX_DEG, FOV_MIN_DEG, MAX_STRENGTH, MIN_OVERSCAN
from ..trajectory.camera.model import MAX_FRAMES
from ..trajectory.camera.motion import EASINGS
from ..trajectory.camera.presets import PRESET_NAMES

__all__ = ["DEFAULT_BUDGET", "MAX_FRAMES", "SIZES", "STRENGTH_MODES", "coverage_budget", "easing", "fov_deg", "fps", "frame_size",
           "frames", "height", "LEGACY_OVERSCAN", "LEGACY_SIZE", "LEGACY_STRENGTH_MODE", "overscan", "preset", "shot_strength", "size", "strength",
           "strength_mode", "width"]

MAX_FPS = 240.0
MAX_SIDE = 8192  #: largest frame side a node offers (in steps of 8)


def preset(tooltip: str = "auto = from the stroke's intent; any other name is a cinematic preset.") -> io.Combo.Input:
    return io.Combo.Input("preset", options=PRESET_NAMES, default="auto", tooltip=tooltip)


def frames(tooltip: str = "Number of frames (25 for SVD-XT, 14 for SVD; more are sampled in windows).") -> io.Int.Input:
    return io.Int.Input("frames", default=49, min=1, max=MAX_FRAMES, tooltip=tooltip)


def fps(tooltip: str = "Frames per second.") -> io.Float.Input:
    return io.Float.Input("fps", default=24.0, min=1.0, max=MAX_FPS, step=0.001, tooltip=tooltip)  # 23.976 too


def width(tooltip: str = "Width in pixels of the frames the trajectory's intrinsics are for.") -> io.Int.Input:
    return io.Int.Input("width", default=1024, min=16, max=MAX_SIDE, step=8, tooltip=tooltip)


def height(tooltip: str = "Height in pixels of the frames the trajectory's intrinsics are for.") -> io.Int.Input:
    return io.Int.Input("height", default=576, min=16, max=MAX_SIDE, step=8, tooltip=tooltip)


def strength(tooltip: str = "How far the camera moves (0 = static, 1 = the preset's natural amount). With "
                            "strength_mode auto this is the most it moves: less if the photo cannot show that much "
                            "(see coverage_budget).") -> io.Float.Input:
    return io.Float.Input("strength", default=1.0, min=0.0, max=MAX_STRENGTH, step=0.05, tooltip=tooltip)


STRENGTH_MODES = ["auto", "manual"]
#: What a prompt that leaves the optional ``strength_mode``/``size``/``coverage_budget`` out gets (an API graph
#: saved before they existed keeps its old behaviour: exactly ``strength``, ``width x height``). A new node in the
#: editor shows, and so sends, the widget defaults (auto, the image's aspect).
LEGACY_STRENGTH_MODE = "manual"
LEGACY_SIZE = "width x height"
LEGACY_OVERSCAN = 1.0
DEFAULT_OVERSCAN = 0.95


def strength_mode(tooltip: str = "auto = the move is scaled down (never up) until its worst frame shows at most "
                                 "coverage_budget of picture the photo never saw; a full orbit becomes the widest arc "
                                 "that fits. manual = exactly strength, even beyond the budget (the summary warns).",
                  ) -> io.Combo.Input:
    return io.Combo.Input("strength_mode", options=STRENGTH_MODES, default="auto", tooltip=tooltip, optional=True)


def coverage_budget(tooltip: str = "Largest share of a frame that may show what the photo never saw (0.03 = 3%, for "
                                   "the 2.5D render). A video model paints what was never seen, so its workflows "
                                   "allow more (e.g. 0.25).") -> io.Float.Input:
    return io.Float.Input("coverage_budget", default=DEFAULT_BUDGET, min=0.0, max=1.0, step=0.005, tooltip=tooltip,
                          optional=True)


def overscan(tooltip: str = "Zoom in by 1 / overscan for the whole shot (0.95 = 5%), as parallax tools do: the first "
                            "frame shows the central part of the photo and the border a move uncovers stays off "
                            "screen, so strength auto allows a larger move. 1 = the whole photo in the first frame."
             ) -> io.Float.Input:
    return io.Float.Input("overscan", default=DEFAULT_OVERSCAN, min=MIN_OVERSCAN, max=1.0, step=0.01, tooltip=tooltip,
                          optional=True)


def shot_strength(strength_mode: str, strength: float, coverage_budget: float,
                  overscan: float = LEGACY_OVERSCAN) -> dict[str, Any]:
    """The ShotOptions fields of the strength inputs (the budget is always judged, so manual can warn)."""
    return {"strength": strength, "budget": coverage_budget, "auto_strength": strength_mode == "auto",
            "overscan": overscan}


SIZES = ["image, long side 1024", "image, long side 768", "image, long side 512", "width x height"]


def size(tooltip: str = "Frame size. image, long side N = the connected image's aspect ratio with its long side N "
                        "pixels (both sides multiples of 16); without an image, or with 'width x height', the width "
                        "and height inputs (an image of another aspect is then centre-cropped to them, as core's "
                        "ImageScale 'center' and the SVD and Wan start images are).") -> io.Combo.Input:
    return io.Combo.Input("size", options=SIZES, default=SIZES[0], tooltip=tooltip, optional=True)


def frame_size(mode: str, image: torch.Tensor | None, width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` for a ``size`` choice: the image's aspect at the chosen long side (multiples of 16), or
    the width and height inputs."""
    if image is None or mode == SIZES[-1]:
        return width, height
    h, w = int(image.shape[1]), int(image.shape[2])
    long = int(mode.rsplit(" ", 1)[-1])
    scale = long / max(h, w)
    return max(16, 16 * round(w * scale / 16)), max(16, 16 * round(h * scale / 16))


def easing(tooltip: str = "Timing curve of the move.") -> io.Combo.Input:
    return io.Combo.Input("easing", options=list(EASINGS), default="ease_in_out", tooltip=tooltip)


def fov_deg(tooltip: str = "Vertical field of view of the source image's camera, in degrees, as frame 0 shows "
                           "the image (after any centre crop to the frame size).") -> io.Float.Input:
    return io.Float.Input("fov_deg", default=50.0, min=FOV_MIN_DEG, max=FOV_MAX_DEG, step=0.5, tooltip=tooltip)
