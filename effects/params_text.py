"""Effect parameters written as text, ``name=value`` pairs: the command line's syntax (``--param``).

One pair per line (or separated by ``;``); blank lines and ``#`` comments are ignored. Values are read by the
parameter's kind in the one declaration, :data:`.registry.EFFECTS`: numbers, ``true``/``false``, a choice or string
as written, and ``floats`` as one number or comma-separated numbers; ranges are then checked by the registry. This is
the command line's syntax (the nodes have typed widgets): there a ``lut`` is a ``.cube`` file path, read here, since
the person at the terminal chooses their own files. Other tensor parameters (masks, depth, clips, flow) cannot be
written as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._core import fail
from .color import load_cube
from .registry import EFFECTS, TENSOR_KINDS

_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _value(effect: str, name: str, kind: str, text: str) -> Any:
    where = f"{effect}.{name}"
    if kind in ("float", "int"):
        try:
            v = float(text)
        except ValueError:
            fail(f"{where} must be a number, got {text!r:.40}")
        return int(v) if kind == "int" and v.is_integer() else v
    if kind == "bool":
        low = text.lower()
        if low not in _TRUE | _FALSE:
            fail(f"{where} must be true or false, got {text!r:.40}")
        return low in _TRUE
    if kind == "lut":
        return load_cube(text)
    if kind in TENSOR_KINDS:
        fail(f"{where} is a {kind} and cannot be given as text: connect it as an input")
    return text  # choice, str, floats ("1, 0.5, 0.2"): checked by the registry


def parse_param_text(effect: str, text: str | Iterable[str]) -> dict[str, Any]:
    """``name=value`` pairs (a text or an iterable of ``"name=value"`` strings) -> a params dict for ``effect``.

    Raises a one-line ``ValueError`` for unknown effects or parameters, malformed pairs and unreadable values.
    """
    if effect not in EFFECTS:
        fail(f"unknown effect {effect!r:.40}; known: {', '.join(EFFECTS)}")
    kinds = {p.name: p.kind for p in EFFECTS[effect].params}
    items = text.replace(";", "\n").splitlines() if isinstance(text, str) else list(text)
    params: dict[str, Any] = {}
    for raw in items:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" not in line:
            fail(f"{effect}: expected name=value, got {line!r:.40}")
        name, value = (s.strip() for s in line.split("=", 1))
        if name not in kinds:
            fail(f"{effect}: unknown parameter {name!r:.40}; known: {', '.join(kinds) or 'none'}")
        if name in params:
            fail(f"{effect}: parameter {name!r} given twice")
        params[name] = _value(effect, name, kinds[name], value)
    return params
