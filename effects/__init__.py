"""Cinematic effects: pure functions over clips ``[F, H, W, C]`` (float, 0..1, C = 3 or 4).

Every effect is ``effect(frames, *, params..., seed=0) -> new tensor``: it runs on the input's device,
is deterministic on the CPU for a seed, returns an exact copy at strength 0, raises a one-line
``ValueError`` for bad input (NaN/inf frames included), and leaves alpha untouched (time effects move
alpha with its frame). Heavy effects work in frame chunks and write into one preallocated output.
See :mod:`.registry` for the parameter specs used by the node layer and the CLI.
"""

from __future__ import annotations

from ._core import EffectError, check_frames
from .color import PRESETS as GRADE_PRESETS
from .color import apply_lut, grade, identity_lut, load_cube, read_cube
from .deflicker import deflicker
from .frame import handheld_shake, letterbox, shake_impulse, whip_pan
from .lens import (
    chromatic_aberration,
    depth_of_field,
    dolly_zoom,
    film_grain,
    halation,
    lens_distortion,
    motion_blur,
    vignette,
)
from .registry import EFFECTS, LOOKS, EffectSpec, ParamSpec, apply_effect, apply_look
from .stylised import inception_fold, motion_peaks, quantum_glitch
from .time import (
    PRESET_CURVES,
    boomerang,
    freeze_frame,
    mask_from_depth,
    parse_speed_curve,
    retime_timestamps,
    reverse,
    sample_times,
    speed_ramp,
    tenet_reverse,
)

__all__ = [
    "EFFECTS", "GRADE_PRESETS", "LOOKS", "PRESET_CURVES", "EffectError", "EffectSpec", "ParamSpec",
    "apply_effect", "apply_look", "apply_lut", "boomerang", "check_frames", "chromatic_aberration", "deflicker",
    "depth_of_field", "dolly_zoom", "film_grain", "freeze_frame", "grade", "halation", "handheld_shake",
    "identity_lut", "inception_fold", "lens_distortion", "letterbox", "load_cube", "mask_from_depth",
    "motion_blur", "motion_peaks", "parse_speed_curve", "quantum_glitch", "read_cube", "retime_timestamps",
    "reverse", "sample_times", "shake_impulse", "speed_ramp", "tenet_reverse", "vignette", "whip_pan",
]
