"""Registry of effects (for the node layer and the CLI) and director looks.

:data:`EFFECTS` maps a name to an :class:`EffectSpec` whose :class:`ParamSpec` list gives each
parameter's kind, default, range and a description; :func:`apply_effect` validates a params dict
against it (one-line ``ValueError``) and runs the effect. :data:`LOOKS` maps a director's name to a
list of ``(effect, params)`` steps (grade + effects; the camera trajectory preset of the same name is
applied elsewhere) run by :func:`apply_look`.

Parameter kinds: ``float``, ``int``, ``bool``, ``choice`` (one of ``choices``), ``str``, ``floats``
(a number, one number per frame, or a comma-separated string), and tensor inputs ``image``
(``[F,H,W,C]``), ``mask`` (``[F,H,W]``/``[H,W]``), ``depth`` (same), ``flow`` (``[F,H,W,2]``), ``lut``
(``[N,N,N,3]`` or a ``.cube`` path). ``required`` parameters have no default; ``optional`` ones may be
``None`` (meaning "derive it", e.g. the grade preset's own value).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import color, frame, lens, stylised, time
from ._core import fail
from .deflicker import deflicker as _deflicker  # the module name equals the function's

KINDS = ("float", "int", "bool", "choice", "str", "floats", "image", "mask", "depth", "flow", "lut")
TENSOR_KINDS = ("image", "mask", "depth", "flow")


@dataclass(frozen=True)
class ParamSpec:
    """One effect parameter."""

    name: str
    kind: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    description: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    optional: bool = False


@dataclass(frozen=True)
class EffectSpec:
    """One effect: ``fn(frames, **params, seed=seed) -> frames``."""

    name: str
    group: str
    fn: Callable[..., torch.Tensor]
    description: str
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    changes_length: bool = False

    def defaults(self) -> dict[str, Any]:
        """Default values of the non-required parameters."""
        return {p.name: p.default for p in self.params if not p.required}


def _f(name: str, default: float, lo: float, hi: float, desc: str, optional: bool = False) -> ParamSpec:
    return ParamSpec(name, "float", default, lo, hi, desc, optional=optional)


def _i(name: str, default: int, lo: int, hi: int, desc: str) -> ParamSpec:
    return ParamSpec(name, "int", default, lo, hi, desc)


def _c(name: str, default: str, choices: Sequence[str], desc: str) -> ParamSpec:
    return ParamSpec(name, "choice", default, None, None, desc, tuple(choices))


PAD = ("border", "reflection", "zeros")
_STRENGTH = _f("strength", 1.0, 0.0, 1.0, "blend with the input (0 = unchanged)")
_FPS = _f("fps", 24.0, 1.0, 240.0, "frames per second of the clip")

_SPECS: list[EffectSpec] = [
    EffectSpec("speed_ramp", "time", time.speed_ramp, "re-time by a speed curve, blending neighbour frames", (
        ParamSpec("curve", "str", "ramp_slow_mid", description="'u:speed, ...' keyframes over normalised output "
                  "time, or a preset: " + ", ".join(time.PRESET_CURVES)),
        _FPS, _STRENGTH, ParamSpec("blend", "bool", True, description="blend neighbours (else nearest frame)")),
        changes_length=True),
    EffectSpec("freeze_frame", "time", time.freeze_frame, "hold one frame for a number of frames", (
        _i("index", 0, -100000, 100000, "frame to hold (negative from the end)"),
        _i("duration", 12, 0, 100000, "number of held frames"),
        _c("mode", "insert", ("insert", "hold"), "insert lengthens the clip; hold replaces the following frames")),
        changes_length=True),
    EffectSpec("reverse", "time", time.reverse, "play the clip backwards"),
    EffectSpec("boomerang", "time", time.boomerang, "forward then backward", (
        ParamSpec("seamless", "bool", True, description="drop the final repeat of frame 0 for looping"),),
        changes_length=True),
    EffectSpec("tenet_reverse", "time", time.tenet_reverse, "masked region runs backwards, the rest forwards", (
        ParamSpec("mask", "mask", required=True, description="region [F,H,W] or [H,W] in 0..1 (see mask_from_depth)"),
        _STRENGTH, _c("mask_mode", "union", ("union", "source"), "union also hides the forward copy"))),
    EffectSpec("motion_blur", "lens", lens.motion_blur, "blur along per-pixel optical flow", (
        _f("shutter_angle", 180.0, 0.0, 360.0, "shutter angle in degrees (blur = angle/360 of the motion)"),
        _i("taps", 9, 2, 64, "maximum samples along the motion"),
        ParamSpec("flow", "flow", None, description="optional precomputed motion [F,H,W,2] in px/frame",
                  optional=True),
        _i("flow_max_side", 512, 32, 4096, "working resolution of the DIS flow (long side)"))),
    EffectSpec("depth_of_field", "lens", lens.depth_of_field, "depth-dependent blur from a depth map", (
        ParamSpec("depth", "depth", required=True, description="depth [F,H,W] or [H,W], > 0, larger = farther"),
        ParamSpec("focus_distance", "floats", 1.0, 1e-6, 1e9, "focus distance (one or per frame)"),
        ParamSpec("aperture", "floats", 4.0, 0.0, 256.0, "blur sigma (px) of a point at infinity (one or per frame)"),
        _f("max_blur", 16.0, 0.0, 256.0, "largest blur sigma in px"))),
    EffectSpec("vignette", "lens", lens.vignette, "darken towards the corners", (
        _f("strength", 0.35, 0.0, 1.0, "darkening at the corners"),
        _f("radius", 0.75, 0.0, 2.0, "start of the fall-off (half-diagonals)"),
        _f("softness", 0.5, 0.01, 2.0, "width of the fall-off"))),
    EffectSpec("chromatic_aberration", "lens", lens.chromatic_aberration, "radial red/blue fringing", (
        _f("strength", 0.004, 0.0, 0.1, "relative scale difference of red and blue"),)),
    EffectSpec("lens_distortion", "lens", lens.lens_distortion, "barrel (k1 > 0) or pincushion (k1 < 0)", (
        _f("k1", 0.1, -1.0, 1.0, "quadratic radial coefficient"), _f("k2", 0.0, -1.0, 1.0, "quartic coefficient"),
        ParamSpec("fit", "bool", True, description="zoom so no border shows"),
        _c("padding", "border", PAD, "border handling"))),
    EffectSpec("film_grain", "lens", lens.film_grain, "seeded luminance-dependent film grain", (
        _f("strength", 0.06, 0.0, 1.0, "grain amplitude"), _f("size", 1.5, 1.0, 16.0, "grain size in px"),
        _f("response", 0.7, 0.0, 1.0, "how much grain concentrates in the mid-tones"),
        _f("colour", 0.15, 0.0, 1.0, "0 monochrome grain, 1 per-channel grain"))),
    EffectSpec("halation", "lens", lens.halation, "warm glow around highlights", (
        _f("strength", 0.3, 0.0, 2.0, "glow amount"), _f("threshold", 0.75, 0.0, 0.999, "luma where glow starts"),
        _f("radius", 0.02, 0.0, 0.5, "glow sigma as a fraction of the short side"),
        ParamSpec("tint", "floats", (1.0, 0.45, 0.25), 0.0, 1.0, "RGB tint of the glow (3 values)"))),
    EffectSpec("dolly_zoom", "lens", lens.dolly_zoom, "scale about a centre per frame (dolly-zoom helper)", (
        ParamSpec("focal_ratio", "floats", 1.0, 0.05, 20.0, "scale per frame (> 1 zooms in)"),
        ParamSpec("center", "floats", (0.5, 0.5), 0.0, 1.0, "centre (x, y) as fractions"),
        _c("padding", "reflection", PAD, "border handling"))),
    EffectSpec("grade", "color", color.grade, "colour grade preset with controls", (
        _c("preset", "cinematic", tuple(color.PRESETS), "grading preset"), _STRENGTH,
        *(_f(k, None, lo, hi, f"{k} (None = the preset's value)", optional=True)  # type: ignore[arg-type]
          for k, (lo, hi) in color.CONTROL_RANGES.items()))),
    EffectSpec("apply_lut", "color", color.apply_lut, "3-D LUT (.cube) with trilinear interpolation", (
        ParamSpec("lut", "lut", required=True, description="[N,N,N,3] table or a .cube file path"), _STRENGTH)),
    EffectSpec("letterbox", "frame", frame.letterbox, "black bars to a target aspect ratio", (
        _f("aspect", 2.39, 0.2, 10.0, "visible width / height"),)),
    EffectSpec("handheld_shake", "frame", frame.handheld_shake, "seeded low-passed handheld shake", (
        _f("strength", 1.0, 0.0, 5.0, "overall amount"), _f("translation", 0.01, 0.0, 0.2, "RMS shift / short side"),
        _f("rotation", 0.4, 0.0, 10.0, "RMS roll in degrees"), _f("frequency", 1.5, 0.05, 30.0, "cut-off in Hz"),
        _FPS, ParamSpec("crop", "bool", True, description="zoom to hide borders"),
        _c("padding", "reflection", PAD, "border handling"))),
    EffectSpec("shake_impulse", "frame", frame.shake_impulse, "decaying camera hits on chosen frames", (
        ParamSpec("at", "str", "0", description="frame indices, e.g. '3, 40' (negative from the end)"),
        _f("amplitude", 0.03, 0.0, 0.5, "peak shift / short side"), _f("rotation", 1.0, 0.0, 20.0, "roll degrees"),
        _f("frequency", 8.0, 0.1, 60.0, "oscillation Hz"), _f("decay", 6.0, 0.0, 100.0, "decay per second"),
        _FPS, _c("padding", "reflection", PAD, "border handling"))),
    EffectSpec("whip_pan", "frame", frame.whip_pan, "whip-pan blur ramp (or transition into clip_b)", (
        ParamSpec("clip_b", "image", None, description="optional second clip: transition at the cut",
                  optional=True),
        _i("at", -1, -1, 100000, "centre frame (-1 = middle; ignored with clip_b)"),
        _i("duration", 8, 1, 1000, "frames of the ramp"), _f("blur", 0.15, 0.0, 1.0, "peak blur / width"),
        _f("direction", 0.0, -360.0, 360.0, "pan direction in degrees (0 = right)"),
        _i("taps", 24, 2, 128, "samples along the blur"), _c("padding", "reflection", PAD, "border handling")),
        changes_length=True),
    EffectSpec("inception_fold", "stylised", stylised.inception_fold, "upper frame folds up over the viewer", (
        _f("angle", 90.0, 0.0, 90.0, "final fold angle in degrees (90 = a ceiling)"),
        _f("hinge", 0.4, 0.0, 1.0, "hinge row as a fraction of the height from the top"),
        _f("start", 0.0, 0.0, 1.0, "ramp start (normalised clip time)"),
        _f("end", 1.0, 0.0, 1.0, "ramp end (normalised clip time)"),
        _f("fov", 50.0, 5.0, 150.0, "vertical field of view in degrees"),
        _f("shade", 0.3, 0.0, 1.0, "darkening of the folded plane"),
        _c("fill", "mirror", stylised.FOLD_FILLS, "beyond the picture edge: mirrored plane, black, or dim source"))),
    EffectSpec("quantum_glitch", "stylised", stylised.quantum_glitch, "RGB split, block shifts, scanlines", (
        _STRENGTH, _c("trigger", "motion", ("motion", "frames", "all"), "which frames glitch"),
        ParamSpec("at", "str", "", description="frame indices for trigger='frames'"),
        _f("percentile", 85.0, 0.0, 100.0, "motion percentile for trigger='motion'"),
        _f("rgb_split", 0.012, 0.0, 0.5, "red/blue offset / width"), _i("blocks", 8, 0, 256, "displaced bands"),
        _f("block_shift", 0.08, 0.0, 1.0, "band offset / width"), _f("scanlines", 0.3, 0.0, 1.0, "scanline darkening"))),
    EffectSpec("deflicker", "deflicker", _deflicker, "stabilise exposure/colour + flow-guided blending", (
        _STRENGTH, _f("sigma", 4.0, 0.0, 100.0, "temporal smoothing of the exposure target (frames)"),
        _f("temporal", 0.5, 0.0, 0.95, "blend weight of the warped previous output"),
        _f("tolerance", 0.08, 0.0, 1.0, "largest colour difference still blended"),
        _i("flow_max_side", 512, 32, 4096, "working resolution of the DIS flow (long side)"))),
]

EFFECTS: dict[str, EffectSpec] = {s.name: s for s in _SPECS}


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_param(effect: str, p: ParamSpec, v: Any) -> Any:
    where = f"{effect}.{p.name}"
    if v is None:
        if p.optional:
            return None
        fail(f"{where} must not be None")
    if p.kind in ("float", "int"):
        if not _is_num(v) or not math.isfinite(float(v)):
            fail(f"{where} must be a finite number, got {v!r}")
        if p.kind == "int":
            if not float(v).is_integer():
                fail(f"{where} must be an integer, got {v!r}")
            v = int(v)
        else:
            v = float(v)
        if (p.min is not None and v < p.min) or (p.max is not None and v > p.max):
            fail(f"{where} must be in [{p.min}, {p.max}], got {v}")
    elif p.kind == "bool":
        if not isinstance(v, bool):
            fail(f"{where} must be a bool, got {v!r}")
    elif p.kind == "choice":
        if v not in p.choices:
            fail(f"{where} must be one of {', '.join(p.choices)}; got {v!r}")
    elif p.kind == "str":
        if not isinstance(v, str):
            fail(f"{where} must be a string, got {type(v).__name__}")
    elif p.kind == "floats":
        if isinstance(v, str):
            try:
                v = [float(s) for s in v.split(",") if s.strip()]
            except ValueError:
                fail(f"{where} must be numbers separated by commas, got {v!r}")
        vals = v.detach().flatten().tolist() if isinstance(v, torch.Tensor) else [v] if _is_num(v) else v
        if not isinstance(vals, (list, tuple)) or not vals or not all(_is_num(x) and math.isfinite(x) for x in vals):
            fail(f"{where} must be a number or a list of finite numbers")
        if (p.min is not None and min(vals) < p.min) or (p.max is not None and max(vals) > p.max):
            fail(f"{where} values must be in [{p.min}, {p.max}]")
    elif p.kind in TENSOR_KINDS:
        if not isinstance(v, torch.Tensor):
            fail(f"{where} must be a tensor, got {type(v).__name__}")
    elif p.kind == "lut":
        if not isinstance(v, (torch.Tensor, str, Path)):
            fail(f"{where} must be a [N,N,N,3] tensor or a .cube path, got {type(v).__name__}")
    return v


def validate_params(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Full keyword arguments for effect ``name``: defaults overlaid with checked ``params``."""
    if name not in EFFECTS:
        fail(f"unknown effect {name!r}; known: {', '.join(EFFECTS)}")
    spec = EFFECTS[name]
    params = {} if params is None else params
    if not isinstance(params, dict):
        fail(f"{name}: params must be a dict, got {type(params).__name__}")
    known = {p.name: p for p in spec.params}
    for k in params:
        if k not in known:
            fail(f"{name}: unknown parameter {k!r}; known: {', '.join(known) or 'none'}")
    kwargs: dict[str, Any] = {}
    for p in spec.params:
        if p.name in params:
            kwargs[p.name] = _check_param(name, p, params[p.name])
        elif p.required:
            fail(f"{name}: missing required parameter {p.name!r}")
        else:
            kwargs[p.name] = p.default
    return kwargs


def apply_effect(name: str, frames: torch.Tensor, params: dict[str, Any] | None = None, seed: int = 0) -> torch.Tensor:
    """Validate ``params`` for effect ``name`` and run it on ``frames``."""
    kwargs = validate_params(name, params)
    if isinstance(seed, bool) or not isinstance(seed, int):
        fail(f"seed must be an int, got {seed!r}")
    return EFFECTS[name].fn(frames, **kwargs, seed=seed)


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


def apply_look(name: str, frames: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Run the steps of director look ``name``; step ``i`` gets seed ``seed + i``."""
    if name not in LOOKS:
        fail(f"unknown look {name!r}; known: {', '.join(LOOKS)}")
    x = frames
    for i, (eff, params) in enumerate(LOOKS[name]):
        x = apply_effect(eff, x, params, seed + i)
    return x
