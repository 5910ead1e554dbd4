"""Cinematic effect nodes: one node per effect group (an effect dropdown plus name=value parameters), a colour
grade with explicit controls, and the director looks. The effects themselves live in ``effects/``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import comfy.model_management as mm
import comfy.utils
import folder_paths
import numpy as np
import torch
from comfy_api.latest import io

from ..effects.color import CONTROL_RANGES
from ..effects.color import PRESETS as GRADE_PRESETS
from ..effects.params_text import parse_param_text
from ..effects.registry import EFFECTS, LOOKS, apply_effect, apply_look
from ..trajectory.camera.model import CameraTrajectory
from .base import CATEGORY, PREFIX, Depth, DepthValue, Trajectory

LUT_FOLDER = "luts"
if LUT_FOLDER not in folder_paths.folder_names_and_paths:
    folder_paths.add_model_folder_path(LUT_FOLDER, f"{folder_paths.models_dir}/{LUT_FOLDER}")
    folder_paths.folder_names_and_paths[LUT_FOLDER] = (folder_paths.folder_names_and_paths[LUT_FOLDER][0], {".cube"})

GROUPS: dict[str, list[str]] = defaultdict(list)
for _name, _spec in EFFECTS.items():
    GROUPS[_spec.group].append(_name)
GROUP_TITLES = {"time": "Time", "lens": "Lens", "color": "Colour", "frame": "Frame", "stylised": "Stylised",
                "deflicker": "Deflicker"}


def per_frame(values: np.ndarray, n: int) -> list[float]:
    """Trajectory values ``[F]`` resampled to a clip of ``n`` frames (interpolation may have changed the count)."""
    if len(values) == n:
        return [float(v) for v in values]
    x = np.linspace(0.0, 1.0, len(values)) if len(values) > 1 else np.zeros(1)
    return [float(v) for v in np.interp(np.linspace(0.0, 1.0, n), x, values)]


def _param_help(names: list[str]) -> str:
    lines = []
    for n in names:
        ps = ", ".join(f"{p.name}={p.default}" for p in EFFECTS[n].params if p.kind not in ("mask", "depth", "image",
                                                                                           "flow", "lut"))
        lines.append(f"{n}: {ps or '(none)'}")
    return "name=value pairs, one per line (empty = defaults). " + " | ".join(lines)


def run_effect(name: str, images: torch.Tensor, params: dict[str, Any], seed: int) -> torch.Tensor:
    """Apply one registry effect to a ComfyUI IMAGE batch on the compute device, with progress and cancel."""
    mm.throw_exception_if_processing_interrupted()
    pbar = comfy.utils.ProgressBar(1)
    dev = mm.get_torch_device()
    moved = {k: (v.to(dev) if isinstance(v, torch.Tensor) else v) for k, v in params.items()}
    out = apply_effect(name, images.to(dev, torch.float32), moved, seed)
    pbar.update(1)
    return out.to(mm.intermediate_device())


def _make_group_node(group: str) -> type[io.ComfyNode]:
    names = GROUPS[group]
    kinds = {p.kind for n in names for p in EFFECTS[n].params}

    class EffectGroup(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            inputs: list = [
                io.Image.Input("images", tooltip="The clip (IMAGE batch, one image per frame)."),
                io.Combo.Input("effect", options=names, default=names[0],
                               tooltip="; ".join(f"{n}: {EFFECTS[n].description}" for n in names)),
                io.String.Input("params", default="", multiline=True, tooltip=_param_help(names)),
                io.Int.Input("seed", default=0, min=0, max=2**31 - 1, tooltip="Seed of any randomness."),
            ]
            if "mask" in kinds:
                inputs.append(io.Mask.Input("mask", optional=True, tooltip="Region mask (tenet_reverse)."))
            if "depth" in kinds:
                inputs.append(Depth.Input("depth", optional=True, tooltip="Depth map (depth_of_field)."))
                inputs.append(Trajectory.Input("trajectory", optional=True,
                                               tooltip="Camera path: focus distance and aperture per frame for "
                                                       "depth_of_field, focal ratio for dolly_zoom."))
            if "image" in kinds:
                inputs.append(io.Image.Input("clip_b", optional=True, tooltip="Second clip (whip_pan transition)."))
            if "lut" in kinds:
                inputs.append(io.Combo.Input("lut", options=["none", *folder_paths.get_filename_list(LUT_FOLDER)],
                                             default="none", optional=True,
                                             tooltip="A .cube LUT from models/luts (apply_lut)."))
            return io.Schema(
                node_id=f"{PREFIX}Effect{GROUP_TITLES[group].replace('Colour', 'Color')}",
                display_name=f"Draw to Video: {GROUP_TITLES[group].lower()} effects",
                category=f"{CATEGORY}/effects",
                description=f"{GROUP_TITLES[group]} effects: " + ", ".join(names) + ". Pick one, set its "
                            "parameters as name=value lines; identity at strength 0, deterministic under the seed.",
                inputs=inputs,
                outputs=[io.Image.Output(display_name="images")],
            )

        @classmethod
        def execute(cls, images: torch.Tensor, effect: str, params: str, seed: int, mask: torch.Tensor | None = None,
                    depth: DepthValue | None = None, trajectory: CameraTrajectory | None = None,
                    clip_b: torch.Tensor | None = None, lut: str = "none") -> io.NodeOutput:
            kw = parse_param_text(effect, params)
            wants = {p.name: p.kind for p in EFFECTS[effect].params}
            n = images.shape[0]
            for pname, kind in wants.items():
                if kind == "mask" and mask is not None:
                    kw[pname] = mask
                elif kind == "depth" and depth is not None:
                    kw[pname] = depth.depth
                elif kind == "image" and clip_b is not None:
                    kw[pname] = clip_b
                elif kind == "lut" and lut != "none":
                    kw[pname] = folder_paths.get_full_path_or_raise(LUT_FOLDER, lut)
            if trajectory is not None:
                if "focus_distance" in wants and "focus_distance" not in kw:
                    kw["focus_distance"] = per_frame(trajectory.focus_distance, n)
                if "aperture" in wants and "aperture" not in kw:
                    kw["aperture"] = per_frame(trajectory.aperture, n)
                if "focal_ratio" in wants and "focal_ratio" not in kw:
                    kw["focal_ratio"] = per_frame(trajectory.K[:, 0, 0] / trajectory.K[0, 0, 0], n)
            return io.NodeOutput(run_effect(effect, images, kw, seed))

    EffectGroup.__name__ = EffectGroup.__qualname__ = f"Effect{GROUP_TITLES[group]}"
    return EffectGroup


class ColorGrade(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        presets = next(p for p in EFFECTS["grade"].params if p.name == "preset").choices
        ctl = [p for p in EFFECTS["grade"].params if p.name not in ("preset", "strength")]
        return io.Schema(
            node_id=f"{PREFIX}ColorGrade",
            display_name="Draw to Video: colour grade",
            category=f"{CATEGORY}/effects",
            description="Colour grading presets (natural, cinematic, vibrant, teal-orange, bleach bypass, noir, "
                        "day-for-night) with temperature, tint, saturation, contrast, highlights and shadows. "
                        "Controls at 0 offset keep the preset's own values.",
            inputs=[
                io.Image.Input("images", tooltip="The clip."),
                io.Combo.Input("preset", options=list(presets), default="cinematic", tooltip="The grade."),
                io.Float.Input("strength", default=1.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Mix with the original (0 = unchanged)."),
                *[io.Float.Input(p.name, default=0.0, min=-3.0, max=3.0, step=0.01,
                                 tooltip=f"{p.description} Added to the preset's value (0 = the preset's own); the "
                                         f"sum is kept within {CONTROL_RANGES[p.name]}.")
                  for p in ctl],
            ],
            outputs=[io.Image.Output(display_name="images")],
        )

    @classmethod
    def execute(cls, images: torch.Tensor, preset: str, strength: float, **controls: float) -> io.NodeOutput:
        base = GRADE_PRESETS[preset]
        kw = {k: float(np.clip(getattr(base, k) + v, *CONTROL_RANGES[k])) for k, v in controls.items() if v != 0.0}
        return io.NodeOutput(run_effect("grade", images, {"preset": preset, "strength": strength, **kw}, 0))


class CinematicLook(io.ComfyNode):
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
                io.Int.Input("seed", default=0, min=0, max=2**31 - 1, tooltip="Seed of grain and shake."),
            ],
            outputs=[io.Image.Output(display_name="images")],
        )

    @classmethod
    def execute(cls, images: torch.Tensor, look: str, seed: int) -> io.NodeOutput:
        steps = LOOKS[look]
        pbar = comfy.utils.ProgressBar(len(steps))
        mm.throw_exception_if_processing_interrupted()
        out = apply_look(look, images.to(mm.get_torch_device(), torch.float32), seed)
        pbar.update(len(steps))
        return io.NodeOutput(out.to(mm.intermediate_device()))


NODES = [*(_make_group_node(g) for g in GROUPS), ColorGrade, CinematicLook]
