"""Smooth-motion building blocks: easing, splines, look-at, motion limits, handheld shake, dolly zoom.

Everything is vectorised over frames (no per-frame Python loops). Camera axes and pose names follow
:mod:`draw_to_video.trajectory.conventions`; the world "up" is ``-y`` (y points down).

* :data:`EASINGS` - name -> vectorised ``f(t)`` on ``[0, 1]`` with ``f(0) = 0``, ``f(1) = 1``. All are
  C-infinity on ``[0, 1]`` (no piecewise joins), so a position that is a smooth function of the eased
  parameter is C2 in time. The ``*_back`` curves leave ``[0, 1]`` briefly (anticipation/overshoot);
  :data:`EASING_RANGE` gives each curve's ``(min, max)`` so shots can keep their safety margins.
* :func:`position_spline` (C2 cubic spline) and :func:`rotation_spline` (scipy ``RotationSpline``:
  continuous angular rate and acceleration) through keyframes.
* :func:`look_at` - ``world_T_cam [F, 4, 4]`` looking from ``eye`` at ``target``.
* :func:`limit_timing` - velocity / acceleration / jerk limits by time re-parameterisation.
* :func:`shake` - seeded handheld shake: low-pass filtered noise in rotation and translation.
* :func:`dolly_zoom_focal` - the focal length that keeps a subject's size during a dolly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation, RotationSpline

#: World up in the OpenCV world of the source camera (y points down).
WORLD_UP = np.array([0.0, -1.0, 0.0])

_BACK = 1.70158  # the classic "back" overshoot constant (about 10 %)


def _c(t: np.ndarray) -> np.ndarray:
    return np.asarray(t, dtype=np.float64)


def smoothstep(t: np.ndarray) -> np.ndarray:
    """``3t^2 - 2t^3`` (no clipping)."""
    t = _c(t)
    return t * t * (3.0 - 2.0 * t)


def smootherstep(t: np.ndarray) -> np.ndarray:
    """``6t^5 - 15t^4 + 10t^3`` (no clipping); first and second derivatives vanish at 0 and 1."""
    t = _c(t)
    return t * t * t * (t * (6.0 * t - 15.0) + 10.0)


def window(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """C2 ramp: 0 for ``u <= a``, 1 for ``u >= b``, :func:`smootherstep` between (``a < b``)."""
    return smootherstep(np.clip((_c(u) - a) / (b - a), 0.0, 1.0))


def _expo_in(t: np.ndarray) -> np.ndarray:
    return np.expm1(10.0 * math.log(2.0) * _c(t)) / 1023.0


def _logistic(t: np.ndarray, k: float = 12.0) -> np.ndarray:
    lo, hi = 1.0 / (1.0 + math.exp(k / 2)), 1.0 / (1.0 + math.exp(-k / 2))
    return (1.0 / (1.0 + np.exp(-k * (_c(t) - 0.5))) - lo) / (hi - lo)


def _back_in(t: np.ndarray) -> np.ndarray:
    t = _c(t)
    return t * t * ((_BACK + 1.0) * t - _BACK)


def _anticipate(t: np.ndarray) -> np.ndarray:
    s = smoothstep(t)
    return s - 0.25 * np.sin(2.0 * np.pi * s)


EASINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda t: _c(t).copy(),
    "ease_in": lambda t: _c(t) ** 3,
    "ease_out": lambda t: 1.0 - (1.0 - _c(t)) ** 3,
    "ease_in_out": smoothstep,
    "smootherstep": smootherstep,
    "ease_in_sine": lambda t: 1.0 - np.cos(0.5 * np.pi * _c(t)),
    "ease_out_sine": lambda t: np.sin(0.5 * np.pi * _c(t)),
    "ease_in_out_sine": lambda t: 0.5 - 0.5 * np.cos(np.pi * _c(t)),
    "ease_in_expo": _expo_in,
    "ease_out_expo": lambda t: 1.0 - _expo_in(1.0 - _c(t)),
    "ease_in_out_expo": _logistic,
    "ease_in_back": _back_in,
    "ease_out_back": lambda t: 1.0 - _back_in(1.0 - _c(t)),
    "ease_in_out_back": _anticipate,
}
"""Easing curves (see the module docstring). ``ease_in_out`` is smoothstep; ``ease_in_out_expo`` is a
normalised logistic; ``ease_in_out_back`` anticipates (dips ~5 % below 0) and overshoots (~5 %)."""

_PROBE = np.linspace(0.0, 1.0, 2001)
#: ``(min, max)`` of each easing over ``[0, 1]``.
EASING_RANGE: dict[str, tuple[float, float]] = {
    k: (min(0.0, float(f(_PROBE).min())), max(1.0, float(f(_PROBE).max()))) for k, f in EASINGS.items()
}


def ease(name: str, t: np.ndarray) -> np.ndarray:
    """Apply the easing ``name`` to ``t`` (raises ``ValueError`` naming the choices)."""
    f = EASINGS.get(name) if isinstance(name, str) else None
    if f is None:
        raise ValueError(f"unknown easing {name!r:.40}; choose one of: {', '.join(EASINGS)}")
    return f(t)


# -- splines --------------------------------------------------------------------------------------


def _times(times: np.ndarray, n: int) -> np.ndarray:
    t = np.asarray(times, dtype=np.float64)
    if t.shape != (n,) or not np.isfinite(t).all() or (n > 1 and not (np.diff(t) > 0).all()):
        raise ValueError(f"key times must be {n} finite, strictly increasing values")
    return t


def position_spline(times: np.ndarray, keys: np.ndarray, clamped: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """C2 cubic spline through key positions ``keys [K, D]`` at ``times [K]`` -> ``f(t) [..., D]``.

    ``clamped`` makes the velocity zero at both ends (start and stop at rest); otherwise the natural
    spline. One key gives a constant. Outside the key times the end polynomials are extrapolated.
    """
    k = np.asarray(keys, dtype=np.float64)
    if k.ndim != 2 or len(k) < 1 or not np.isfinite(k).all():
        raise ValueError(f"keys must be a finite [K, D] array with K >= 1, got shape {k.shape}")
    t = _times(times, len(k))
    if len(k) == 1:
        return lambda q: np.broadcast_to(k[0], np.shape(q) + k.shape[1:]).copy()
    spline = CubicSpline(t, k, axis=0, bc_type="clamped" if clamped else "natural")
    return lambda q: spline(np.asarray(q, dtype=np.float64))


def rotation_spline(times: np.ndarray, rotations: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Smooth interpolation of key rotations ``[K, 3, 3]`` (scipy ``RotationSpline``) -> ``f(t) [..., 3, 3]``.

    Queries are clipped to the key time range. One key gives a constant.
    """
    R = np.asarray(rotations, dtype=np.float64)
    if R.ndim != 3 or R.shape[1:] != (3, 3) or len(R) < 1:
        raise ValueError(f"rotations must be [K, 3, 3], got shape {R.shape}")
    t = _times(times, len(R))
    if len(R) == 1:
        return lambda q: np.broadcast_to(R[0], np.shape(q) + (3, 3)).copy()
    spline = RotationSpline(t, Rotation.from_matrix(R))
    return lambda q: spline(np.clip(np.asarray(q, dtype=np.float64), t[0], t[-1])).as_matrix()


# -- rotations and look-at ------------------------------------------------------------------------


def axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotations ``[..., 3, 3]`` by ``angle`` (radians) about the x (0), y (1) or z (2) axis."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(a.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1.0
    R[..., i, i], R[..., j, j], R[..., i, j], R[..., j, i] = c, c, -s, s
    return R


def direction(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Unit view directions ``[..., 3]``: yaw > 0 turns right (+x), pitch > 0 turns up (-y)."""
    yaw, pitch = np.broadcast_arrays(np.asarray(yaw, dtype=np.float64), np.asarray(pitch, dtype=np.float64))
    cp = np.cos(pitch)
    return np.stack([np.sin(yaw) * cp, -np.sin(pitch), np.cos(yaw) * cp], axis=-1)


def look_at_rotation(eye: np.ndarray, target: np.ndarray, up: np.ndarray = WORLD_UP) -> np.ndarray:
    """``world_R_cam [F, 3, 3]``: camera z toward ``target``, x = z x up (right), y = z x x (down).

    Where the view is (nearly) parallel to ``up`` the world ``+z`` axis stands in for ``up``, so the
    result is always a proper rotation; ``eye == target`` raises ``ValueError``.
    """
    eye, target = np.broadcast_arrays(np.asarray(eye, dtype=np.float64), np.asarray(target, dtype=np.float64))
    z = target - eye
    n = np.linalg.norm(z, axis=-1, keepdims=True)
    if not (n > 1e-12).all():
        raise ValueError("look_at: eye and target coincide")
    z = z / n
    up = np.broadcast_to(np.asarray(up, dtype=np.float64), z.shape)
    x = np.cross(z, up)
    xn = np.linalg.norm(x, axis=-1, keepdims=True)
    weak = xn[..., 0] < 1e-9
    if weak.any():
        x[weak] = np.cross(z[weak], np.array([0.0, 0.0, 1.0]))
        xn[weak] = np.linalg.norm(x[weak], axis=-1, keepdims=True)
    x = x / xn
    return np.stack([x, np.cross(z, x), z], axis=-1)


def pose(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Stack rotations ``[F, 3, 3]`` and translations ``[F, 3]`` into ``[F, 4, 4]``."""
    R = np.asarray(R, dtype=np.float64)
    T = np.zeros(R.shape[:-2] + (4, 4))
    T[..., :3, :3] = R
    T[..., :3, 3] = t
    T[..., 3, 3] = 1.0
    return T


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = WORLD_UP) -> np.ndarray:
    """``world_T_cam [F, 4, 4]`` at ``eye [F, 3]`` looking at ``target [F, 3]`` (OpenCV axes)."""
    eye = np.asarray(eye, dtype=np.float64)
    return pose(look_at_rotation(eye, target, up), eye)


# -- motion limits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Translation limits in scene units per second (``v``), per second^2 (``a``), per second^3 (``j``)."""

    v: float = math.inf
    a: float = math.inf
    j: float = math.inf

    def scaled(self, k: float) -> Limits:
        """All three limits multiplied by ``k`` (e.g. the subject distance)."""
        return Limits(self.v * k, self.a * k, self.j * k)


def peaks(positions: np.ndarray, fps: float) -> tuple[float, float, float]:
    """Largest speed, acceleration and jerk of sampled positions ``[F, 3]`` (finite differences)."""
    p = np.asarray(positions, dtype=np.float64)
    out = []
    for k in (1, 2, 3):
        d = np.diff(p, n=k, axis=0) * fps**k if len(p) > k else np.zeros((1, p.shape[-1]))
        out.append(float(np.linalg.norm(d, axis=-1).max()))
    return out[0], out[1], out[2]


def _ratio(pk: tuple[float, float, float], lim: Limits) -> float:
    return max(pk[0] / lim.v, pk[1] / lim.a, pk[2] / lim.j)


def _inverse_arclength(s: np.ndarray, u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``u(s)`` at ``t``: a C2 cubic spline through the table, or monotone PCHIP if that would not be monotone."""
    s[-1] = 1.0
    if len(s) < 4:
        return np.interp(t, s, u)
    q = np.linspace(0.0, 1.0, 4 * len(s))
    f = CubicSpline(s, u)
    if not (np.diff(f(q)) > 0).all():
        f = PchipInterpolator(s, u)
    return np.clip(f(t), 0.0, 1.0)


def limit_timing(t: np.ndarray, u: np.ndarray, path: Callable[[np.ndarray], np.ndarray], fps: float,
                 limits: Limits, dense: int = 257, iters: int = 12) -> tuple[np.ndarray, float, float]:
    """Re-time a path so its translation respects ``limits``, keeping the duration and the path.

    ``t [F]`` is linear time 0..1, ``u [F]`` the eased curve parameter of each frame, ``path(u)``
    the positions ``[F, 3]``. When the limits are exceeded the timing is blended toward constant
    speed along the path, ``u_a(t) = (1 - a) u(t) + a s^-1(t)`` with ``s`` the normalised arc length
    over ``u`` in ``[0, 1]``; the smallest blend ``a`` that meets the limits is found by bisection.
    Constant speed is the lowest peak speed any timing of that path can have in that duration, so
    when even ``a = 1`` is over the limits the timing stays there and the returned ratio (> 1)
    tells the caller by how much the move itself must shrink.

    Returns ``(u_new, a, ratio)`` with ratio = max(peak / limit) at ``u_new`` (<= 1 when met).
    """
    u = np.asarray(u, dtype=np.float64)
    r0 = _ratio(peaks(path(u), fps), limits)
    if r0 <= 1.0 or len(u) < 2:
        return u, 0.0, r0
    ud = np.linspace(0.0, 1.0, dense)
    seg = np.linalg.norm(np.diff(path(ud), axis=0), axis=-1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if not cum[-1] > 1e-12:
        return u, 0.0, r0
    keep = np.concatenate([[True], seg > 1e-12 * cum[-1]])  # strictly increasing arc length
    uniform = _inverse_arclength(cum[keep] / cum[-1], ud[keep], np.asarray(t, dtype=np.float64))

    def at(a: float) -> tuple[np.ndarray, float]:
        ua = (1.0 - a) * u + a * uniform
        return ua, _ratio(peaks(path(ua), fps), limits)

    u1, r1 = at(1.0)
    if r1 > 1.0:
        return u1, 1.0, r1
    lo, hi, best = 0.0, 1.0, (u1, r1)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        um, rm = at(mid)
        if rm <= 1.0:
            hi, best = mid, (um, rm)
        else:
            lo = mid
    return best[0], hi, best[1]


# -- handheld shake ---------------------------------------------------------------------------------


def shake(frames: int, fps: float, amplitude: float, seed: int = 0, cutoff_hz: float = 1.5,
          rot_deg: float = 0.6, trans: float = 0.006) -> tuple[np.ndarray, np.ndarray]:
    """Seeded handheld shake: ``(rotvec [F, 3] radians, offset [F, 3] scene units)`` in the camera frame.

    White noise from ``np.random.default_rng(seed)`` is low-pass filtered (Gaussian, ``sigma =
    fps / (2 pi cutoff_hz)`` frames), scaled to unit RMS, then to ``amplitude * rot_deg`` degrees and
    ``amplitude * trans`` units (roll at half the yaw/pitch level, the forward axis at half the lateral
    ones), and shifted so frame 0 is exactly zero (the first pose stays the source view).
    """
    if frames < 2 or amplitude == 0.0:
        return np.zeros((frames, 3)), np.zeros((frames, 3))
    rng = np.random.default_rng(seed)
    sigma = max(fps / (2.0 * np.pi * cutoff_hz), 0.5)
    pad = int(math.ceil(3 * sigma))
    noise = gaussian_filter1d(rng.standard_normal((frames + 2 * pad, 6)), sigma, axis=0, mode="wrap")[pad:pad + frames]
    noise = noise - noise[0]
    rms = np.sqrt((noise**2).mean(axis=0))
    noise = noise / np.where(rms > 1e-12, rms, 1.0)
    rot = noise[:, :3] * np.radians(rot_deg) * amplitude * np.array([1.0, 1.0, 0.5])
    off = noise[:, 3:] * trans * amplitude * np.array([1.0, 1.0, 0.5])
    return rot, off


# -- dolly zoom ---------------------------------------------------------------------------------------


def dolly_zoom_focal(f0: float | np.ndarray, d0: float, d: np.ndarray) -> np.ndarray:
    """Focal length ``f0 * d / d0`` keeping a subject at distance ``d`` (was ``d0``) the same size."""
    return np.asarray(f0, dtype=np.float64) * np.asarray(d, dtype=np.float64) / float(d0)
