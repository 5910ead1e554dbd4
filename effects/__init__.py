"""Cinematic effects: pure functions over clips ``[F, H, W, C]`` (float, 0..1, C = 3 or 4).

Every effect runs on the input's device, is deterministic on the CPU for a seed, returns an exact copy at strength
0, leaves alpha untouched (time effects move alpha with its frame), reports ``progress(done, total)`` per frame or
chunk and polls ``cancel()``. Its parameters are declared once, in :mod:`.registry`, which checks them before the
call; a refusal is a one-line ``ValueError`` (:class:`EffectError`) naming ``effect.param``. The names below are
those checked entry points: ``effects.vignette(clip, strength=0.5, seed=0)``; the modules hold the raw functions.
"""

from __future__ import annotations

from ._core import EffectError, check_frames
from .color import PRESETS as GRADE_PRESETS
from .color import identity_lut, load_cube, read_cube
from .registry import EFFECTS, LOOKS, EffectSpec, ParamSpec, apply_effect, apply_look
from .stylised import motion_peaks
from .time import PRESET_CURVES, mask_from_depth, parse_speed_curve, retime_timestamps, sample_times

speed_ramp, freeze_frame, reverse, boomerang, tenet_reverse = (
    EFFECTS[n] for n in ("speed_ramp", "freeze_frame", "reverse", "boomerang", "tenet_reverse"))
motion_blur, depth_of_field, vignette, chromatic_aberration, lens_distortion, film_grain, halation, dolly_zoom = (
    EFFECTS[n] for n in ("motion_blur", "depth_of_field", "vignette", "chromatic_aberration", "lens_distortion",
                         "film_grain", "halation", "dolly_zoom"))
grade, apply_lut = EFFECTS["grade"], EFFECTS["apply_lut"]
letterbox, handheld_shake, shake_impulse, whip_pan = (
    EFFECTS[n] for n in ("letterbox", "handheld_shake", "shake_impulse", "whip_pan"))
inception_fold, quantum_glitch, deflicker = EFFECTS["inception_fold"], EFFECTS["quantum_glitch"], EFFECTS["deflicker"]

__all__ = [
    "EFFECTS", "GRADE_PRESETS", "LOOKS", "PRESET_CURVES", "EffectError", "EffectSpec", "ParamSpec",
    "apply_effect", "apply_look", "apply_lut", "boomerang", "check_frames", "chromatic_aberration", "deflicker",
    "depth_of_field", "dolly_zoom", "film_grain", "freeze_frame", "grade", "halation", "handheld_shake",
    "identity_lut", "inception_fold", "lens_distortion", "letterbox", "load_cube", "mask_from_depth",
    "motion_blur", "motion_peaks", "parse_speed_curve", "quantum_glitch", "read_cube", "retime_timestamps",
    "reverse", "sample_times", "shake_impulse", "speed_ramp", "tenet_reverse", "vignette", "whip_pan",
]
