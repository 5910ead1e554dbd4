"""Intent analysis of a drawn camera stroke: what shape did the user mean?

:func:`analyze` classifies the camera path of a :class:`~.format.StrokeSet` into one of
:data:`INTENTS` and measures the attributes a trajectory builder needs (direction, sense of
rotation, turns, centre, radius, spiral trend, zigzag reversals, speed profile).

Class semantics: ``straight`` a nearly straight line (wobble allowed); ``arc`` one clear smooth
bend of less than ~0.75 turn, open; ``circle`` about one closed loop (0.8-1.3 turns); ``spiral``
at least ~1.6 turns with a monotonic radius change; ``zigzag`` at least 2 sharp alternating
reversals (3+ legs); ``freeform`` anything else (S-curves, waves, figure eights, letters, corners,
loops followed by lines).

The decision is a handful of transparent rules on the features of :mod:`.features`, each
with a soft (logistic) margin. Every shape class gets a membership in 0..1 (a product of
logistic terms), freeform gets ``1 - max(memberships)``, and the scores are the memberships
normalised to sum 1. The thresholds were set on seed 0 of :mod:`.synthetic` and are
reported on another seed by ``bench/bench_intent.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import N_FEATURE_SAMPLES, Geometry, measure
from .format import StrokeSet
from .prepare import PreparedStroke, prepare

INTENTS = ("straight", "arc", "circle", "spiral", "zigzag", "freeform")
SPEED_PROFILE_LEN = 16
CLOSED_GAP = 0.08  #: a freeform stroke is closed when its ends are this close, relative to its length


@dataclass(frozen=True)
class Intent:
    """The analysed intent of a stroke (canvas pixels: x right, y down).

    * ``direction_deg``: start-to-end direction on screen, 0 = right, 90 = down, in [-180, 180).
    * ``clockwise``: sense of rotation on screen, the sign of the area enclosed between the path
      and its closing chord (for a loop, its direction of travel; for straight and zigzag strokes
      the sign of the small net curvature).
    * ``turns``: winding turns about ``centre`` (>= 0); 0 for straight and zigzag strokes.
    * ``amplitude``: half the bounding-box diagonal in normalised units; for a zigzag, the mean
      half-excursion of its legs across its axis (the line through the leg midpoints), or half the
      mean leg length when the legs run back and forth in place.
    * ``centre``/``radius``: the fitted circle (arc, circle), the spiral centre and mean radius
      (spiral), else the bounding-box centre and radius 0.
    * ``radius_trend``: change of radius per turn relative to the mean radius (circle, spiral);
      > 0 outward (the radius grows while drawing), < 0 inward; 0 for other kinds.
    * ``reversals``: sharp (>= 90 degree) reversals of direction; zigzag legs - 1 for a zigzag.
    * ``closed``: True for circles and for freeform strokes whose ends meet (within 8% of the length).
    * ``speed_profile``: 16 samples of the drawing speed (mean 1) evenly spaced in arc length.
    """

    kind: str
    confidence: float
    scores: dict[str, float]
    direction_deg: float
    closed: bool
    clockwise: bool
    turns: float
    amplitude: float
    start: tuple[float, float]
    end: tuple[float, float]
    centre: tuple[float, float]
    radius: float
    radius_trend: float
    reversals: int
    speed_profile: tuple[float, ...]

    def to_dict(self) -> dict:
        """JSON-safe dict with ``"intent"`` = kind first, then the attributes."""
        return {
            "intent": self.kind,
            "confidence": float(self.confidence),
            "scores": {k: float(v) for k, v in self.scores.items()},
            "direction_deg": float(self.direction_deg),
            "closed": bool(self.closed),
            "clockwise": bool(self.clockwise),
            "turns": float(self.turns),
            "amplitude": float(self.amplitude),
            "start": [float(v) for v in self.start],
            "end": [float(v) for v in self.end],
            "centre": [float(v) for v in self.centre],
            "radius": float(self.radius),
            "radius_trend": float(self.radius_trend),
            "reversals": int(self.reversals),
            "speed_profile": [float(v) for v in self.speed_profile],
        }


# ---------------------------------------------------------------------------------------- decision


def _sig(x: float) -> float:
    if not math.isfinite(x):
        return 0.0 if x != x or x < 0 else 1.0  # NaN counts as "rule not met"
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def memberships(f: dict[str, float]) -> dict[str, float]:
    """Soft rule memberships (0..1) of every class; freeform = 1 - the largest of the others."""
    w = abs(f["winding"])
    w_loop = max(w, abs(f["ellipse_winding"]))
    zig = _sig((f["alt_corners"] - 1.5) / 0.2)
    no_zig = 1.0 - zig
    m = {
        # nearly straight: small deviation from the chord, heading close to the chord's
        "straight": _sig((0.08 - f["dev_max"]) / 0.01) * _sig((f["straightness"] - 0.8) / 0.03)
        * _sig((24.0 - f["heading_rms_deg"]) / 2.5),
        # one smooth bend on one side of the chord, a good circle, open (chord > 0.33 length: less
        # than ~0.73 turn of a circle), no kink
        "arc": _sig((f["dev_max"] - 0.08) / 0.01) * _sig((f["straightness"] - 0.33) / 0.03) * _sig((0.85 - w) / 0.04)
        * _sig((0.12 - f["circle_resid"]) / 0.02) * _sig((0.35 - f["dev_two_sided"]) / 0.05)
        * _sig((0.5 - f["kinks"]) / 0.1) * no_zig,
        # about one turn of a good circle or a not too flat ellipse, ends close (chord < 0.33 length)
        "circle": _sig((w_loop - 0.65) / 0.04) * _sig((0.33 - f["straightness"]) / 0.03) * _sig((1.5 - w_loop) / 0.08)
        * _sig((0.065 - f["ellipse_resid"]) / 0.01) * _sig((f["ellipse_ratio"] - 0.35) / 0.05) * no_zig,
        # >= 1.6 turns about a centre, radius a smooth function of angle with a clear trend
        "spiral": _sig((abs(f["spiral_winding"]) - 1.6) / 0.1) * _sig((abs(f["radius_slope"]) - 0.12) / 0.03)
        * _sig((0.3 - f["spiral_resid"]) / 0.04) * no_zig,
        # >= 2 alternating sharp reversals joined by straight legs
        "zigzag": zig * _sig((f["sharpness"] - 0.66) / 0.04) * _sig((0.055 - f["leg_dev"]) / 0.008),
    }
    m["freeform"] = 1.0 - max(m.values())
    return m


def classify(f: dict[str, float]) -> tuple[str, dict[str, float]]:
    """Kind and scores (summing to 1) from the features."""
    m = memberships(f)
    total = sum(m.values())
    scores = {k: m[k] / total for k in INTENTS}
    return max(INTENTS, key=lambda k: scores[k]), scores


# ---------------------------------------------------------------------------------------- attributes


def _to_px(p: PreparedStroke, g: Geometry, c: np.ndarray) -> tuple[float, float]:
    xy = c * g.scale + g.offset
    half = max(p.width, p.height) / 2.0
    return float(xy[0] * half + p.width / 2.0), float(xy[1] * half + p.height / 2.0)


def _zigzag_amplitude(g: Geometry) -> float:
    """Mean half-excursion of the legs across the zigzag's axis (the line through the leg
    midpoints), normalised units; half the mean leg length when the legs run back and forth in place."""
    verts = np.vstack([g.q[0], g.q[g.zigzag_corners], g.q[-1]])
    legs = np.diff(verts, axis=0)
    leg_len = float(np.linalg.norm(legs, axis=1).mean())
    mids = (verts[:-1] + verts[1:]) / 2 - ((verts[:-1] + verts[1:]) / 2).mean(axis=0)
    axis = np.linalg.svd(mids, full_matrices=False)[2][0]
    if float(np.ptp(mids @ axis)) < 0.25 * leg_len:
        return leg_len / 2.0 * g.scale
    across = np.abs(legs @ np.array([-axis[1], axis[0]]))
    return float(across.mean()) / 2.0 * g.scale


def analyze_prepared(p: PreparedStroke) -> Intent:
    """Intent of a prepared stroke (any ``n``; it is resampled to 256 points for the features)."""
    if not isinstance(p, PreparedStroke):
        raise TypeError(f"analyze_prepared() needs a PreparedStroke, got {type(p).__name__}")
    f, g = measure(p.xy, p.s)
    kind, scores = classify(f)
    xy, px = np.asarray(p.xy), np.asarray(p.xy_px)
    d = px[-1] - px[0]
    direction = math.degrees(math.atan2(float(d[1]), float(d[0])))
    direction = -180.0 if direction >= 180.0 else direction
    closed_xy = np.vstack([xy, xy[:1]])
    area = 0.5 * float(np.sum(closed_xy[:-1, 0] * closed_xy[1:, 1] - closed_xy[1:, 0] * closed_xy[:-1, 1]))
    lo, hi = px.min(axis=0), px.max(axis=0)
    centre, radius, turns, trend = (float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2)), 0.0, 0.0, 0.0
    half = max(p.width, p.height) / 2.0
    if kind in ("arc", "circle") and math.isfinite(g.circle_radius):
        centre, radius, turns = _to_px(p, g, g.circle_centre), g.circle_radius * g.scale * half, abs(f["winding"])
        trend = g.radius_trend if kind == "circle" else 0.0
    elif kind == "spiral":
        centre, radius = _to_px(p, g, g.spiral_centre), g.spiral_radius * g.scale * half
        turns, trend = abs(f["spiral_winding"]), g.radius_trend
    elif kind == "freeform":
        c = (np.array(centre) - np.array([p.width / 2.0, p.height / 2.0])) / half
        ang = np.arctan2(xy[:, 1] - c[1], xy[:, 0] - c[0])
        turns = abs(float(np.sum((np.diff(ang) + np.pi) % (2 * np.pi) - np.pi))) / (2 * np.pi)
    sharp = np.abs(g.corner_turn) >= math.radians(90)
    reversals = len(g.zigzag_corners) if kind == "zigzag" else int(np.sum(sharp & (g.corner_sharp >= 0.66)))
    amplitude = _zigzag_amplitude(g) if kind == "zigzag" else float(np.linalg.norm(xy.max(0) - xy.min(0))) / 2.0
    gap = float(np.linalg.norm(xy[-1] - xy[0])) / max(float(np.linalg.norm(np.diff(xy, axis=0), axis=1).sum()), 1e-300)
    k = (np.arange(SPEED_PROFILE_LEN) + 0.5) / SPEED_PROFILE_LEN
    return Intent(
        kind=kind,
        confidence=scores[kind],
        scores=scores,
        direction_deg=direction,
        closed=kind == "circle" or (kind == "freeform" and gap <= CLOSED_GAP),
        clockwise=area > 0.0,
        turns=float(turns),
        amplitude=amplitude,
        start=(float(px[0, 0]), float(px[0, 1])),
        end=(float(px[-1, 0]), float(px[-1, 1])),
        centre=centre,
        radius=float(radius),
        radius_trend=float(trend),
        reversals=int(reversals),
        speed_profile=tuple(float(v) for v in np.interp(k, p.s, p.speed)),
    )


def analyze(stroke_set: StrokeSet) -> Intent:
    """Intent of the camera strokes of a validated stroke set (see :func:`~.prepare.prepare`)."""
    return analyze_prepared(prepare(stroke_set, N_FEATURE_SAMPLES))
