"""Frame interpolation nodes: a RIFE weights loader, the interpolator (RIFE or weight-free optical flow) and retiming.

RIFE weights live in ComfyUI's ``models/interpolation`` (:data:`FOLDER`, registered when the pack loads, see
``nodes/__init__.py``); the ``ckpts/rife`` folder of ComfyUI-Frame-Interpolation is searched too, so its ``rife*.pth`` files and ``flownet.pkl`` files work as they are.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from comfy_api.latest import io

from ..effects.interpolation.frames import (
    MODES,
    SCENE_CUT_THRESHOLD,
    fps_positions,
    interpolate_at,
    multiplier_positions,
)
from ..effects.interpolation.frames import retime as retime_clip
from ..effects.interpolation.rife import RIFE, SCALES, RIFEError, read_state_dict
from ..effects.time import PRESET_CURVES
from . import models
from .base import CATEGORY, PREFIX, DTVNode, cancel_hook

FOLDER = "interpolation"
EXTENSIONS = frozenset({".pkl", ".pth", ".pt", ".ckpt", ".safetensors"})
#: Where ComfyUI-Frame-Interpolation keeps RIFE weights, under a custom_nodes folder; also searched.
LEGACY_FOLDER = ("ComfyUI-Frame-Interpolation", "ckpts", "rife")
RIFEModel = io.Custom("DTV_RIFE_MODEL")  # local custom type: a models.Managed holding an effects.rife.RIFE
NODE_MODES = [m for m in MODES if m != "blend"]


def _where() -> str:
    import folder_paths

    return os.path.join(folder_paths.models_dir, FOLDER)


def _load_rife(path: str, dtype: torch.dtype, device: torch.device) -> tuple[RIFE, torch.nn.Module]:
    rife = RIFE(read_state_dict(path), device, dtype)  # weights_only loading, strict key check
    return rife, rife.net


def load_cached(name: str, precision: str) -> models.Managed[RIFE]:
    """The RIFE model of a file in ``models/interpolation`` from the pack's model cache (see :mod:`.models`)."""
    import comfy.model_management as mm
    import folder_paths

    path = folder_paths.get_full_path(FOLDER, name) if name else None
    if path is None:
        raise ValueError(f"RIFE weights {name!r} not found: put flownet.pkl or rife*.pth files into {_where()} "
                         "(or ComfyUI-Frame-Interpolation's ckpts/rife) and refresh")
    device = mm.get_torch_device()
    dtype = models.resolve_dtype(precision, device)
    return models.cached("rife", path, dtype, device, os.path.getmtime(path), lambda: _load_rife(path, dtype, device))


class RIFELoader(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        import folder_paths

        return io.Schema(
            node_id=f"{PREFIX}RIFELoader",
            display_name="Draw to Video: load RIFE weights",
            category=f"{CATEGORY}/interpolation",
            description="Loads RIFE frame-interpolation weights (RIFE HDv3 flownet.pkl or Practical-RIFE 4.x, e.g. "
                        "ComfyUI-Frame-Interpolation's rife4xx.pth) from models/interpolation. The variant is "
                        "detected from the file. Without weights, the interpolator uses optical flow instead.",
            inputs=[
                io.Combo.Input("model_name", options=folder_paths.get_filename_list(FOLDER),
                               tooltip="A weights file in models/interpolation (.pkl, .pth, .pt, .ckpt or "
                                       ".safetensors)."),
                io.Combo.Input("precision", options=list(models.PRECISIONS), default="auto",
                               tooltip=models.PRECISION_TOOLTIP),
            ],
            outputs=[RIFEModel.Output(display_name="rife_model"), io.String.Output(display_name="variant")],
        )

    @classmethod
    def check_first(cls, values: dict[str, Any]) -> str | None:
        import folder_paths

        name = values.get("model_name")
        if name is not None and folder_paths.get_full_path(FOLDER, name) is None:
            return (f"model_name: RIFE weights {str(name)[:60]!r} not found: put flownet.pkl or rife*.pth files into "
                    f"{_where()} and refresh")
        return None

    @classmethod
    def execute(cls, model_name: str, precision: str = "auto") -> io.NodeOutput:
        try:
            model = load_cached(model_name, precision)
        except RIFEError as exc:
            raise ValueError(f"{model_name}: {exc}") from None
        return io.NodeOutput(model, model.value.spec.name)


def _common_inputs() -> list:
    return [
        io.Combo.Input("mode", options=NODE_MODES, default="auto",
                       tooltip="auto: RIFE when a model is connected, else optical flow. rife: needs the model. "
                               "flow: OpenCV DIS optical flow with occlusion handling (no weights)."),
        io.Float.Input("scene_cut_threshold", default=SCENE_CUT_THRESHOLD, min=0.01, max=1.01, step=0.01,
                       tooltip="Neighbour frames scoring at least this (histogram + brightness change, 0..1) are "
                               "a scene cut: no blending across it, the nearer frame is held. 1.01 = never."),
        RIFEModel.Input("rife_model", optional=True, tooltip="From 'load RIFE weights'. Leave empty for flow."),
        io.Combo.Input("scale", options=[str(s) for s in SCALES], default="1.0",
                       tooltip="RIFE flow resolution: 0.5 for 4K-ish input or fast motion at high resolution, "
                               "1.0 otherwise."),
        io.Boolean.Input("ensemble", default=False,
                         tooltip="RIFE 4.x up to 4.20: also solve the mirrored problem and average (slower, a "
                                 "little better). HDv3 always does this; 4.21+ weights do not support it."),
        io.Boolean.Input("fast", default=False,
                         tooltip="RIFE HDv3: one direction per block only (about twice as fast, a little worse). "
                                 "No effect on 4.x."),
    ]


def _run_options(images: torch.Tensor) -> dict:
    """Device, progress bar (one step per frame pair) and cancel hook for the effects library."""
    import comfy.model_management as mm
    import comfy.utils

    pbar = comfy.utils.ProgressBar(max(1, images.shape[0] - 1))
    return {"device": mm.get_torch_device(), "progress": lambda done, total: pbar.update_absolute(done, total),
            "cancel": cancel_hook, "empty_cache_every": 16}


def _ready(rife_model: models.Managed[RIFE] | None) -> RIFE | None:
    """The connected RIFE model, loaded on the compute device by ComfyUI's model management (None: flow)."""
    return None if rife_model is None else models.use(rife_model)


def _frames(images: torch.Tensor) -> torch.Tensor:
    import comfy.model_management as mm

    return images.to(mm.intermediate_device())


class Interpolate(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}Interpolate",
            display_name="Draw to Video: interpolate frames",
            category=f"{CATEGORY}/interpolation",
            description="Makes in-between frames (smoother motion or slow motion) with RIFE when a model is "
                        "connected, otherwise with weight-free optical flow. The original frames pass through "
                        "unchanged; scene cuts are never blended across.",
            inputs=[
                io.Image.Input("images", tooltip="The clip, in order (at least 2 frames to interpolate)."),
                io.Int.Input("multiplier", default=2, min=1, max=16,
                             tooltip="Frames per input frame: 2 doubles the frame rate ((N-1)*2+1 frames out)."),
                io.Float.Input("source_fps", default=24.0, min=1.0, max=240.0, step=0.001,
                               tooltip="Frame rate of the input clip (for target_fps and the fps output)."),
                io.Float.Input("target_fps", default=0.0, min=0.0, max=480.0, step=0.001,
                               tooltip="0: use the multiplier. Otherwise resample the clip to this frame rate."),
                *_common_inputs(),
            ],
            outputs=[io.Image.Output(display_name="images"), io.Float.Output(display_name="fps")],
        )

    @classmethod
    def execute(cls, images: torch.Tensor, multiplier: int, source_fps: float, target_fps: float, mode: str,
                scene_cut_threshold: float, scale: str = "1.0", ensemble: bool = False, fast: bool = False,
                rife_model: models.Managed[RIFE] | None = None) -> io.NodeOutput:
        n = images.shape[0]
        if target_fps > 0:
            positions, fps = fps_positions(n, float(source_fps), float(target_fps)), float(target_fps)
        else:
            positions, fps = multiplier_positions(n, int(multiplier)), float(source_fps) * int(multiplier)
        out = interpolate_at(_frames(images), positions, mode=mode, rife=_ready(rife_model),
                             scene_cut_threshold=scene_cut_threshold, scale=float(scale), ensemble=ensemble, fast=fast,
                             **_run_options(images))
        return io.NodeOutput(out, fps)


class Retime(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}Retime",
            display_name="Draw to Video: retime (speed curve)",
            category=f"{CATEGORY}/interpolation",
            description="Speed ramps with real in-between frames: a speed curve maps output time to source time "
                        "and the frames between source frames are made by the interpolator (RIFE or flow), not "
                        "cross-faded.",
            inputs=[
                io.Image.Input("images", tooltip="The clip to retime."),
                io.String.Input("curve", default="ramp_slow_mid",
                                tooltip="'u:speed' keyframes over normalised output time (e.g. '0:1, 0.5:0.25, 1:1'; "
                                        "speed 0.5 = half speed) or a preset: " + ", ".join(PRESET_CURVES) + "."),
                io.Float.Input("fps", default=24.0, min=1.0, max=240.0, step=0.001,
                               tooltip="Frame rate of the clip (the output keeps it)."),
                io.Float.Input("strength", default=1.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Blend of the curve with constant speed 1 (0 = unchanged timing)."),
                *_common_inputs(),
            ],
            outputs=[io.Image.Output(display_name="images")],
        )

    @classmethod
    def check_inputs(cls, values: dict[str, Any]) -> str | None:
        from ..effects.time import parse_speed_curve

        if (curve := values.get("curve")) is None:
            return None
        try:
            parse_speed_curve(curve)
        except ValueError as exc:
            return f"curve: {exc}"
        return None

    @classmethod
    def execute(cls, images: torch.Tensor, curve: str, fps: float, strength: float, mode: str,
                scene_cut_threshold: float, scale: str = "1.0", ensemble: bool = False, fast: bool = False,
                rife_model: models.Managed[RIFE] | None = None) -> io.NodeOutput:
        out = retime_clip(_frames(images), curve, float(fps), strength=float(strength), mode=mode, rife=_ready(rife_model),
                          scene_cut_threshold=scene_cut_threshold, scale=float(scale), ensemble=ensemble, fast=fast,
                          **_run_options(images))
        return io.NodeOutput(out)


NODES = [RIFELoader, Interpolate, Retime]
