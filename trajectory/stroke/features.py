"""Geometric features of a prepared stroke, for :mod:`.intent`.

Every feature is invariant to translation, scale, rotation and canvas aspect: the path is taken in
isotropic normalised coordinates, its pen-down/up hooks are cut, and it is rescaled to unit length.

* straightness ``chord / length``; the largest deviation from the chord and whether it is on both
  sides; the rms heading angle relative to the chord over the middle 90% (a wobbly line stays
  within ~20 degrees, a wave does not);
* a least-squares (Kasa) circle: relative radius residual and winding about its centre;
* a spiral centre (the point about which the radius is the smoothest quadratic function of the
  winding angle), the winding about it, the radius trend per turn and the quadratic residual;
* corners: peaks of the chord angle over ~4% of the path, each re-measured at the scale of its
  own legs (turn angle, and sharpness = angle over 12% of the leg / angle over 45% of the leg,
  about 1 for a corner and 0.3-0.7 for the rounded crest of a wave or a loop); the longest run of
  >= 90 degree corners alternating in sign; how straight the legs between them are; and "kinks",
  sharp bends of >= 40 degrees away from the ends (an L-shape has one, an arc none);
* the turning function (smoothed heading): total absolute and net turning in turns, the share of
  the absolute turning done in the sharpest 15% of the path (about 1 at zigzag corners, 0.15 on a
  circle), the number of bends (runs of one turning sign of >= 45 degrees), the ratio of the
  principal axes of the points and the gap between the ends relative to the bounding-box diagonal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

N_FEATURE_SAMPLES = 256  #: the path is resampled to this many points before measuring


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signed angle from vectors ``a`` to ``b`` ([..., 2]); positive = clockwise on screen (y down)."""
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return np.arctan2(cross, (a * b).sum(-1))


def _hook_cut(q: np.ndarray) -> int:
    """Index where a pen-down hook ends (0 if none): a short start meeting the rest at > 60 degrees."""
    m = max(3, len(q) // 16)
    k = np.arange(1, m + 1)
    ang = np.abs(_angle_between(q[k] - q[0], q[k + m] - q[k]))
    i = int(np.argmax(ang))
    return int(k[i]) if ang[i] > math.radians(60) else 0


def _circle_fit(q: np.ndarray) -> tuple[np.ndarray, float]:
    """Algebraic (Kasa) least-squares circle: centre, radius (radius inf for a line)."""
    mu = q.mean(axis=0)
    d = q - mu
    a = np.column_stack([d, np.ones(len(d))])
    sol, *_ = np.linalg.lstsq(a, (d * d).sum(1), rcond=None)
    c = sol[:2] / 2
    r2 = sol[2] + c @ c
    if not np.isfinite(r2) or r2 <= 0:
        return mu, math.inf
    return mu + c, float(np.sqrt(r2))


def _ellipse_fit(q: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Direct least-squares ellipse (Halir & Flusser): relative rms Sampson distance, axis ratio, centre.

    Returns ``(1.0, 0.0, mean)`` when no ellipse fits (a line, a hyperbola-like scatter).
    """
    mu = q.mean(axis=0)
    fail = 1.0, 0.0, mu
    x, y = q[:, 0] - mu[0], q[:, 1] - mu[1]
    d1 = np.column_stack([x * x, x * y, y * y])
    d2 = np.column_stack([x, y, np.ones_like(x)])
    s1, s2, s3 = d1.T @ d1, d1.T @ d2, d2.T @ d2
    try:
        t = -np.linalg.solve(s3, s2.T)
        m = s1 + s2 @ t
        m = np.array([m[2] / 2, -m[1], m[0] / 2])
        _, vec = np.linalg.eig(m)
    except np.linalg.LinAlgError:
        return fail
    vec = np.real(vec)
    ok = 4 * vec[0] * vec[2] - vec[1] ** 2 > 0
    if not ok.any():
        return fail
    a1 = vec[:, int(np.argmax(ok))]
    A, B, C, D, E, F = np.concatenate([a1, t @ a1])
    det = 4 * A * C - B * B
    if not det > 0:
        return fail
    x0, y0 = (B * E - 2 * C * D) / det, (B * D - 2 * A * E) / det
    f0 = A * x0 * x0 + B * x0 * y0 + C * y0 * y0 + D * x0 + E * y0 + F
    lam = np.linalg.eigvalsh(np.array([[A, B / 2], [B / 2, C]]))
    with np.errstate(divide="ignore", invalid="ignore"):  # a degenerate conic (lam ~ 0): inf/nan, refused below
        axes2 = -f0 / lam
    if not np.all(axes2 > 0):
        return fail
    axes = np.sqrt(axes2)
    val = A * x * x + B * x * y + C * y * y + D * x + E * y + F
    grad = np.hypot(2 * A * x + B * y + D, B * x + 2 * C * y + E)
    dist = np.abs(val) / np.maximum(grad, 1e-300)
    rel = float(np.sqrt(np.mean(dist * dist)) / np.sqrt(axes[0] * axes[1]))
    return rel, float(axes.min() / axes.max()), mu + np.array([x0, y0])


def _winding(q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Unwrapped polar angle of the points about ``c`` (clockwise-positive on screen)."""
    d = q - c
    return np.unwrap(np.arctan2(d[:, 1], d[:, 0]))


def _radius_line(phi: np.ndarray, r: np.ndarray) -> tuple[float, float, float]:
    """Fit r = a + b * |phi - phi0|: returns a (at the start), b (per radian), rms residual."""
    x = np.abs(phi - phi[0])
    xm, rm = x.mean(), r.mean()
    var = float(((x - xm) ** 2).sum())
    b = float(((x - xm) * (r - rm)).sum() / var) if var > 0 else 0.0
    a = rm - b * xm
    return float(a), b, float(np.sqrt(np.mean((r - a - b * x) ** 2)))


def _winding_steps(q: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Per-step signed angle increments [K, n-1] of the path about each of ``centres`` [K, 2]."""
    x = q[None, :, 0] - centres[:, None, 0]
    y = q[None, :, 1] - centres[:, None, 1]
    x0, y0, x1, y1 = x[:, :-1], y[:, :-1], x[:, 1:], y[:, 1:]
    return np.arctan2(x0 * y1 - y0 * x1, x0 * x1 + y0 * y1)


def _spiral_fit(q: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate centre [K, 2]: total winding (radians) and the relative rms residual of
    the radius as a quadratic function of the accumulated angle (batched normal equations)."""
    step = _winding_steps(q, centres)
    x = np.zeros((len(centres), len(q)))
    np.cumsum(step, axis=1, out=x[:, 1:])
    x = np.abs(x) * (1.0 / (2 * np.pi))
    r = np.hypot(q[None, :, 0] - centres[:, None, 0], q[None, :, 1] - centres[:, None, 1])
    x2 = x * x
    m = [np.full(len(centres), float(len(q))), x.sum(1), x2.sum(1), (x2 * x).sum(1), (x2 * x2).sum(1)]
    gram = np.stack([np.stack(m[i:i + 3], axis=-1) for i in range(3)], axis=-2) + 1e-9 * np.eye(3)
    rhs = np.stack([r.sum(1), (r * x).sum(1), (r * x2).sum(1)], axis=-1)
    c = np.linalg.solve(gram, rhs[..., None])[..., 0]
    res = r - c[:, :1] - c[:, 1:2] * x - c[:, 2:3] * x2
    rel = np.sqrt(np.mean(res * res, axis=1)) / np.maximum(r.mean(axis=1), 1e-12)
    return step.sum(axis=1), rel


def _spiral_centre(q: np.ndarray, c_fit: np.ndarray) -> np.ndarray:
    """Centre of a possible spiral: the point about which the radius is the smoothest (quadratic)
    function of the winding angle, among points the path winds around nearly the most.

    Searched on a 9 x 9 grid over the bounding box plus the circle-fit centre, then refined twice
    on 5 x 5 grids of halving spacing. When the path winds less than 1.25 turns about every grid
    point (so it cannot be a spiral) the circle-fit centre is returned without the search.
    """
    lo, hi = q.min(axis=0), q.max(axis=0)
    g = np.linspace(0.0, 1.0, 9)
    cands = np.vstack([lo + (hi - lo) * np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2), c_fit])
    wind = np.abs(_winding_steps(q, cands).sum(axis=1))
    if wind.max() < 2.5 * np.pi:
        return c_fit
    floor = wind.max() - 1.5 * np.pi  # within 0.75 turn of the most-wound point
    cands = cands[wind >= floor]
    best = cands[int(np.argmin(_spiral_fit(q, cands)[1]))]
    step = (hi - lo) / 8
    o = np.linspace(-1.0, 1.0, 5)
    for _ in range(2):
        cands = best + step * np.stack(np.meshgrid(o, o), axis=-1).reshape(-1, 2)
        wind, rel = _spiral_fit(q, cands)
        best = cands[int(np.argmin(np.where(np.abs(wind) >= floor, rel, np.inf)))]
        step = step / 2
    return best


def _chord_angle(q: np.ndarray, i: np.ndarray, w: np.ndarray | int) -> np.ndarray:
    """Signed angle between the chords ``q[i-w] -> q[i]`` and ``q[i] -> q[i+w]`` (indices clipped)."""
    lo = np.clip(i - w, 0, len(q) - 1)
    hi = np.clip(i + w, 0, len(q) - 1)
    return _angle_between(q[i] - q[lo], q[hi] - q[i])


def _corners(q: np.ndarray, min_deg: float = 40.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corner candidates: indices, turn angles (at leg scale) and sharpness (0..1).

    Candidates are peaks (> ``min_deg``) of the chord angle over a window of ~4% of the path.
    Each is then measured at the scale of its own legs: the turn is the chord angle over 45% of
    the shorter adjacent leg, the sharpness the ratio of the chord angle over 12% of that leg to
    the turn (about 1 for a corner, about 0.3 for the rounded crest of a wave).
    """
    m = len(q)
    w = max(4, m // 24)
    i = np.arange(w, m - w)
    if len(i) == 0:
        return np.zeros(0, int), np.zeros(0), np.zeros(0)
    mag = np.abs(_chord_angle(q, i, w))
    peaks: list[int] = []
    taken = np.zeros(len(i), dtype=bool)
    for j in np.argsort(-mag, kind="stable"):
        if mag[j] < math.radians(min_deg):
            break
        if not taken[j]:
            peaks.append(int(i[j]))
            taken[max(0, j - w): j + w + 1] = True
    idx = np.sort(np.array(peaks, dtype=int))
    if len(idx) == 0:
        return idx, np.zeros(0), np.zeros(0)
    bounds = np.concatenate([[0], idx, [m - 1]])
    leg = np.minimum(idx - bounds[:-2], bounds[2:] - idx)
    w_s = np.maximum(2, np.round(0.12 * leg)).astype(int)
    w_l = np.maximum(w_s + 1, np.round(0.45 * leg)).astype(int)
    turn = _chord_angle(q, idx, w_l)
    small = _chord_angle(q, idx, w_s)
    sharp = np.clip(np.abs(small) / np.maximum(np.abs(turn), 1e-9), 0.0, 1.0)
    return idx, turn, sharp


@dataclass(frozen=True)
class Geometry:
    """What the features were measured on, in unit-length coordinates ``q``; ``xy = q * scale + offset``
    maps back to the normalised canvas coordinates of :class:`~.prepare.PreparedStroke`."""

    q: np.ndarray
    offset: np.ndarray
    scale: float
    circle_centre: np.ndarray
    circle_radius: float  # inf for a line
    spiral_centre: np.ndarray
    spiral_radius: float
    radius_trend: float  # per turn, relative to the mean radius; > 0 when the radius grows while drawing
    corner_idx: np.ndarray
    corner_turn: np.ndarray
    corner_sharp: np.ndarray
    zigzag_corners: np.ndarray  # indices of the longest alternating run of >= 90 degree corners


def _resampled(xy: np.ndarray, s: np.ndarray, n: int) -> np.ndarray:
    if len(xy) == n:
        return xy
    t = np.linspace(0.0, 1.0, n)
    return np.column_stack([np.interp(t, s, xy[:, 0]), np.interp(t, s, xy[:, 1])])


def _alternating_run_slice(turn: np.ndarray) -> slice:
    """Longest run of consecutive corners whose turns alternate in sign (hairpins > 165 deg fit either)."""
    if len(turn) == 0:
        return slice(0, 0)
    best, start = (0, 1), 0
    prev = np.sign(turn[0]) if abs(turn[0]) < math.radians(165) else 0.0
    for j in range(1, len(turn)):
        sg = np.sign(turn[j]) if abs(turn[j]) < math.radians(165) else 0.0
        if not (sg == 0 or prev == 0 or sg != prev):
            start = j
        prev = -prev if sg == 0 else sg
        if j + 1 - start > best[1] - best[0]:
            best = (start, j + 1)
    return slice(*best)


def _turning_features(q: np.ndarray, hd: np.ndarray) -> dict[str, float]:
    """Turning-function and extent features of the unit-length path ``q`` with smoothed heading ``hd``."""
    dth = np.diff(hd)
    mag = np.abs(dth)
    total = max(float(mag.sum()), 1e-12)
    k = max(1, int(round(0.15 * len(mag))))
    top = np.partition(mag, len(mag) - k)[len(mag) - k:]
    sign = np.sign(gaussian_filter1d(dth, 3.0, mode="nearest"))
    cuts = np.flatnonzero(np.diff(sign) != 0) + 1
    runs = np.abs(np.add.reduceat(dth, np.concatenate([[0], cuts])))
    d = q - q.mean(axis=0)
    sxx, syy, sxy = float(d[:, 0] @ d[:, 0]), float(d[:, 1] @ d[:, 1]), float(d[:, 0] @ d[:, 1])
    root = math.hypot(sxx - syy, 2 * sxy)
    ev = ((sxx + syy - root) / 2, (sxx + syy + root) / 2)  # principal moments, ascending
    diag = max(float(np.linalg.norm(np.ptp(q, axis=0))), 1e-12)
    return {
        "turn_abs": total / (2 * np.pi),
        "turn_net": abs(float(dth.sum())) / (2 * np.pi),
        "turn_peak": float(top.sum()) / total,
        "bends": float(np.sum(runs >= math.radians(45))),
        "axis_ratio": float(np.sqrt(max(ev[0], 0.0) / max(ev[1], 1e-24))),
        "end_gap": float(np.linalg.norm(q[-1] - q[0])) / diag,
    }


def measure(xy: np.ndarray, s: np.ndarray) -> tuple[dict[str, float], Geometry]:
    """Features (see the module docstring) of a path ``xy [n, 2]`` sampled at arc-length fractions ``s``."""
    q0 = _resampled(np.asarray(xy, dtype=np.float64), np.asarray(s, dtype=np.float64), N_FEATURE_SAMPLES)
    i0 = _hook_cut(q0)
    i1 = len(q0) - _hook_cut(q0[::-1])
    q = q0[i0:i1] if i1 - i0 >= len(q0) // 2 else q0
    length = max(float(np.linalg.norm(np.diff(q, axis=0), axis=1).sum()), 1e-300)
    offset = q.mean(axis=0)
    q = (q - offset) / length  # unit length
    chord_v = q[-1] - q[0]
    chord = float(np.linalg.norm(chord_v))
    u = chord_v / chord if chord > 1e-9 else np.array([1.0, 0.0])
    side = (q - q[0]) @ np.array([-u[1], u[0]])
    dev = max(float(np.abs(side).max()), 1e-12)
    d = np.diff(q, axis=0)
    hd = gaussian_filter1d(np.unwrap(np.arctan2(d[:, 1], d[:, 0])), 3.0, mode="nearest")
    mid = slice(len(hd) // 20, len(hd) - len(hd) // 20)  # ignore end artefacts the hook cut missed
    f: dict[str, float] = {
        "straightness": chord,
        "dev_max": float(np.abs(side).max()),
        "dev_two_sided": float(min(side.max(), -side.min())) / dev,
        "heading_rms_deg": math.degrees(float(np.sqrt(np.mean(_wrap(hd[mid] - math.atan2(u[1], u[0])) ** 2)))),
    }
    f.update(_turning_features(q, hd))
    c, r = _circle_fit(q)
    if r < 10.0:
        rad = np.linalg.norm(q - c, axis=1)
        phi = _winding(q, c)
        f["winding"] = float(phi[-1] - phi[0]) / (2 * np.pi)
        f["circle_resid"] = float(np.sqrt(np.mean((rad - r) ** 2))) / r
    else:
        f["winding"], f["circle_resid"] = 0.0, 1.0
    f["ellipse_resid"], f["ellipse_ratio"], ce = _ellipse_fit(q)
    phi = _winding(q, ce)
    f["ellipse_winding"] = float(phi[-1] - phi[0]) / (2 * np.pi)
    # spirals are measured on the whole path: their tight inner turn can look like a hook
    qf = (q0 - offset) / length
    cs = _spiral_centre(qf, c)
    rad = np.linalg.norm(qf - cs, axis=1)
    rm = max(float(rad.mean()), 1e-12)
    _, b, _ = _radius_line(_winding(qf, cs), rad)
    wind, rel = _spiral_fit(qf, cs[None])
    f["spiral_winding"] = float(wind[0]) / (2 * np.pi)
    f["spiral_resid"] = float(rel[0])
    f["radius_slope"] = b * 2 * np.pi / rm
    idx, ang, sharp = _corners(q)
    big = np.abs(ang) >= math.radians(90)
    run = _alternating_run_slice(ang[big])
    zig = idx[big][run]
    f["alt_corners"] = float(len(zig))
    f["sharpness"] = float(np.median(sharp[big][run])) if len(zig) else 0.0
    bounds = np.concatenate([[0], idx, [len(q) - 1]])
    inner = np.minimum(idx - bounds[:-2], bounds[2:] - idx) >= 0.08 * len(q)
    f["kinks"] = float(np.sum((np.abs(ang) >= math.radians(40)) & (sharp >= 0.6) & inner))
    devs = []
    for a, e in zip(zig[:-1], zig[1:]):
        v = q[e] - q[a]
        nv = max(float(np.linalg.norm(v)), 1e-12)
        devs.append(float(np.abs((q[a:e + 1] - q[a]) @ np.array([-v[1], v[0]])).max()) / (nv * nv))
    f["leg_dev"] = float(np.median(devs)) if devs else 1.0
    geom = Geometry(q=q, offset=offset, scale=length, circle_centre=c, circle_radius=r, spiral_centre=cs,
                    spiral_radius=rm, radius_trend=f["radius_slope"], corner_idx=idx, corner_turn=ang,
                    corner_sharp=sharp, zigzag_corners=zig)
    return f, geom
