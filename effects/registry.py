"""Registry of effects (for the nodes and the CLI) and director looks: the one place effect parameters are declared.

:data:`EFFECTS` maps a name to an :class:`~.params.EffectSpec` whose :class:`~.params.ParamSpec` list gives each
parameter's kind, default, range and tooltip. :func:`apply_effect` checks a params dict against that declaration
(a one-line ``ValueError`` naming ``effect.param``) and runs the effect; the nodes build their widgets from it.
:data:`LOOKS` maps a director's name to a list of ``(effect, params)`` steps (grade + effects; the camera trajectory
preset of the same name is applied elsewhere) run by :func:`apply_look`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..trajectory.checks import CancelFn, ProgressFn, poll
from . import color, frame, lens, stylised, time
from ._core import fail
from .deflicker import deflicker as _deflicker  # the module name equals the function's
from .params import KINDS, TENSOR_KINDS, EffectSpec, ParamSpec, b_, c_, check_param, f_, i_, s_, validate_params

__all__ = ["EFFECTS", "KINDS", "LOOKS", "TENSOR_KINDS", "EffectSpec", "ParamSpec", "apply_effect", "apply_look",
           "check_param", "validate"]

PAD = ("border", "reflection", "zeros")
_PAD = c_("padding", "reflection", PAD, "Border handling of the warp.")
_STRENGTH = f_("strength", 1.0, 0.0, 1.0, "Blend with the input (0 = unchanged).")
_FPS = f_("fps", 24.0, 1.0, 240.0, "Frames per second of the clip.", step=0.1)
_FLOW_SIDE = i_("flow_max_side", 512, 32, 4096, "Working resolution of the DIS optical flow (long side, px).")
_GRADE_CONTROLS = {"temperature": (-1.0, 1.0, "warm (> 0) or cool"), "tint": (-1.0, 1.0, "magenta (> 0) or green"),
                   "saturation": (0.0, 3.0, "colour amount (0 = Rec.709 luma)"),
                   "contrast": (0.0, 3.0, "contrast about mid-grey"),
                   "highlights": (-1.0, 1.0, "lift (> 0) or lower the bright tones"),
                   "shadows": (-1.0, 1.0, "lift (> 0) or lower the dark tones")}

_SPECS: list[EffectSpec] = [
    EffectSpec("speed_ramp", "time", time.speed_ramp, "re-time by a speed curve, blending neighbour frames", (
        s_("curve", "ramp_slow_mid", "'u:speed, ...' keyframes over normalised output time (speed = source seconds per "
           "output second), or a preset: " + ", ".join(time.PRESET_CURVES) + "."),
        _FPS, _STRENGTH, b_("blend", True, "Blend neighbour frames (else the nearest frame).")),
        changes_length=True),
    EffectSpec("freeze_frame", "time", time.freeze_frame, "hold one frame for a number of frames", (
        i_("index", 0, -100000, 100000, "frame to hold (negative from the end)"),
        i_("duration", 12, 0, 100000, "number of held frames"),
        c_("mode", "insert", ("insert", "hold"), "insert lengthens the clip; hold replaces the following frames")),
        changes_length=True),
    EffectSpec("reverse", "time", time.reverse, "play the clip backwards"),
    EffectSpec("boomerang", "time", time.boomerang, "forward then backward", (
        b_("seamless", True, "Drop the final repeat of frame 0, so the result loops."),),
        changes_length=True),
    EffectSpec("tenet_reverse", "time", time.tenet_reverse, "masked region runs backwards, the rest forwards", (
        ParamSpec("mask", "mask", min=0.0, max=1.0, required=True,
                  description="The region that runs backwards: [F,H,W] or [H,W] in 0..1."),
        _STRENGTH, c_("mask_mode", "union", ("union", "source"), "union also hides the forward copy"))),
    EffectSpec("motion_blur", "lens", lens.motion_blur, "blur along per-pixel optical flow", (
        f_("shutter_angle", 180.0, 0.0, 360.0, "shutter angle in degrees (blur = angle/360 of the motion)"),
        i_("taps", 9, 2, 64, "maximum samples along the motion"),
        ParamSpec("flow", "flow", None, description="Precomputed motion [F,H,W,2] in px per frame (else DIS flow).",
                  optional=True),
        _FLOW_SIDE)),
    EffectSpec("depth_of_field", "lens", lens.depth_of_field, "depth-dependent blur from a depth map", (
        ParamSpec("depth", "depth", above=0.0, required=True,
                  description="Depth [F,H,W] or [H,W], > 0, larger = farther."),
        ParamSpec("focus_distance", "floats", 1.0, None, 1e9, "Focus distance in depth units (one value or one per "
                  "frame).", above=0.0, step=0.01),
        ParamSpec("aperture", "floats", 4.0, 0.0, 256.0, "Blur sigma (px) of a point at infinity (one value or one per "
                  "frame).", step=0.1),
        f_("max_blur", 16.0, 0.0, 256.0, "largest blur sigma in px"))),
    EffectSpec("vignette", "lens", lens.vignette, "darken towards the corners", (
        f_("strength", 0.35, 0.0, 1.0, "darkening at the corners"),
        f_("radius", 0.75, 0.0, 2.0, "start of the fall-off (half-diagonals)"),
        f_("softness", 0.5, 0.01, 2.0, "width of the fall-off"))),
    EffectSpec("chromatic_aberration", "lens", lens.chromatic_aberration, "radial red/blue fringing", (
        f_("strength", 0.004, 0.0, 0.1, "relative scale difference of red and blue"),)),
    EffectSpec("lens_distortion", "lens", lens.lens_distortion, "barrel (k1 > 0) or pincushion (k1 < 0)", (
        f_("k1", 0.1, -1.0, 1.0, "quadratic radial coefficient"), f_("k2", 0.0, -1.0, 1.0, "quartic coefficient"),
        b_("fit", True, "zoom so no border shows"),
        c_("padding", "border", PAD, "Border handling of the warp."))),
    EffectSpec("film_grain", "lens", lens.film_grain, "seeded luminance-dependent film grain", (
        f_("strength", 0.06, 0.0, 1.0, "grain amplitude"), f_("size", 1.5, 1.0, 16.0, "grain size in px"),
        f_("response", 0.7, 0.0, 1.0, "how much grain concentrates in the mid-tones"),
        f_("colour", 0.15, 0.0, 1.0, "0 monochrome grain, 1 per-channel grain")), seeded=True),
    EffectSpec("halation", "lens", lens.halation, "warm glow around highlights", (
        f_("strength", 0.3, 0.0, 2.0, "glow amount"), f_("threshold", 0.75, 0.0, 0.999, "luma where glow starts"),
        f_("radius", 0.02, 0.0, 0.5, "glow sigma as a fraction of the short side"),
        ParamSpec("tint", "floats", (1.0, 0.45, 0.25), 0.0, 1.0, "RGB tint of the glow: 3 numbers in 0..1.", length=3))),
    EffectSpec("dolly_zoom", "lens", lens.dolly_zoom, "scale about a centre per frame (dolly-zoom helper)", (
        ParamSpec("focal_ratio", "floats", 1.0, 0.05, 20.0, "Scale (> 1 zooms in): one value or one per frame.",
                  step=0.01),
        ParamSpec("center", "floats", (0.5, 0.5), 0.0, 1.0, "Centre (x, y) as fractions of width and height.", length=2),
        _PAD)),
    EffectSpec("grade", "color", color.grade, "colour grade preset with controls", (
        c_("preset", "cinematic", tuple(color.PRESETS), "Grading preset."), _STRENGTH,
        *(f_(k, None, lo, hi, f"{what.capitalize()} (None = the preset's value).", optional=True)
          for k, (lo, hi, what) in _GRADE_CONTROLS.items()))),
    EffectSpec("apply_lut", "color", color.apply_lut, "3-D LUT (.cube) with trilinear interpolation", (
        ParamSpec("lut", "lut", required=True, description="The 3-D table [N,N,N,3] (nodes pick a .cube file from "
                  "models/luts by name)."), _STRENGTH)),
    EffectSpec("letterbox", "frame", frame.letterbox, "black bars to a target aspect ratio", (
        f_("aspect", 2.39, 0.2, 10.0, "visible width / height"),)),
    EffectSpec("handheld_shake", "frame", frame.handheld_shake, "seeded low-passed handheld shake", (
        f_("strength", 1.0, 0.0, 5.0, "overall amount"), f_("translation", 0.01, 0.0, 0.2, "RMS shift / short side"),
        f_("rotation", 0.4, 0.0, 10.0, "RMS roll in degrees"), f_("frequency", 1.5, 0.05, 30.0, "cut-off in Hz"),
        _FPS, b_("crop", True, "Zoom just enough to hide the borders."),
        _PAD), seeded=True),
    EffectSpec("shake_impulse", "frame", frame.shake_impulse, "decaying camera hits on chosen frames", (
        s_("at", "0", "Frame indices of the hits, e.g. '3, 40' (negative counts from the end)."),
        f_("amplitude", 0.03, 0.0, 0.5, "peak shift / short side"), f_("rotation", 1.0, 0.0, 20.0, "roll degrees"),
        f_("frequency", 8.0, 0.1, 60.0, "oscillation Hz"), f_("decay", 6.0, 0.0, 100.0, "decay per second"),
        _FPS, _PAD), seeded=True),
    EffectSpec("whip_pan", "frame", frame.whip_pan, "whip-pan blur ramp (or transition into clip_b)", (
        ParamSpec("clip_b", "image", None, description="Second clip: a whip-pan transition at the cut.", optional=True),
        i_("at", -1, -1, 100000, "centre frame (-1 = middle; ignored with clip_b)"),
        i_("duration", 8, 1, 1000, "frames of the ramp"), f_("blur", 0.15, 0.0, 1.0, "peak blur / width"),
        f_("direction", 0.0, -360.0, 360.0, "pan direction in degrees (0 = right)"),
        i_("taps", 24, 2, 128, "samples along the blur"), _PAD),
        changes_length=True),
    EffectSpec("inception_fold", "stylised", stylised.inception_fold, "upper frame folds up over the viewer", (
        f_("angle", 90.0, 0.0, 90.0, "final fold angle in degrees (90 = a ceiling)"),
        f_("hinge", 0.4, 0.0, 1.0, "hinge row as a fraction of the height from the top"),
        f_("start", 0.0, 0.0, 1.0, "ramp start (normalised clip time)"),
        f_("end", 1.0, 0.0, 1.0, "ramp end (normalised clip time)"),
        f_("fov", 50.0, 5.0, 150.0, "vertical field of view in degrees"),
        f_("shade", 0.3, 0.0, 1.0, "darkening of the folded plane"),
        c_("fill", "mirror", stylised.FOLD_FILLS, "beyond the picture edge: mirrored plane, black, or dim source"))),
    EffectSpec("quantum_glitch", "stylised", stylised.quantum_glitch, "RGB split, block shifts, scanlines", (
        _STRENGTH, c_("trigger", "motion", ("motion", "frames", "all"), "which frames glitch"),
        s_("at", "", "Frame indices for trigger=frames, e.g. '3, 40'."),
        f_("percentile", 85.0, 0.0, 100.0, "motion percentile for trigger='motion'"),
        f_("rgb_split", 0.012, 0.0, 0.5, "red/blue offset / width"), i_("blocks", 8, 0, 256, "displaced bands"),
        f_("block_shift", 0.08, 0.0, 1.0, "band offset / width"),
        f_("scanlines", 0.3, 0.0, 1.0, "scanline darkening")), seeded=True),
    EffectSpec("deflicker", "deflicker", _deflicker, "stabilise exposure/colour + flow-guided blending", (
        _STRENGTH, f_("sigma", 4.0, 0.0, 100.0, "temporal smoothing of the exposure target (frames)"),
        f_("temporal", 0.5, 0.0, 0.95, "blend weight of the warped previous output"),
        f_("tolerance", 0.08, 0.0, 1.0, "largest colour difference still blended"),
        _FLOW_SIDE)),
]

EFFECTS: dict[str, EffectSpec] = {s.name: s for s in _SPECS}


def _spec(name: str) -> EffectSpec:
    if name not in EFFECTS:
        fail(f"unknown effect {name!r:.40}; known: {', '.join(EFFECTS)}")
    return EFFECTS[name]


def validate(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Full keyword arguments for effect ``name``: its defaults overlaid with ``params`` checked against the
    declaration (one-line ``ValueError`` naming ``effect.param``)."""
    return validate_params(_spec(name), params)


def apply_effect(name: str, frames: torch.Tensor, params: dict[str, Any] | None = None, seed: int = 0, *,
                 progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Check ``params`` against the declaration of effect ``name`` and run it (see :meth:`EffectSpec.run`)."""
    return _spec(name).run(frames, params, seed, progress=progress, cancel=cancel)


#: Director looks: grade + effects (the trajectory preset of the same name lives elsewhere).
LOOKS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "hitchcock": [
        ("grade", {"preset": "cinematic", "saturation": 0.8, "contrast": 1.2, "shadows": -0.08}),
        ("vignette", {"strength": 0.4, "radius": 0.7}),
        ("film_grain", {"strength": 0.05, "size": 1.5}),
        ("letterbox", {"aspect": 1.85}),
    ],
    "michael_bay": [
        ("grade", {"preset": "teal_orange", "saturation": 1.3, "contrast": 1.2}),
        ("halation", {"strength": 0.45, "threshold": 0.7}),
        ("chromatic_aberration", {"strength": 0.003}),
        ("handheld_shake", {"strength": 1.0, "translation": 0.008, "rotation": 0.3, "frequency": 2.5}),
        ("letterbox", {"aspect": 2.39}),
    ],
    "wes_anderson": [
        ("grade", {"preset": "vibrant", "temperature": 0.2, "saturation": 1.15, "contrast": 0.9, "shadows": 0.1}),
        ("film_grain", {"strength": 0.02, "size": 1.2, "colour": 0.0}),
        ("letterbox", {"aspect": 1.85}),
    ],
    "christopher_nolan": [
        ("grade", {"preset": "cinematic", "temperature": -0.1, "saturation": 0.85, "contrast": 1.15}),
        ("halation", {"strength": 0.15, "threshold": 0.8}),
        ("film_grain", {"strength": 0.06, "size": 2.0}),
        ("letterbox", {"aspect": 2.39}),
    ],
}


def apply_look(name: str, frames: torch.Tensor, seed: int = 0, *, progress: ProgressFn | None = None,
               cancel: CancelFn | None = None) -> torch.Tensor:
    """Run the steps of director look ``name``; step ``i`` gets seed ``seed + i``. ``progress(done, total)`` counts
    steps; ``cancel()`` is polled before each step and inside it."""
    if name not in LOOKS:
        fail(f"unknown look {name!r:.40}; known: {', '.join(LOOKS)}")
    x = frames
    steps = LOOKS[name]
    for i, (eff, params) in enumerate(steps):
        poll(cancel, f"look {name}")
        x = apply_effect(eff, x, params, seed + i, cancel=cancel)
        if progress is not None:
            progress(i + 1, len(steps))
    return x
