"""The checks every library entry shares (``trajectory/`` and ``effects/`` alike): tensor shapes, progress, cancel.

* :func:`check_shape` states the shape a function takes, kornia-style, and names the input in a one-line error.
* Long loops take ``progress(done, total)`` and ``cancel()``; a true return of ``cancel()`` raises
  :class:`Cancelled` (the ComfyUI glue's callback raises ComfyUI's own interrupt instead, which passes through).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: ``progress(done, total)``, called after each unit of work.
ProgressFn = Callable[[int, int], object]
#: ``cancel()``, called before each unit of work; a true return stops the loop with :class:`Cancelled`.
CancelFn = Callable[[], object]


class Cancelled(RuntimeError):
    """A long operation stopped because its ``cancel()`` callback returned a true value."""


class ShapeError(ValueError):
    """An input does not have the shape the function states."""


def poll(cancel: CancelFn | None, what: str) -> None:
    """Raise :class:`Cancelled` (``"<what> cancelled"``) when ``cancel`` is given and returns a true value."""
    if cancel is not None and cancel():
        raise Cancelled(f"{what} cancelled")


def check_shape(x: Any, spec: str | Sequence[str], name: str, *, bound: dict[str, int] | None = None,
                error: type[ValueError] = ShapeError) -> dict[str, int]:
    """Check that ``x.shape`` matches ``spec`` and return the sizes of its named dimensions.

    ``spec`` is a space-separated pattern such as ``"F H W 3"`` or ``"* 3 3"``: a number must match exactly,
    ``N|M`` accepts either number, a name binds a size (the same name twice must agree, and so must a name already
    in ``bound``, e.g. the sizes another input's check returned), and one leading ``*`` accepts any number of
    leading dimensions. A mismatch raises ``error`` (a ``ValueError``; :class:`ShapeError` by default) with one
    line, e.g. ``images must be [F,H,W,3], got [4,64,64]``.
    """
    tokens = spec.split() if isinstance(spec, str) else list(spec)
    sizes: dict[str, int] = dict(bound or {})
    want = "[" + ",".join(tokens) + "]"
    shape = getattr(x, "shape", None)
    if shape is None:
        raise error(f"{name} must be an array or tensor {want}, got {type(x).__name__}")
    shape = tuple(int(s) for s in shape)
    star = bool(tokens) and tokens[0] == "*"
    fixed = tokens[1:] if star else tokens

    def bad() -> ValueError:
        known = {k: v for k, v in sizes.items() if k in fixed}
        where = f" with {', '.join(f'{k}={v}' for k, v in known.items())}" if bound and known else ""
        return error(f"{name} must be {want}{where}, got [{','.join(map(str, shape))}]")

    if len(shape) < len(fixed) or (not star and len(shape) != len(fixed)):
        raise bad()
    for tok, size in zip(fixed, shape[len(shape) - len(fixed):]):
        if tok[0].isdigit():
            if size not in {int(t) for t in tok.split("|")}:
                raise bad()
        elif sizes.setdefault(tok, size) != size:
            raise bad()
    return sizes
