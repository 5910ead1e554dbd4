"""The inputs every trajectory-making node shares, declared once: same name, default, range and step everywhere.

The ranges are the trajectory library's own (:class:`~draw_to_video.trajectory.camera.build.ShotOptions` validates
the same fields): one frame up to :data:`~draw_to_video.trajectory.camera.model.MAX_FRAMES`, the field of view
within the lens limits. A node may word a tooltip for its context; the numbers never change per node.
"""

from __future__ import annotations

from comfy_api.latest import io

from ..trajectory.camera.build import FOV_MAX_DEG, FOV_MIN_DEG, MAX_STRENGTH
from ..trajectory.camera.model import MAX_FRAMES
from ..trajectory.camera.motion import EASINGS
from ..trajectory.camera.presets import PRESET_NAMES

__all__ = ["MAX_FRAMES", "easing", "fov_deg", "fps", "frames", "height", "preset", "strength", "width"]

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


def strength(tooltip: str = "How far the camera moves (0 = static, 1 = the preset's natural amount).") -> io.Float.Input:
    return io.Float.Input("strength", default=1.0, min=0.0, max=MAX_STRENGTH, step=0.05, tooltip=tooltip)


def easing(tooltip: str = "Timing curve of the move.") -> io.Combo.Input:
    return io.Combo.Input("easing", options=list(EASINGS), default="ease_in_out", tooltip=tooltip)


def fov_deg(tooltip: str = "Vertical field of view of the source image's camera, in degrees.") -> io.Float.Input:
    return io.Float.Input("fov_deg", default=50.0, min=FOV_MIN_DEG, max=FOV_MAX_DEG, step=0.5, tooltip=tooltip)
