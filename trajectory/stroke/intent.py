"""Intent analysis of a drawn camera stroke: what shape did the user mean?

:func:`analyze` classifies the camera path of a :class:`~.format.StrokeSet` into one of
:data:`INTENTS` and measures the attributes a trajectory builder needs (direction, sense of
rotation, turns, centre, radius, spiral trend, zigzag reversals, speed profile).

Class semantics: ``straight`` a nearly straight line (wobble allowed); ``arc`` one clear smooth
bend of less than ~0.75 turn, open; ``circle`` about one closed loop (0.8-1.3 turns); ``spiral``
at least ~1.6 turns with a monotonic radius change; ``zigzag`` at least 2 sharp alternating
reversals (3+ legs); ``freeform`` anything else (S-curves, waves, figure eights, letters, corners,
loops followed by lines).

The decision is a small MLP (:mod:`.intent_model`) over the invariant features of
:mod:`.features`, trained by ``scripts/train_intent.py`` on real human strokes (the development
set, with rotation, jitter, resampling and pen-lift augmentation) plus the synthetic stroke model
(:mod:`.synthetic`); its probabilities are temperature-calibrated on author-split cross-validation.
``freeform`` is what people draw when no shape fits, not a shape drawn imperfectly.
``bench/bench_intent.py`` reports the cross-validated accuracy, calibration and time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import N_FEATURE_SAMPLES, Geometry, measure
from .format import StrokeSet
from .intent_model import feature_vector, load_model
from .prepare import PreparedStroke, prepare

INTENTS = ("straight", "arc", "circle", "spiral", "zigzag", "freeform")
SPEED_PROFILE_LEN = 16
CLOSED_GAP = 0.08  #: a freeform stroke is closed when its ends are this close, relative to its length
RUNNER_UP_RATIO = 0.5  #: the runner-up is reported when its probability is at least this share of the top one


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
    * ``runner_up``/``runner_up_confidence``: the second most likely class and its probability when
      the call is close (at least half the top probability, "circle, or arc?"), else None and 0.
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
    runner_up: str | None = None
    runner_up_confidence: float = 0.0

    @property
    def label(self) -> str:
        """What the node and the widget show: the class, or ``"circle, or arc?"`` when the runner-up is close."""
        return f"{self.kind}, or {self.runner_up}?" if self.runner_up else self.kind

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
            "runner_up": self.runner_up,
            "runner_up_confidence": float(self.runner_up_confidence),
        }


# ---------------------------------------------------------------------------------------- decision


def classify(f: dict[str, float]) -> tuple[str, dict[str, float]]:
    """Kind and calibrated class probabilities (summing to 1) from the features of :func:`~.features.measure`."""
    p = load_model().proba(feature_vector(f))
    scores = {k: float(v) for k, v in zip(INTENTS, p)}
    return INTENTS[int(np.argmax(p))], scores


def runner_up(scores: dict[str, float]) -> tuple[str | None, float]:
    """The second most likely class and its probability when it is close to the top one (at least
    :data:`RUNNER_UP_RATIO` of the top probability), else ``(None, 0.0)``."""
    first, second = sorted(scores, key=lambda k: (-scores[k], INTENTS.index(k)))[:2]
    if scores[second] >= RUNNER_UP_RATIO * scores[first]:
        return second, float(scores[second])
    return None, 0.0


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
    second, second_p = runner_up(scores)
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
        runner_up=second,
        runner_up_confidence=second_p,
    )


def analyze(stroke_set: StrokeSet) -> Intent:
    """Intent of the camera strokes of a validated stroke set (see :func:`~.prepare.prepare`)."""
    return analyze_prepared(prepare(stroke_set, N_FEATURE_SAMPLES))
