"""Cinematic effect nodes: one node per effect (``DTV_Effect_<name>``), a colour grade with offset controls and the
director looks. Every widget is generated from the effect's one parameter declaration in ``effects/registry.py``
(type, range, default, tooltip), ``validate_inputs`` checks every value against it before anything runs, and a LUT
is picked by name from ComfyUI's ``models/luts`` folder only: no input of these nodes takes a path."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import comfy.model_management as mm
import comfy.utils
import folder_paths
import numpy as np
import torch
from comfy_api.latest import io

from ..effects._core import EffectError
from ..effects.color import PRESETS as GRADE_PRESETS
from ..effects.color import load_cube
from ..effects.params import ParamSpec, check_param
from ..effects.registry import EFFECTS, LOOKS, apply_effect, apply_look
from ..trajectory.camera.model import CameraTrajectory
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, Trajectory, cancel_hook, not_one_of

#: The model folder of ``.cube`` LUTs (registered by the pack's ``on_load``).
LUT_FOLDER = "luts"
LUT_EXTENSIONS = {".cube"}
SEED_MAX = 2**31 - 1
#: Effects with a node of their own ("grade" is ``DTV_ColorGrade``, with offsets from the preset's values).
NODE_EFFECTS = [n for n in EFFECTS if n != "grade"]
#: Per-frame values a connected camera trajectory supplies (they replace the widget's single value).
FROM_TRAJECTORY: dict[str, Callable[[CameraTrajectory], np.ndarray]] = {
    "focus_distance": lambda t: np.asarray(t.focus_distance, dtype=np.float64),
    "aperture": lambda t: np.asarray(t.aperture, dtype=np.float64),
    "focal_ratio": lambda t: np.asarray(t.K[:, 0, 0] / t.K[0, 0, 0], dtype=np.float64),
}


def per_frame(values: np.ndarray, n: int) -> list[float]:
    """Trajectory values ``[F]`` resampled to a clip of ``n`` frames (interpolation may have changed the count)."""
    if len(values) == n:
        return [float(v) for v in values]
    x = np.linspace(0.0, 1.0, len(values)) if len(values) > 1 else np.zeros(1)
    return [float(v) for v in np.interp(np.linspace(0.0, 1.0, n), x, values)]


def lut_names() -> list[str]:
    """The ``.cube`` files in the LUT folder(s), by name (empty until the folder is registered)."""
    if LUT_FOLDER not in folder_paths.folder_names_and_paths:
        return []
    return [n for n in folder_paths.get_filename_list(LUT_FOLDER) if os.path.splitext(n)[1].lower() in LUT_EXTENSIONS]


def resolve_lut(name: str) -> str:
    """The file of LUT ``name``: only a listed name, resolved by ``folder_paths`` and checked to lie inside the LUT
    folder, so no input can reach any other file."""
    if name not in lut_names():
        raise EffectError(not_one_of(f"apply_lut.lut (a file in models/{LUT_FOLDER})", name, lut_names()))
    path = folder_paths.get_full_path(LUT_FOLDER, name)
    roots = [os.path.abspath(r) for r in folder_paths.get_folder_paths(LUT_FOLDER)]
    full = os.path.abspath(path) if path else ""
    if not full or not any(os.path.commonpath([full, r]) == r for r in roots):
        raise EffectError(f"apply_lut.lut: {name[:60]!r} is not inside models/{LUT_FOLDER}")
    return full


def run_effect(name: str, images: torch.Tensor, params: dict[str, Any], seed: int) -> torch.Tensor:
    """One registry effect on a ComfyUI IMAGE batch on the compute device: progress per frame or chunk, cancel
    honoured inside the effect."""
    pbar = comfy.utils.ProgressBar(max(1, images.shape[0]))
    dev = mm.get_torch_device()
    moved = {k: (v.to(dev) if isinstance(v, torch.Tensor) else v) for k, v in params.items()}
    out = apply_effect(name, images.to(dev, torch.float32), moved, seed, progress=pbar.update_absolute,
                       cancel=cancel_hook)
    return out.to(mm.intermediate_device())


def _step(p: ParamSpec) -> float:
    if p.step is not None:
        return p.step
    lo = p.min if p.min is not None else (p.above or 0.0)
    return 10.0 ** math.floor(math.log10(((p.max or 1.0) - lo) / 100.0))


def _tip(p: ParamSpec) -> str:
    rng = f" Range: {p.range_text()}." if p.kind in ("float", "int", "floats") else ""
    return f"{p.description.rstrip('.')}.{rng}"


def _widget(p: ParamSpec) -> io.Input | None:
    """The typed input of one declared parameter (None: a kind no ComfyUI type carries, e.g. optical flow)."""
    opt = not p.required
    if p.kind == "float" or (p.kind == "floats" and p.length is None):
        lo = p.min if p.min is not None else p.above
        slider = io.NumberDisplay.slider if lo is not None and p.max is not None and p.max - lo <= 10 else None
        default = p.default if isinstance(p.default, float) else float(p.default)
        return io.Float.Input(p.name, default=default, min=lo, max=p.max, step=_step(p), tooltip=_tip(p),
                              display_mode=slider)
    if p.kind == "floats":
        return io.String.Input(p.name, default=", ".join(f"{v:g}" for v in p.default),
                               tooltip=f"{_tip(p)} Comma-separated.")
    if p.kind == "int":
        return io.Int.Input(p.name, default=p.default, min=int(p.min), max=int(p.max), step=1, tooltip=_tip(p))
    if p.kind == "bool":
        return io.Boolean.Input(p.name, default=p.default, tooltip=_tip(p))
    if p.kind == "choice":
        return io.Combo.Input(p.name, options=list(p.choices), default=p.default, tooltip=_tip(p))
    if p.kind == "str":
        return io.String.Input(p.name, default=p.default, tooltip=_tip(p))
    if p.kind == "mask":
        return io.Mask.Input(p.name, optional=opt, tooltip=_tip(p))
    if p.kind == "depth":
        return Depth.Input(p.name, optional=opt, tooltip=_tip(p))
    if p.kind == "image":
        return io.Image.Input(p.name, optional=opt, tooltip=_tip(p))
    if p.kind == "lut":
        return io.Combo.Input(p.name, options=lut_names(), tooltip=f"A .cube LUT from models/{LUT_FOLDER}, by name.")
    return None


def _widget_params(name: str) -> list[ParamSpec]:
    return [p for p in EFFECTS[name].params if p.kind not in ("mask", "depth", "image", "flow")]


def check_seed(seed: object) -> str | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        return f"seed must be an integer in [0, {SEED_MAX}], got {str(seed)[:40]!r}"
    return None


def check_widgets(name: str, values: dict[str, Any]) -> bool | str:
    """``validate_inputs`` of effect node ``name``: every widget value against the declaration (linked values
    arrive as None and are checked when the effect runs). True, or one line naming the input and the problem."""
    for p in _widget_params(name):
        v = values.get(p.name)
        if v is None:
            continue
        if p.kind == "lut":
            if v not in lut_names():
                return not_one_of(f"{name}.{p.name} (a file in models/{LUT_FOLDER})", v, lut_names())
            continue
        if p.kind == "choice" and v not in p.choices:
            return not_one_of(f"{name}.{p.name}", v, list(p.choices))
        try:
            check_param(name, p, v)
        except ValueError as e:
            return str(e)
    return check_seed(values.get("seed")) or True


def _effect_node(name: str) -> type[io.ComfyNode]:
    spec = EFFECTS[name]
    per_frame_params = [p for p in spec.params if p.name in FROM_TRAJECTORY]

    class EffectNode(DTVNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            inputs: list[io.Input] = [io.Image.Input("images", tooltip="The clip (IMAGE batch, one image a frame).")]
            inputs += [w for p in spec.params if (w := _widget(p)) is not None]
            notes = []
            if per_frame_params:
                names = ", ".join(p.name for p in per_frame_params)
                inputs.append(Trajectory.Input("trajectory", optional=True,
                                               tooltip=f"A camera path: when connected, its per-frame {names} "
                                                       "replace the widget value."))
                notes.append(f"Connect a camera trajectory for per-frame {names}.")
            if spec.seeded:
                inputs.append(io.Int.Input("seed", default=0, min=0, max=SEED_MAX, control_after_generate=False,
                                           tooltip="Seed of the randomness (same seed, same result)."))
            if any(p.name == "strength" for p in spec.params):
                notes.append("Strength 0 returns the clip unchanged.")
            return io.Schema(
                node_id=f"{PREFIX}Effect_{name}",
                display_name=f"Draw to Video: {name.replace('_', ' ')}",
                category=f"{CATEGORY}/effects/{spec.group}",
                description=" ".join([spec.description[0].upper() + spec.description[1:] + ".", *notes]),
                inputs=inputs,
                outputs=[io.Image.Output(display_name="images")],
            )

        @classmethod
        def validate_inputs(cls, **kwargs: Any) -> bool | str:
            own = check_widgets(name, kwargs)  # the registry's messages first, then the schema's generic checks
            return own if own is not True else super().validate_inputs(**kwargs)

        @classmethod
        def execute(cls, images: torch.Tensor, **kwargs: Any) -> io.NodeOutput:
            params: dict[str, Any] = {}
            for p in spec.params:
                v = kwargs.get(p.name)
                if v is None:
                    continue
                if p.kind == "depth":
                    v = v.depth if isinstance(v, DepthValue) else v
                elif p.kind == "lut":
                    v = load_cube(resolve_lut(v))
                params[p.name] = v
            traj = kwargs.get("trajectory")
            if traj is not None:
                for p in per_frame_params:
                    params[p.name] = per_frame(FROM_TRAJECTORY[p.name](traj), images.shape[0])
            return io.NodeOutput(run_effect(name, images, params, kwargs.get("seed", 0)))

    EffectNode.__name__ = EffectNode.__qualname__ = "Effect_" + name
    return EffectNode


_GRADE = {p.name: p for p in EFFECTS["grade"].params}
GRADE_CONTROLS = [p for p in EFFECTS["grade"].params if p.name not in ("preset", "strength")]
OFFSET = 3.0


class ColorGrade(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}ColorGrade",
            display_name="Draw to Video: colour grade",
            category=f"{CATEGORY}/effects/color",
            description="Colour grading presets (natural, cinematic, vibrant, teal-orange, bleach bypass, noir, "
                        "day-for-night) with temperature, tint, saturation, contrast, highlights and shadows. "
                        "Controls at 0 offset keep the preset's own values.",
            inputs=[
                io.Image.Input("images", tooltip="The clip."),
                io.Combo.Input("preset", options=list(_GRADE["preset"].choices), default=_GRADE["preset"].default,
                               tooltip="The grade."),
                io.Float.Input("strength", default=1.0, min=0.0, max=1.0, step=0.01,
                               display_mode=io.NumberDisplay.slider, tooltip="Mix with the original (0 = unchanged)."),
                *[io.Float.Input(p.name, default=0.0, min=-OFFSET, max=OFFSET, step=0.01,
                                 tooltip=f"{p.description.split(' (')[0]}: added to the preset's value (0 = the "
                                         f"preset's own); the sum is kept {p.range_text()}.")
                  for p in GRADE_CONTROLS],
            ],
            outputs=[io.Image.Output(display_name="images")],
        )

    @classmethod
    def validate_inputs(cls, **kwargs: Any) -> bool | str:
        preset = kwargs.get("preset")
        if preset is not None and preset not in GRADE_PRESETS:
            return not_one_of("preset", preset, list(GRADE_PRESETS))
        try:
            if kwargs.get("strength") is not None:
                check_param("grade", _GRADE["strength"], kwargs["strength"])
            for p in GRADE_CONTROLS:
                v = kwargs.get(p.name)
                if v is not None:
                    check_param("grade", ParamSpec(p.name, "float", 0.0, -OFFSET, OFFSET), v)
        except ValueError as e:
            return str(e)
        return super().validate_inputs(**kwargs)

    @classmethod
    def execute(cls, images: torch.Tensor, preset: str, strength: float, **controls: float) -> io.NodeOutput:
        base = GRADE_PRESETS[preset]
        kw = {p.name: float(np.clip(getattr(base, p.name) + controls[p.name], p.min, p.max))
              for p in GRADE_CONTROLS if controls.get(p.name, 0.0) != 0.0}
        return io.NodeOutput(run_effect("grade", images, {"preset": preset, "strength": strength, **kw}, 0))


class CinematicLook(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}CinematicLook",
            display_name="Draw to Video: cinematic look",
            category=f"{CATEGORY}/effects",
            description="A director look (grade + lens and frame effects): hitchcock, michael_bay, wes_anderson, "
                        "christopher_nolan. Pair it with the camera preset of the same name.",
            inputs=[
                io.Image.Input("images", tooltip="The clip."),
                io.Combo.Input("look", options=list(LOOKS), default=next(iter(LOOKS)), tooltip="The director look."),
                io.Int.Input("seed", default=0, min=0, max=SEED_MAX, control_after_generate=False,
                             tooltip="Seed of grain and shake."),
            ],
            outputs=[io.Image.Output(display_name="images")],
        )

    @classmethod
    def validate_inputs(cls, **kwargs: Any) -> bool | str:
        look = kwargs.get("look")
        if look is not None and look not in LOOKS:
            return not_one_of("look", look, list(LOOKS))
        return check_seed(kwargs.get("seed")) or super().validate_inputs(**kwargs)

    @classmethod
    def execute(cls, images: torch.Tensor, look: str, seed: int) -> io.NodeOutput:
        pbar = comfy.utils.ProgressBar(len(LOOKS[look]))
        out = apply_look(look, images.to(mm.get_torch_device(), torch.float32), seed, progress=pbar.update_absolute,
                         cancel=cancel_hook)
        return io.NodeOutput(out.to(mm.intermediate_device()))


NODES = [*(_effect_node(n) for n in NODE_EFFECTS), ColorGrade, CinematicLook]
