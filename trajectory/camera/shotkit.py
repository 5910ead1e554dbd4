"""The pieces every preset shares: its input (:class:`PresetContext`), its output (:class:`Shot`), the registry.

A preset is ONE parametric function ``fn(ctx) -> Shot``. ``ctx.u [F]`` is the eased curve parameter
of each frame (0 at the first frame, 1 at the last; briefly outside with the ``*_back`` easings, whose
range is ``ctx.u_range``); the shot is an analytic, vectorised function of it, so the timing can be
re-evaluated (motion limits) by calling ``fn`` again with another ``u``. Amplitudes scale with
``ctx.strength`` (0 gives the source view on every frame) and with the subject distance ``ctx.d``.

Safety rules every shot keeps by construction (checked by the tests):

* the camera stays at least :data:`MIN_STANDOFF` ``* d`` from the subject point, and, unless the
  preset is an *orbiting* one (``Preset.orbits``: it circles the subject, so it may pass beside or
  behind it), in front of the subject plane: ``z <= d * (1 - MIN_STANDOFF)``;
* the zoom keeps both fields of view within ``[10, 120]`` degrees (``ctx.zoom_range``);
* frame 0 is the source view: ``eye[0] = 0`` and the look/roll/zoom are applied relative to frame 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .motion import window

MIN_STANDOFF = 0.25  #: nearest the camera may come to the subject, as a fraction of its depth
MAX_PUSH = 0.7  #: largest fraction of the way to the subject a push may travel (leaves 0.3 > 0.25)
DEG = math.pi / 180.0


@dataclass(frozen=True, eq=False)
class PresetContext:
    """Everything a preset may use. ``stroke``, ``intent`` and ``lifted`` are None without a stroke."""

    frames: int
    fps: float
    width: int
    height: int
    strength: float
    easing: str
    u: np.ndarray  # [F] eased curve parameter
    t: np.ndarray  # [F] linear time 0..1
    u_range: tuple[float, float]  # (min, max) of the easing over [0, 1]
    subject: np.ndarray  # [3] the point the shot is about (world = source camera)
    f0: float  # source focal length (px)
    zoom_range: tuple[float, float]  # focal multipliers keeping the FOV within [10, 120] deg
    seed: int = 0
    stroke: Any = None  # PreparedStroke
    intent: Any = None  # Intent
    lifted: np.ndarray | None = None  # [n, 3] stroke points in the world
    cache: dict = field(default_factory=dict)  # per-build memo for strength/timing-independent work

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()`` once per build (shared by ``dataclasses.replace`` copies), for work independent of ``u``
        and ``strength``."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    @property
    def d(self) -> float:
        """Subject depth (scene units): the scale of every move."""
        return float(self.subject[2])

    @property
    def s(self) -> float:
        """Strength."""
        return self.strength

    @property
    def u_hi(self) -> float:
        return max(1.0, self.u_range[1])

    @property
    def u_lo(self) -> float:
        return min(0.0, self.u_range[0])

    def zeros(self) -> np.ndarray:
        """``[F, 3]`` zeros (the source camera's position every frame)."""
        return np.zeros((len(self.u), 3))

    def screen_dir(self, default: tuple[float, float] = (1.0, 0.0)) -> np.ndarray:
        """Unit on-screen direction (x right, y down) from the stroke's start to its end."""
        if self.stroke is not None:
            v = np.asarray(self.stroke.xy[-1] - self.stroke.xy[0], dtype=np.float64)
            n = float(np.hypot(*v))
            if n > 1e-6:
                return v / n
        return np.asarray(default, dtype=np.float64)

    def clockwise(self, default: bool = False) -> bool:
        """The stroke's sense of rotation on screen (``default`` without a stroke)."""
        return bool(self.intent.clockwise) if self.intent is not None else default


@dataclass(eq=False)
class Shot:
    """What a preset returns; arrays are per frame ``[F, ...]``.

    ``target`` (look-at points) or ``rot`` (``world_R_cam``) give the orientation (neither: no
    rotation); ``roll`` (radians about the optical axis, > 0 turns the camera clockwise as seen from
    behind it), ``zoom`` (focal multiplier) and ``focus`` (scene units; default the distance to the
    subject) complete it. ``shake`` adds the preset's own handheld shake amplitude.
    """

    eye: np.ndarray
    target: np.ndarray | None = None
    rot: np.ndarray | None = None
    roll: np.ndarray | float = 0.0
    zoom: np.ndarray | float = 1.0
    focus: np.ndarray | None = None
    aperture: float = 2.8
    shake: float = 0.0


@dataclass(frozen=True)
class Preset:
    """A registered preset: its function and how it behaves."""

    name: str
    fn: Callable[[PresetContext], Shot]
    description: str
    orbits: bool = False  #: circles the subject (may pass its plane; keeps its distance instead)
    uses_stroke: str = ""  #: what it reads from a stroke, if anything

    def __call__(self, ctx: PresetContext) -> Shot:
        return self.fn(ctx)


REGISTRY: dict[str, Preset] = {}


def register(name: str, description: str, orbits: bool = False, uses_stroke: str = "") -> Callable:
    """Decorator adding a shot function to :data:`REGISTRY`."""

    def deco(fn: Callable[[PresetContext], Shot]) -> Callable[[PresetContext], Shot]:
        if name in REGISTRY:
            raise RuntimeError(f"preset {name!r} registered twice")
        REGISTRY[name] = Preset(name, fn, description, orbits, uses_stroke)
        return fn

    return deco


# -- helpers shared by the shots -------------------------------------------------------------------


def push_fraction(ctx: PresetContext, per_strength: float, cap: float = MAX_PUSH) -> float:
    """Fraction of the way toward the subject a push travels (``per_strength * s``, capped for all ``u``)."""
    return min(per_strength * ctx.s, cap / ctx.u_hi)


def line(ctx: PresetContext, vec: np.ndarray | tuple[float, float, float], shape: np.ndarray | None = None) -> np.ndarray:
    """``eye = shape(u) * vec`` (``shape`` defaults to ``u``): a straight move, ``[F, 3]``."""
    sh = ctx.u if shape is None else shape
    return sh[:, None] * np.asarray(vec, dtype=np.float64)[None, :]


def zoom_curve(ctx: PresetContext, log_zoom: float, shape: np.ndarray | None = None) -> np.ndarray:
    """Focal multiplier ``exp(log_zoom * shape)`` with ``log_zoom`` capped so every frame stays in range.

    ``shape`` (default ``u``) may leave ``[0, 1]`` by the easing's range; the cap accounts for it.
    """
    sh = ctx.u if shape is None else shape
    lo, hi = math.log(ctx.zoom_range[0]), math.log(ctx.zoom_range[1])
    smax, smin = max(float(sh.max()), 0.0), min(float(sh.min()), 0.0)
    if log_zoom > 0:
        log_zoom = min(log_zoom, hi / smax if smax > 0 else log_zoom, lo / smin if smin < 0 else log_zoom)
    elif log_zoom < 0:
        log_zoom = max(log_zoom, lo / smax if smax > 0 else log_zoom, hi / smin if smin < 0 else log_zoom)
    return np.exp(log_zoom * sh)


def spherical(ctx: PresetContext, azimuth: np.ndarray, elevation: np.ndarray, radius: np.ndarray | float = 1.0,
              centre: np.ndarray | None = None) -> np.ndarray:
    """Eye positions around ``centre`` (default the subject) relative to the source camera's offset.

    ``azimuth`` (radians; > 0 moves the camera to its left, i.e. clockwise seen from above) and
    ``elevation`` (radians, > 0 up) are added to the source camera's spherical angles about the centre;
    ``radius`` multiplies its distance. At zero offsets the eye is the source camera (the origin).
    """
    c = ctx.subject if centre is None else centre
    v0 = -c
    r0 = float(np.linalg.norm(v0))
    a0 = math.atan2(v0[0], v0[2])
    e0 = math.asin(max(-1.0, min(1.0, -v0[1] / r0)))
    a = a0 + azimuth
    e = np.clip(e0 + elevation, -82.0 * DEG, 82.0 * DEG)
    r = r0 * np.asarray(radius, dtype=np.float64)
    ce = np.cos(e)
    off = np.stack(np.broadcast_arrays(ce * np.sin(a), -np.sin(e), ce * np.cos(a)), axis=-1) * np.reshape(r, (-1, 1))
    return c[None, :] + off - (c + r0 * np.array([math.cos(e0) * math.sin(a0), -math.sin(e0),
                                                  math.cos(e0) * math.cos(a0)]))[None, :]


def reversal_keys(stroke: Any, prominence: float = 0.06) -> tuple[int, np.ndarray, np.ndarray]:
    """Key times and positions of a zigzag: ``(axis, times [K], values [K])``.

    The axis (0 = x, 1 = y) is the one whose coordinate reverses most often (local extrema with at
    least ``prominence`` normalised units of excursion); keys are the start, each reversal and the
    end, timed by drawing time and at least 2 % apart.
    """
    from scipy.signal import find_peaks

    xy, t = np.asarray(stroke.xy), np.asarray(stroke.t)
    best: tuple[int, float, np.ndarray] = (0, -1.0, np.array([], dtype=np.int64))
    for axis in (0, 1):
        c = xy[:, axis]
        idx = np.sort(np.concatenate([find_peaks(c, prominence=prominence)[0], find_peaks(-c, prominence=prominence)[0]]))
        score = len(idx) + 1e-3 * float(np.ptp(c))
        if score > best[1]:
            best = (axis, score, idx)
    axis, _, idx = best
    keys = np.concatenate([[0], idx, [len(t) - 1]])
    times = t[keys]
    keep = np.concatenate([[True], np.diff(times) >= 0.02])
    keys, times = keys[keep], times[keep]
    times[-1] = 1.0 if len(times) > 1 and times[-1] < 1.0 else times[-1]
    if len(times) < 2 or times[-1] <= times[0]:
        return axis, np.array([0.0, 1.0]), np.array([xy[0, axis], xy[-1, axis]])
    return axis, times, xy[keys, axis]


def stepped(u: np.ndarray, times: np.ndarray, values: np.ndarray, lo: float = 0.3, hi: float = 0.7) -> np.ndarray:
    """Hold each key value, then move to the next in a quick C2 transition over ``[lo, hi]`` of the gap."""
    q = np.clip(u, times[0], times[-1])
    k = np.clip(np.searchsorted(times, q, side="right") - 1, 0, len(times) - 2)
    w = (q - times[k]) / (times[k + 1] - times[k])
    return values[k] + (values[k + 1] - values[k]) * window(w, lo, hi)
