"""The stroke format shared by the canvas widget, the HTTP API, the CLI and batch jobs.

Wire format (JSON)::

    {"version": 1, "canvas": {"width": W, "height": H},
     "strokes": [{"points": [[x, y, t_ms], ...], "role": "camera"}]}

* ``x, y`` are canvas pixels (floats allowed, ``y`` down). Points may lie outside the canvas (users
  overshoot) but must be finite and within :data:`MAX_ABS_COORD` pixels of the origin.
* ``t_ms`` is optional, for a whole stroke at a time: every point of a stroke has 3 elements or
  every point has 2 (mixing is an error). It must be non-decreasing (a decrease is an error, not
  silently sorted) and within :data:`MAX_ABS_T_MS`. Absent timing means uniform sampling; it is
  synthesised as ``0, 16, 32, ...`` ms (:data:`DEFAULT_DT_MS`).
* ``role`` defaults to ``"camera"``. Other roles (any name matching ``[a-z_]{1,32}``, e.g.
  ``"subject"`` or ``"mask"``) are reserved: kept in the parsed object, ignored by the analysis.
* ``preset`` (optional, top level) is the move the user picked on the drawing node (one name from the camera
  presets; absent or ``"auto"`` means "read the stroke"). It is kept as written; the trajectory builder checks it.
* Unknown keys at the top level and inside strokes are ignored (forward compatible).

:func:`parse_strokes` is the ONE validator; the node, the CLI and the HTTP route all call it. It
raises :class:`StrokeError` (a ``ValueError``) whose message is one line naming what is wrong and
where, e.g. ``strokes[1].points[7]: x is NaN``.

:func:`.prepare.prepare` turns a :class:`StrokeSet` into the smoothed, resampled path the analysis reads.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

FORMAT_VERSION = 1
MAX_POINTS = 100_000  #: most points in one stroke set, all strokes together
MAX_BYTES = 8 * 1024 * 1024  #: largest accepted str/bytes body (UTF-8 bytes)
MAX_CANVAS = 16384  #: largest canvas side in pixels
MAX_ABS_COORD = 1.0e6  #: largest |x|, |y| in pixels (keeps all arithmetic far from overflow)
MAX_ABS_T_MS = 1.0e13  #: largest |t_ms| (about 300 years; epoch milliseconds fit)
DEFAULT_DT_MS = 16.0  #: synthesised sampling interval of an untimed stroke
DEDUP_EPS_PX = 1e-3  #: points closer than this count as the same point
CAMERA_ROLE = "camera"
_ROLE_RE = re.compile(r"[a-z_]{1,32}")
_PRESET_RE = re.compile(r"[a-z0-9_]{1,40}")
_AXES = ("x", "y", "t_ms")


class StrokeError(ValueError):
    """A malformed stroke set. The message is one line: where, then what."""

    def __init__(self, where: str, what: str | None = None) -> None:
        msg = where if what is None else f"{where}: {what}"
        super().__init__(" ".join(str(msg).split()))


@dataclass(frozen=True, eq=False)
class Stroke:
    """One stroke: ``points`` float64 ``[N, 3]`` (x px, y px, t_ms), read-only."""

    points: np.ndarray
    role: str = CAMERA_ROLE
    timed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; untimed strokes are written with 2-element points."""
        pts = self.points if self.timed else self.points[:, :2]
        return {"points": pts.tolist(), "role": self.role}


@dataclass(frozen=True, eq=False)
class StrokeSet:
    """A validated stroke set (the output of :func:`parse_strokes`)."""

    width: int
    height: int
    strokes: tuple[Stroke, ...]
    preset: str | None = None  #: the move picked on the drawing node; None = read the stroke ("auto")

    def camera_strokes(self) -> tuple[Stroke, ...]:
        """The strokes with role ``"camera"``, in drawing (list) order."""
        return tuple(s for s in self.strokes if s.role == CAMERA_ROLE)

    def to_dict(self) -> dict[str, Any]:
        """The wire format; ``parse_strokes(s.to_dict())`` gives an equal stroke set."""
        out: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "canvas": {"width": self.width, "height": self.height},
            "strokes": [s.to_dict() for s in self.strokes],
        }
        if self.preset is not None:
            out["preset"] = self.preset
        return out

    def to_json(self) -> str:
        """Compact JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @property
    def n_points(self) -> int:
        """Total number of points over all strokes."""
        return sum(len(s.points) for s in self.strokes)


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _type_name(v: object) -> str:
    return "null" if v is None else type(v).__name__


def _decode(data: str | bytes | bytearray) -> Any:
    size = len(data)
    if isinstance(data, str) and size <= MAX_BYTES:
        size = len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise StrokeError("body", f"{size} bytes is more than the limit of {MAX_BYTES}")
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise StrokeError("body", f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise StrokeError("body", "invalid JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:  # undecodable bytes, huge integer literals
        raise StrokeError("body", f"invalid JSON: {e}") from None


def _canvas_side(canvas: Mapping[str, Any], key: str) -> int:
    if key not in canvas:
        raise StrokeError("canvas", f"missing key '{key}'")
    v = canvas[key]
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        v = int(v)
    if not _is_int(v):
        raise StrokeError(f"canvas.{key}", f"must be a positive integer, got {_type_name(v)} {v!r:.40}")
    if not 1 <= v <= MAX_CANVAS:
        raise StrokeError(f"canvas.{key}", f"must be between 1 and {MAX_CANVAS}, got {v}")
    return v


def _is_number(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _first_bad_point(pts: Sequence[Any], where: str) -> StrokeError | None:
    """Slow path, only when the fast check fails: name the first malformed point (None if fine)."""
    width = None
    for i, p in enumerate(pts):
        loc = f"{where}[{i}]"
        if not isinstance(p, (list, tuple)):
            return StrokeError(loc, f"must be a list [x, y] or [x, y, t_ms], got {_type_name(p)}")
        if len(p) not in (2, 3):
            return StrokeError(loc, f"must have 2 or 3 elements, got {len(p)}")
        if width is None:
            width = len(p)
        elif len(p) != width:
            return StrokeError(loc, f"has {len(p)} elements but earlier points have {width} (t_ms all or none)")
        for axis, v in zip(_AXES, p):
            if not _is_number(v):
                return StrokeError(loc, f"{axis} must be a number, got {_type_name(v)}")
            if isinstance(v, numbers.Integral) and abs(int(v)) > MAX_ABS_T_MS:
                return StrokeError(loc, f"|{axis}| is more than {MAX_ABS_T_MS if axis == 't_ms' else MAX_ABS_COORD:.6g}")
    return None


def _points_array(pts: Any, where: str) -> np.ndarray:
    """Cheap structure check, then one vectorised conversion to float64 [N, 2|3]."""
    if isinstance(pts, np.ndarray):
        if pts.dtype.kind not in "iuf" or pts.ndim != 2 or pts.shape[1] not in (2, 3):
            raise StrokeError(where, f"array must be numeric [N, 2|3], got {pts.dtype} {pts.shape}")
        arr = pts.astype(np.float64)
    else:
        if not isinstance(pts, (list, tuple)):
            raise StrokeError(where, f"must be a list of points, got {_type_name(pts)}")
        fast_ok = (
            set(map(type, pts)) <= {list, tuple}
            and len(set(map(len, pts))) <= 1
            and (not pts or len(pts[0]) in (2, 3))
            and set(map(type, chain.from_iterable(pts))) <= {int, float}
        )
        if not fast_ok and (err := _first_bad_point(pts, where)) is not None:
            raise err
        try:
            arr = np.array(pts, dtype=np.float64).reshape(len(pts), -1 if pts else 2)
        except (OverflowError, ValueError, TypeError):
            raise (_first_bad_point(pts, where) or StrokeError(where, "malformed points")) from None
    if len(arr) == 0:
        raise StrokeError(where, "is empty")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        v = arr[i, j]
        raise StrokeError(f"{where}[{i}]", f"{_AXES[j]} is {'NaN' if np.isnan(v) else 'infinite'}")
    lim = np.array([MAX_ABS_COORD, MAX_ABS_COORD, MAX_ABS_T_MS])[: arr.shape[1]]
    big = np.abs(arr) > lim
    if big.any():
        i, j = np.argwhere(big)[0]
        raise StrokeError(f"{where}[{i}]", f"|{_AXES[j]}| = {abs(arr[i, j]):.6g} is more than {lim[j]:.6g}")
    if arr.shape[1] == 3:
        dec = np.flatnonzero(np.diff(arr[:, 2]) < 0)
        if dec.size:
            i = int(dec[0]) + 1
            raise StrokeError(f"{where}[{i}]", f"t_ms decreases ({arr[i - 1, 2]:.6g} -> {arr[i, 2]:.6g})")
    return arr


def _distinct(xy: np.ndarray) -> bool:
    return bool(np.any(np.abs(xy - xy[0]).max(axis=1) > DEDUP_EPS_PX))


def _parse_stroke(raw: Any, where: str) -> Stroke:
    if not isinstance(raw, Mapping):
        raise StrokeError(where, f"must be an object, got {_type_name(raw)}")
    if "points" not in raw:
        raise StrokeError(where, "missing key 'points'")
    role = raw.get("role", CAMERA_ROLE)
    if not isinstance(role, str) or not _ROLE_RE.fullmatch(role):
        raise StrokeError(f"{where}.role", f"must match [a-z_]{{1,32}}, got {_type_name(role)} {role!r:.40}")
    arr = _points_array(raw["points"], f"{where}.points")
    timed = arr.shape[1] == 3
    if not timed:
        t = np.arange(len(arr), dtype=np.float64) * DEFAULT_DT_MS
        arr = np.column_stack([arr, t])
    if role == CAMERA_ROLE and not _distinct(arr[:, :2]):
        raise StrokeError(f"{where}.points", "a camera stroke needs at least 2 distinct points")
    arr.setflags(write=False)
    return Stroke(points=arr, role=role, timed=timed)


def parse_strokes(data: str | bytes | bytearray | Mapping[str, Any]) -> StrokeSet:
    """Validate a stroke set given as JSON text/bytes or an already decoded mapping.

    Raises :class:`StrokeError` (one-line message: where, then what) on any malformed input; never
    another exception type for any input of the accepted types.
    """
    if isinstance(data, (str, bytes, bytearray)):
        data = _decode(data)
    if not isinstance(data, Mapping):
        raise StrokeError("body", f"must be a JSON object, got {_type_name(data)}")
    for key in ("version", "canvas", "strokes"):
        if key not in data:
            raise StrokeError("body", f"missing key '{key}'")
    version = data["version"]
    if not _is_int(version) or version != FORMAT_VERSION:
        raise StrokeError("version", f"must be {FORMAT_VERSION}, got {version!r:.40}")
    canvas = data["canvas"]
    if not isinstance(canvas, Mapping):
        raise StrokeError("canvas", f"must be an object, got {_type_name(canvas)}")
    width, height = _canvas_side(canvas, "width"), _canvas_side(canvas, "height")
    raw_strokes = data["strokes"]
    if not isinstance(raw_strokes, (list, tuple)):
        raise StrokeError("strokes", f"must be a list, got {_type_name(raw_strokes)}")
    if len(raw_strokes) > MAX_POINTS:
        raise StrokeError("strokes", f"{len(raw_strokes)} strokes is more than the limit of {MAX_POINTS} points")
    total = 0
    for raw in raw_strokes:  # cheap size check before any conversion
        pts = raw.get("points") if isinstance(raw, Mapping) else None
        if isinstance(pts, (list, tuple, np.ndarray)):
            total += len(pts)
    if total > MAX_POINTS:
        raise StrokeError("strokes", f"{total} points in all is more than the limit of {MAX_POINTS}")
    strokes = tuple(_parse_stroke(raw, f"strokes[{i}]") for i, raw in enumerate(raw_strokes))
    if not any(s.role == CAMERA_ROLE for s in strokes):
        raise StrokeError("strokes", "no stroke with role 'camera'")
    preset = data.get("preset")
    if preset is not None and (not isinstance(preset, str) or not _PRESET_RE.fullmatch(preset)):
        raise StrokeError("preset", f"must be a preset name such as 'orbit', got {preset!r:.40}")
    return StrokeSet(width=width, height=height, strokes=strokes, preset=None if preset == "auto" else preset)


def make_stroke_set(
    points_xy: Any,
    width: int,
    height: int,
    t_ms: Any = None,
    role: str = CAMERA_ROLE,
) -> StrokeSet:
    """Build a one-stroke set from ``[N, 2]`` pixel points (and optional ``[N]`` times), validated."""
    xy = np.asarray(points_xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise StrokeError("points_xy", f"must have shape [N, 2], got {xy.shape}")
    if t_ms is not None:
        t = np.asarray(t_ms, dtype=np.float64)
        if t.shape != (len(xy),):
            raise StrokeError("t_ms", f"must have shape [{len(xy)}], got {t.shape}")
        xy = np.column_stack([xy, t])
    return parse_strokes({"version": FORMAT_VERSION, "canvas": {"width": width, "height": height},
                          "strokes": [{"points": xy, "role": role}]})
