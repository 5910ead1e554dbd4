"""The one declaration of effect parameters and the validation generated from it.

A :class:`ParamSpec` states a parameter's name, kind, default, range and tooltip; :func:`check_param` turns that
into the check the registry runs before every effect call (and the nodes run in ``validate_inputs``), so the
effect functions themselves hold no range checks. Every refusal is one line naming ``effect.param``.

Kinds: ``float``, ``int``, ``bool``, ``choice`` (one of ``choices``), ``str``, ``floats`` (one number, or one per
frame, or exactly ``length`` numbers; a list, a tensor or a comma-separated string), and tensors: ``image``
(``[F,H,W,C]``), ``mask`` and ``depth`` (``[F,H,W]``/``[H,W]``), ``flow`` (``[F,H,W,2]``) and ``lut``
(``[N,N,N,3]``). A tensor's values are checked finite and against the range; its shape is the effect's to check.
``required`` parameters have no default; ``optional`` ones may be ``None`` ("derive it", e.g. a preset's value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..trajectory.checks import CancelFn, ProgressFn
from ._core import EffectError, fail

KINDS = ("float", "int", "bool", "choice", "str", "floats", "image", "mask", "depth", "flow", "lut")
TENSOR_KINDS = ("image", "mask", "depth", "flow", "lut")


@dataclass(frozen=True)
class ParamSpec:
    """One effect parameter: everything the check, the node widget and the CLI text need."""

    name: str
    kind: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    description: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    optional: bool = False
    above: float | None = None  #: strict lower bound (``value > above``)
    length: int | None = None  #: ``floats``: exactly this many numbers (else one, or one per frame)
    step: float | None = None  #: widget step (derived from the range when not given)

    def range_text(self) -> str:
        lo = f"> {self.above:g}" if self.above is not None else None
        if self.min is not None and self.max is not None:
            return f"in [{self.min:g}, {self.max:g}]" + (f" and {lo}" if lo else "")
        if self.max is not None:
            return f"{lo} and <= {self.max:g}" if lo else f"<= {self.max:g}"
        return lo or (f">= {self.min:g}" if self.min is not None else "any value")

    def in_range(self, lo: float, hi: float) -> bool:
        """Whether values from ``lo`` to ``hi`` all lie in the declared range."""
        return not ((self.min is not None and lo < self.min) or (self.max is not None and hi > self.max)
                    or (self.above is not None and lo <= self.above))


@dataclass(frozen=True)
class EffectSpec:
    """One effect: ``fn(frames, **params, seed=, progress=, cancel=) -> frames``."""

    name: str
    group: str
    fn: Callable[..., torch.Tensor]
    description: str
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    changes_length: bool = False
    seeded: bool = False  #: the result depends on the seed

    def defaults(self) -> dict[str, Any]:
        """Default values of the non-required parameters."""
        return {p.name: p.default for p in self.params if not p.required}

    def run(self, frames: torch.Tensor, params: dict[str, Any] | None = None, seed: int = 0, *,
            progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
        """Check ``params`` against the declaration and run the effect on ``frames``.

        ``progress(done, total)`` is called after each frame or chunk and ``cancel()`` polled before it (a true
        return raises :class:`~draw_to_video.trajectory.checks.Cancelled`). Any refusal is an :class:`EffectError`
        (a ``ValueError``) whose one-line message starts with the effect's name.
        """
        kwargs = validate_params(self, params)
        if isinstance(seed, bool) or not isinstance(seed, int):
            fail(f"{self.name}.seed must be an integer, got {seed!r:.40}")
        reported: list[int] = []

        def report(done: int, total: int) -> None:
            reported.append(done)
            if progress is not None:
                progress(done, total)

        try:
            out = self.fn(frames, **kwargs, seed=seed, progress=report, cancel=cancel)
        except EffectError as e:
            msg = str(e)
            raise EffectError(msg if msg.startswith(self.name) else f"{self.name}: {msg}") from None
        if progress is not None and not reported:
            progress(1, 1)  # an effect without a loop (reverse, letterbox, ...) still ends full
        return out

    def __call__(self, frames: torch.Tensor, *, seed: int = 0, progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None, **params: Any) -> torch.Tensor:
        """``effects.vignette(clip, strength=0.5)``: :meth:`run` with keyword parameters."""
        return self.run(frames, params, seed, progress=progress, cancel=cancel)

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        fail(f"{self.name}: unknown parameter {name!r:.40}; known: {', '.join(p.name for p in self.params) or 'none'}")
        raise AssertionError  # unreachable


def is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(where: str, p: ParamSpec, v: Any) -> float | int:
    if not is_number(v):
        fail(f"{where} must be a number, got {v!r:.40}")
    if not math.isfinite(float(v)):
        fail(f"{where} must be finite, got {v}")
    if p.kind == "int":
        if not float(v).is_integer():
            fail(f"{where} must be an integer, got {v}")
        v = int(v)
    else:
        v = float(v)
    if not p.in_range(v, v):
        fail(f"{where} must be {p.range_text()}, got {v:g}")
    return v


def _floats(where: str, p: ParamSpec, v: Any) -> tuple[float, ...] | float:
    if isinstance(v, str):
        try:
            v = [float(s) for s in v.split(",") if s.strip()]
        except ValueError:
            fail(f"{where} must be numbers separated by commas, got {v!r:.40}")
    if isinstance(v, torch.Tensor):
        v = v.detach().flatten().tolist()
    vals = [v] if is_number(v) else v
    if not isinstance(vals, (list, tuple)) or not vals or not all(is_number(x) for x in vals):
        fail(f"{where} must be a number or a list of numbers, got {type(v).__name__}")
    if not all(math.isfinite(x) for x in vals):
        fail(f"{where} must be finite numbers (no NaN or infinity)")
    if p.length is not None and len(vals) != p.length:
        fail(f"{where} must be {p.length} numbers, got {len(vals)}")
    if not p.in_range(min(vals), max(vals)):
        fail(f"{where} values must be {p.range_text()}")
    out = tuple(float(x) for x in vals)
    return out[0] if len(out) == 1 and p.length is None else out


def _tensor(where: str, p: ParamSpec, v: Any) -> torch.Tensor:
    if not isinstance(v, torch.Tensor):
        fail(f"{where} must be a tensor ({p.kind}), got {type(v).__name__}")
    if v.numel() == 0:
        fail(f"{where} is empty")
    if not v.dtype.is_floating_point:
        fail(f"{where} must be a float tensor, got {v.dtype}")
    if not bool(torch.isfinite(v).all()):
        fail(f"{where} contains NaN or infinite values")
    if not p.in_range(float(v.min()), float(v.max())):
        fail(f"{where} values must be {p.range_text()}")
    return v


def check_param(effect: str, p: ParamSpec, v: Any) -> Any:
    """``v`` checked against the declaration of ``effect.param`` and converted (``int`` for int, a float tuple for
    ``floats``); a refusal is an :class:`~._core.EffectError` naming ``effect.param``."""
    where = f"{effect}.{p.name}"
    if v is None:
        if p.optional:
            return None
        fail(f"{where} must not be None")
    if p.kind in ("float", "int"):
        return _number(where, p, v)
    if p.kind == "bool":
        if not isinstance(v, bool):
            fail(f"{where} must be true or false, got {v!r:.40}")
        return v
    if p.kind == "choice":
        if v not in p.choices:
            fail(f"{where} must be one of {', '.join(p.choices)}; got {v!r:.40}")
        return v
    if p.kind == "str":
        if not isinstance(v, str):
            fail(f"{where} must be a string, got {type(v).__name__}")
        return v
    if p.kind == "floats":
        return _floats(where, p, v)
    return _tensor(where, p, v)


def validate_params(spec: EffectSpec, params: dict[str, Any] | None) -> dict[str, Any]:
    """Full keyword arguments for ``spec``: its defaults overlaid with the checked ``params``."""
    params = {} if params is None else params
    if not isinstance(params, dict):
        fail(f"{spec.name}: params must be a dict, got {type(params).__name__}")
    for k in params:
        spec.param(k)
    kwargs: dict[str, Any] = {}
    for p in spec.params:
        if p.name in params:
            kwargs[p.name] = check_param(spec.name, p, params[p.name])
        elif p.required:
            fail(f"{spec.name}.{p.name} is required ({p.description})")
        else:
            kwargs[p.name] = p.default
    return kwargs


def f_(name: str, default: float | None, lo: float, hi: float, desc: str, *, optional: bool = False,
       step: float | None = None) -> ParamSpec:
    return ParamSpec(name, "float", default, lo, hi, desc, optional=optional, step=step)


def i_(name: str, default: int, lo: int, hi: int, desc: str) -> ParamSpec:
    return ParamSpec(name, "int", default, lo, hi, desc)


def c_(name: str, default: str, choices: tuple[str, ...] | list[str], desc: str) -> ParamSpec:
    return ParamSpec(name, "choice", default, None, None, desc, tuple(choices))


def b_(name: str, default: bool, desc: str) -> ParamSpec:
    return ParamSpec(name, "bool", default, description=desc)


def s_(name: str, default: str, desc: str) -> ParamSpec:
    return ParamSpec(name, "str", default, description=desc)
