"""A synthetic model of human strokes, labelled by intent, for tests and benchmarks.

Each example is built in three stages, all driven by one ``np.random.Generator``:

1. **Ideal shape** of its class, in units of its own size (bounding box about 1), with the shape
   parameters drawn from the ranges in :data:`RANGES`, chosen from the class semantics and not from
   the classifier's thresholds. Two ranges were narrowed during development so that the labels stay
   unambiguous: a wave has amplitude/wavelength >= 0.12 (else it is a wobbly line) and zigzag legs
   are tilted >= 8 degrees (else a scribble's reversals need not alternate and it becomes a loop).
2. **Human motion**: a low-frequency wobble (a smooth 2-D displacement along the path), pen-down/up hooks,
   a drawing-speed profile = a bell over the whole stroke times the 2/3 power law
   (speed ~ curvature^-1/3, so the pen slows at bends and nearly stops at zigzag corners), a random
   tempo, sampling at 60-240 Hz with timing jitter and dropped events, then tremor (6-12 Hz),
   pixel jitter, rounding to whole or half pixels, and occasional repeated points.
3. **Placement**: random rotation and mirroring, size, position (overshooting the canvas
   slightly is allowed) and canvas from :data:`CANVASES`; t_ms is present in 85% of examples
   (integer or 0.1 ms resolution, arbitrary clock origin), and 10% carry an extra reserved
   ``"subject"`` stroke that analysis must ignore.

Freeform examples are varied: S-curves, figure eights, waves of 1.5-3 cycles, letter-like strokes
("2", "3", "e"), L-shaped corners, a loop then a line, and random smooth splines that contain at
least two opposite bends (so they are neither lines, arcs nor loops). Shapes that are zigzags by
the class semantics (letters N, M, W, Z) are deliberately not used as freeform.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import make_interp_spline
from scipy.ndimage import gaussian_filter1d

from .format import StrokeSet, parse_strokes
from .intent import INTENTS

#: Canvases (width, height) drawn uniformly.
CANVASES = ((512, 512), (1024, 576), (576, 1024), (1920, 1080), (1080, 1920), (768, 768), (1280, 720))

#: Documented parameter ranges of the generator (uniform unless stated).
RANGES = {
    "straight.bow_deg": (-12.0, 12.0),  # total bend of a slightly bowed line
    "arc.sweep_deg": (50.0, 240.0),
    "arc.aspect": (0.75, 1.0),  # ellipse axis ratio
    "circle.turns": (0.8, 1.25),
    "circle.aspect": (0.55, 1.0),  # ovals count as circles
    "circle.radius_drift": (-0.1, 0.1),  # relative radius change from start to end
    "spiral.turns": (2.0, 4.0),
    "spiral.inner_over_outer": (0.05, 0.35),
    "spiral.aspect": (0.85, 1.0),
    "zigzag.legs": (3, 8),  # integers, inclusive
    "zigzag.leg_tilt_deg": (8.0, 35.0),  # leg tilt off the across direction; corner turn = 180 - 2 * tilt
    "zigzag.leg_length_jitter": (-0.15, 0.15),
    "zigzag.corner_round": (0.005, 0.04),  # corner rounding, fraction of a leg
    # freeform: one of seven families, equally likely
    "s_curve.sweep_deg": (90.0, 200.0),  # each of the two opposite bends
    "s_curve.radius_ratio": (0.6, 1.5),
    "figure8.aspect": (0.6, 1.4),
    "wave.cycles": (1.5, 3.0),
    "wave.amplitude_over_wavelength": (0.12, 0.3),  # crest slope >= 37 deg: clearly wavier than a wobbly line
    "corner.turn_deg": (60.0, 120.0),  # L-shape
    "corner.leg_ratio": (0.4, 1.0),
    "loop_line.turns": (0.9, 1.1),
    "loop_line.tail_over_radius": (1.5, 3.0),
    "spline.control_points": (5, 7),  # random smooth spline with >= 2 opposite bends of >= 45 deg, no cusp
    "wobble.rms": (0.0, 0.012),  # fraction of size
    "wobble.correlation": (0.08, 0.25),  # fraction of path length
    "hook.probability": 0.35,  # per end
    "hook.length_px": (2.0, 10.0),  # and at most 4% of the path
    "hook.angle_deg": (60.0, 170.0),
    "tempo.s_per_size": (0.15, 0.7),  # drawing time per path length of one size, plus 0.15 s
    "sample_hz": (60.0, 240.0),
    "tremor.px": (0.0, 1.0),
    "tremor.hz": (6.0, 12.0),
    "jitter.px": (0.0, 0.8),
    "size.fraction_of_min_side": (0.15, 0.85),
    "timed.probability": 0.85,
    "duplicates.probability": 0.3,
    "subject_stroke.probability": 0.1,
}

_M = 2048  # samples of an ideal path


def _u(rng: np.random.Generator, key: str) -> float:
    lo, hi = RANGES[key]
    return float(rng.uniform(lo, hi))


def _resample(p: np.ndarray, m: int = _M) -> np.ndarray:
    """Polyline -> ``m`` points uniformly spaced in arc length."""
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    keep = np.concatenate([[True], seg > 1e-12])
    p = p[keep]
    cum = np.concatenate([[0.0], np.cumsum(seg[seg > 1e-12])])
    u = np.linspace(0.0, cum[-1], m)
    return np.column_stack([np.interp(u, cum, p[:, 0]), np.interp(u, cum, p[:, 1])])


def _ellipse(ang: np.ndarray, r: np.ndarray | float, aspect: float) -> np.ndarray:
    return np.column_stack([np.cos(ang) * r, np.sin(ang) * r * aspect])


def _spline(ctrl: np.ndarray, m: int = _M) -> np.ndarray:
    d = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(ctrl, axis=0), axis=1))])
    return make_interp_spline(d / d[-1], ctrl, k=3)(np.linspace(0.0, 1.0, m))


def _turning(p: np.ndarray) -> np.ndarray:
    d = np.diff(p, axis=0)
    return np.angle(np.exp(1j * np.diff(np.arctan2(d[:, 1], d[:, 0]))))


# ---------------------------------------------------------------- ideal shapes (size about 1)


def _straight(rng: np.random.Generator) -> np.ndarray:
    bow = np.radians(_u(rng, "straight.bow_deg"))
    if abs(bow) < 1e-3:
        return np.column_stack([np.linspace(0, 1, _M), np.zeros(_M)])
    a = np.linspace(-bow / 2, bow / 2, _M)
    return np.column_stack([np.sin(a), np.cos(a)]) / (2 * np.sin(abs(bow) / 2))


def _arc(rng: np.random.Generator) -> np.ndarray:
    sweep = np.radians(_u(rng, "arc.sweep_deg"))
    a0 = rng.uniform(0, 2 * np.pi)
    return _ellipse(np.linspace(a0, a0 + sweep, _M), 1.0, _u(rng, "arc.aspect"))


def _circle(rng: np.random.Generator) -> np.ndarray:
    turns = _u(rng, "circle.turns")
    a0 = rng.uniform(0, 2 * np.pi)
    r = 1.0 + _u(rng, "circle.radius_drift") * np.linspace(0, 1, _M)
    return _ellipse(np.linspace(a0, a0 + 2 * np.pi * turns, _M), r, _u(rng, "circle.aspect"))


def _spiral(rng: np.random.Generator) -> np.ndarray:
    turns = _u(rng, "spiral.turns")
    ratio = _u(rng, "spiral.inner_over_outer")
    f = np.linspace(0, 1, _M)
    r = ratio * (1 / ratio) ** f if rng.random() < 0.3 else ratio + (1 - ratio) * f  # log / Archimedean
    if rng.random() < 0.5:
        r = r[::-1]  # inward
    a0 = rng.uniform(0, 2 * np.pi)
    return _ellipse(a0 + 2 * np.pi * turns * f, r, _u(rng, "spiral.aspect"))


def _zigzag(rng: np.random.Generator) -> np.ndarray:
    legs = int(rng.integers(RANGES["zigzag.legs"][0], RANGES["zigzag.legs"][1] + 1))
    tilt = np.radians(_u(rng, "zigzag.leg_tilt_deg"))
    lo, hi = RANGES["zigzag.leg_length_jitter"]
    length = 1.0 + rng.uniform(lo, hi, legs)
    ang = tilt + np.radians(rng.normal(0, 3, legs))
    sign = np.where(np.arange(legs) % 2 == 0, 1.0, -1.0)
    steps = np.column_stack([np.sin(ang) * length, sign * np.cos(ang) * length])
    verts = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)])
    dense = _resample(verts, _M * 2)
    sigma = _u(rng, "zigzag.corner_round") * (2 * _M) / legs
    return _resample(gaussian_filter1d(dense, sigma, axis=0, mode="nearest"))


def _freeform(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(7)
    if kind == 0:  # S-curve: two opposite arcs
        s1, s2 = np.radians([_u(rng, "s_curve.sweep_deg"), _u(rng, "s_curve.sweep_deg")])
        r2 = _u(rng, "s_curve.radius_ratio")
        a = _ellipse(np.linspace(np.pi, np.pi - s1, _M // 2), 1.0, 1.0)
        a = a - a[-1]
        th = np.pi - s1  # end angle; the second arc continues the tangent with opposite curvature
        c2 = r2 * np.array([np.cos(th), np.sin(th)])
        b = c2 + _ellipse(np.linspace(th + np.pi, th + np.pi + s2, _M // 2), r2, 1.0)
        return _resample(np.vstack([a, b]))
    if kind == 1:  # figure eight
        u = np.linspace(0, 2 * np.pi, _M) + rng.uniform(0, 2 * np.pi)
        return np.column_stack([np.sin(u), np.sin(u) * np.cos(u) * _u(rng, "figure8.aspect")])
    if kind == 2:  # wave
        cycles, amp = _u(rng, "wave.cycles"), _u(rng, "wave.amplitude_over_wavelength")
        x = np.linspace(0, cycles, _M)
        return _resample(np.column_stack([x, amp * np.sin(2 * np.pi * x + rng.uniform(-0.5, 0.5))]))
    if kind == 3:  # letter-like
        return _letter(rng)
    if kind == 4:  # L-shaped corner
        turn = np.radians(_u(rng, "corner.turn_deg"))
        legs = np.array([1.0, _u(rng, "corner.leg_ratio")])
        verts = np.array([[0, 0], [legs[0], 0], [legs[0] + legs[1] * np.cos(turn), legs[1] * np.sin(turn)]])
        return _resample(gaussian_filter1d(_resample(verts), rng.uniform(2, 20), axis=0, mode="nearest"))
    if kind == 5:  # a loop, then a line leaving it
        turns = _u(rng, "loop_line.turns")
        loop = _ellipse(np.linspace(-np.pi / 2, -np.pi / 2 + 2 * np.pi * turns, _M), 1.0, rng.uniform(0.8, 1.0))
        d = loop[-1] - loop[-2]
        tail = loop[-1] + np.outer(np.linspace(0, _u(rng, "loop_line.tail_over_radius"), _M // 2), d / np.linalg.norm(d))
        return _resample(np.vstack([loop, tail]))
    return _random_spline(rng)


def _letter(rng: np.random.Generator) -> np.ndarray:
    pieces = {
        0: [[(0.1, 0.3), (0.3, 0.05), (0.6, 0.02), (0.88, 0.25), (0.7, 0.55), (0.05, 1.0)],
            [(0.05, 1.0), (0.5, 1.0), (0.95, 1.0)]],  # "2"
        1: [[(0.1, 0.1), (0.5, 0.0), (0.85, 0.2), (0.7, 0.42), (0.4, 0.5)],
            [(0.4, 0.5), (0.8, 0.6), (0.9, 0.85), (0.5, 1.0), (0.1, 0.9)]],  # "3"
        2: [[(0.1, 0.5), (0.5, 0.5), (0.9, 0.5)],
            [(0.9, 0.5), (0.8, 0.15), (0.5, 0.02), (0.15, 0.3), (0.15, 0.7), (0.5, 0.98), (0.9, 0.85)]],  # "e"
    }[int(rng.integers(3))]
    out = []
    for ctrl in pieces:
        c = np.array(ctrl) + rng.normal(0, 0.02, (len(ctrl), 2))
        c[0] = out[-1][-1] if out else c[0]
        out.append(_spline(c, _M // 2) if len(c) >= 4 else _resample(c, _M // 2))
    return _resample(np.vstack(out))


def _random_spline(rng: np.random.Generator) -> np.ndarray:
    """A smooth random curve with at least two opposite bends of >= 45 degrees and no sharp cusp."""
    for _ in range(50):
        lo, hi = RANGES["spline.control_points"]
        p = _spline(rng.uniform(0, 1, (int(rng.integers(lo, hi + 1)), 2)))
        p = _resample(p)
        turn = gaussian_filter1d(_turning(p), 8)
        bends = []  # signed total turning of each maximal same-sign run
        sign = np.sign(turn)
        edges = np.flatnonzero(np.diff(sign) != 0) + 1
        for run in np.split(turn, edges):
            bends.append(run.sum())
        big = [b for b in bends if abs(b) >= np.radians(45)]
        window = np.convolve(_turning(p), np.ones(60), mode="valid")  # ~3% of the path
        if len(big) >= 2 and min(big) < 0 < max(big) and np.abs(window).max() < np.radians(90):
            return p
    return _freeform_wave_fallback(rng)


def _freeform_wave_fallback(rng: np.random.Generator) -> np.ndarray:
    x = np.linspace(0, 2.0, _M)
    return np.column_stack([x, 0.2 * np.sin(2 * np.pi * x)])


_SHAPES = {"straight": _straight, "arc": _arc, "circle": _circle, "spiral": _spiral,
           "zigzag": _zigzag, "freeform": _freeform}


# ---------------------------------------------------------------- human motion and placement


def _hook(end: np.ndarray, direction: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    """A short curl leaving ``end`` at a sharp angle to ``direction`` (points ordered away from end)."""
    ang = np.arctan2(direction[1], direction[0]) + rng.choice([-1, 1]) * np.radians(_u(rng, "hook.angle_deg"))
    bend = rng.uniform(-2.0, 2.0)
    a = ang + bend * np.linspace(0, 1, 24)
    steps = np.column_stack([np.cos(a), np.sin(a)]) * (length / 24)
    return end + np.cumsum(steps, axis=0)


def _humanise(shape: np.ndarray, size_px: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ideal shape (bbox about 1) -> sampled pixel-scale points [K, 2] (origin at the shape) and times in s."""
    p = _resample(shape - shape.mean(axis=0))
    p = p * (size_px / max(np.ptp(p, axis=0).max(), 1e-9))
    total = float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())
    # wobble: a smooth 2-D displacement along the path (not along the normal, which would tie
    # swallowtail loops into sharp corners)
    noise = gaussian_filter1d(rng.normal(0, 1, (_M, 2)), _u(rng, "wobble.correlation") * _M, axis=0, mode="nearest")
    noise *= _u(rng, "wobble.rms") * size_px / max(float(noise.std()), 1e-12)
    p = p + noise
    for at_start in (True, False):
        if rng.random() < RANGES["hook.probability"]:
            length = min(_u(rng, "hook.length_px"), 0.04 * total)
            end, inner = (p[0], p[8]) if at_start else (p[-1], p[-9])
            h = _hook(end, end - inner, length, rng)
            p = np.vstack([h[::-1], p]) if at_start else np.vstack([p, h])
    p = _resample(p)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    total = float(seg.sum())
    # speed: bell over the stroke x 2/3 power law, from the (smoothed) curvature
    kappa = np.abs(gaussian_filter1d(_turning(p), 3)) / np.maximum(seg[1:], 1e-12)
    kappa = np.concatenate([[kappa[0]], kappa, [kappa[-1]]])
    u = np.linspace(0, 1, _M)
    floor = rng.uniform(0.05, 0.2)
    speed = (floor + (1 - floor) * np.sin(np.pi * u) ** rng.uniform(0.6, 1.4)) * (kappa + 3.0 / size_px) ** (-1 / 3)
    dt = seg / (0.5 * (speed[1:] + speed[:-1]))
    t = np.concatenate([[0.0], np.cumsum(dt)])
    duration = 0.15 + (total / size_px) * _u(rng, "tempo.s_per_size")
    t *= duration / t[-1]
    hz = _u(rng, "sample_hz")
    ts = np.arange(0.0, duration, 1.0 / hz)
    ts = np.clip(ts + rng.normal(0, 0.15 / hz, len(ts)), 0.0, duration)
    ts = np.sort(np.concatenate([ts[rng.random(len(ts)) > 0.05], [0.0, duration]]))
    xy = np.column_stack([np.interp(ts, t, p[:, 0]), np.interp(ts, t, p[:, 1])])
    amp, f = _u(rng, "tremor.px"), _u(rng, "tremor.hz")
    ph = rng.uniform(0, 2 * np.pi, 2)
    xy += amp * np.column_stack([np.sin(2 * np.pi * f * ts + ph[0]), np.sin(2 * np.pi * f * 1.07 * ts + ph[1])])
    xy += rng.normal(0, _u(rng, "jitter.px"), xy.shape)
    return xy, ts


def generate(kind: str, rng: np.random.Generator) -> StrokeSet:
    """One synthetic human stroke of intent ``kind`` (one of ``INTENTS``)."""
    if kind not in _SHAPES:
        raise ValueError(f"kind must be one of {INTENTS}, got {kind!r}")
    w, h = CANVASES[int(rng.integers(len(CANVASES)))]
    shape = _SHAPES[kind](rng)
    rot = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(rot), np.sin(rot)
    shape = shape @ np.array([[c, s], [-s, c]])
    if rng.random() < 0.5:
        shape = shape * np.array([1.0, -1.0])
    size = _u(rng, "size.fraction_of_min_side") * min(w, h)
    xy, ts = _humanise(shape, size, rng)
    half = np.ptp(xy, axis=0) / 2
    lo = np.minimum(half - 0.05 * np.array([w, h]), np.array([w, h]) / 2)
    centre = rng.uniform(lo, np.array([w, h]) - lo)
    xy += centre - (xy.min(axis=0) + half)
    r = rng.random()
    xy = np.round(xy) if r < 0.6 else (np.round(xy * 2) / 2 if r < 0.8 else xy)
    t_ms = ts * 1000.0 + rng.uniform(0, 1e5)
    t_ms = np.round(t_ms) if rng.random() < 0.5 else np.round(t_ms, 1)
    pts = np.column_stack([xy, t_ms])
    if rng.random() < RANGES["duplicates.probability"]:
        idx = np.sort(rng.choice(len(pts), size=max(1, len(pts) // 50), replace=True))
        pts = np.insert(pts, idx, pts[idx], axis=0)
    timed = rng.random() < RANGES["timed.probability"]
    strokes = [{"points": (pts if timed else pts[:, :2]).tolist(), "role": "camera"}]
    if rng.random() < RANGES["subject_stroke.probability"]:
        blob = rng.uniform(0, 1, (12, 2)) * np.array([w, h])
        strokes.insert(int(rng.integers(2)), {"points": blob.tolist(), "role": "subject"})
    return parse_strokes({"version": 1, "canvas": {"width": w, "height": h}, "strokes": strokes})


def generate_corpus(n_per_class: int, seed: int) -> list[tuple[str, StrokeSet]]:
    """``n_per_class`` labelled examples of each intent, interleaved by class.

    Example ``i`` of class ``k`` depends only on ``(seed, k, i)``, so a larger corpus extends a
    smaller one with the same seed.
    """
    if not isinstance(n_per_class, int) or n_per_class < 0:
        raise ValueError(f"n_per_class must be a non-negative int, got {n_per_class!r}")
    out = []
    for i in range(n_per_class):
        for k, kind in enumerate(INTENTS):
            out.append((kind, generate(kind, np.random.default_rng([seed, k, i]))))
    return out
