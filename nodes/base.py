"""What every node module shares: the id prefix, the category, the custom types and what flows on them, the cancel
hook and the small IMAGE/MASK converters. Node modules import this (and the other shared modules, :mod:`.inputs`,
:mod:`.models` and :mod:`.rendering`); it imports no node module (the node list lives in ``nodes/__init__.py``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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


def not_one_of(what: str, value: object, choices: list[Any]) -> str:
    """One line: ``what`` got ``value`` (shortened, quoted) and the allowed ``choices`` (the first 20)."""
    names = [str(c) for c in choices]
    shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
    return f"{what}: {str(value)[:60]!r} is not one of: {shown or '(none available)'}"


def _short(value: object) -> str:
    return repr(value)[:60]


def check_value(spec: io.Input, value: object) -> str | None:
    """The problem with one widget ``value`` of input ``spec`` (None: fine). Combos against their options, floats
    finite and in range, ints integral and in range, strings free of NUL characters."""
    name = spec.id
    if isinstance(spec, io.Combo.Input):
        options = list(spec.options or [])
        if isinstance(value, bool) or value not in options:
            return not_one_of(name, value, options)
        return None
    if isinstance(spec, io.Float.Input | io.Int.Input):
        is_int = isinstance(spec, io.Int.Input)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} must be a number, got {_short(value)}"
        if not math.isfinite(value):
            return f"{name} must be a finite number, got {value}"
        if is_int and value != int(value):
            return f"{name} must be a whole number, got {value}"
        lo, hi = spec.min, spec.max
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
            return f"{name} must be in {rng}, got {value:g}"
        return None
    if isinstance(spec, io.String.Input) and isinstance(value, str) and "\x00" in value:
        return f"{name} must not contain NUL characters"
    return None


def check_schema(schema: io.Schema, values: dict[str, Any]) -> str | None:
    """The first problem of the widget ``values`` a prompt gives a node with ``schema`` (linked inputs arrive as
    None and are skipped; so are inputs the prompt leaves out)."""
    for spec in schema.inputs:
        value = values.get(spec.id)
        if value is not None and (problem := check_value(spec, value)):
            return problem
    return None


class DTVNode(io.ComfyNode):
    """Base class of every node of the pack: ``validate_inputs`` checks every widget value against the node's own
    schema before anything runs (HTTP 400 with ``node_errors``): each Combo value against its options, each Float
    finite and in range, each Int in range. Once a node defines ``validate_inputs(**kwargs)``, ComfyUI 0.3.75 skips
    its own min/max/list checks for the inputs passed to it (and never checks V3 Combos), so this does all of them.

    A subclass adds its own checks by overriding :meth:`check_inputs` (called after the schema checks pass, with
    the same values; linked inputs are None) or :meth:`check_first`, or ``validate_inputs(**kwargs)`` calling
    ``super()``. Note that ComfyUI lists a validator's message once per input passed to it."""

    @classmethod
    def check_first(cls, values: dict[str, Any]) -> str | None:
        """Checks of a subclass that must come before the schema's (a more helpful message for a value the generic
        check would also refuse, e.g. where to put a missing model file); values are unchecked here."""
        return None

    @classmethod
    def check_inputs(cls, values: dict[str, Any]) -> str | None:
        """Extra checks of a subclass, after the schema's passed: one line naming the input and the problem, or
        None."""
        return None

    @classmethod
    def validate_inputs(cls, **kwargs: Any) -> bool | str:
        return cls.check_first(kwargs) or check_schema(cls.define_schema(), kwargs) or cls.check_inputs(kwargs) or True


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
    """The ``cancel`` callback the libraries take (:data:`~draw_to_video.trajectory.checks.CancelFn`): raises
    ComfyUI's interrupt when the user cancels, else returns False."""
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
