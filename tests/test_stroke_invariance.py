"""Invariances people need, shown on real human strokes of the development set (../shared/strokes-dev).

The class of a clearly classified stroke (confidence >= 0.9, no runner-up) must not change with
scale and position, drawing speed or missing timing, point density, mild rotation, mouse jitter,
or the stroke being drawn in two or three pieces. Point density: 10 to 10,000 points taken
uniformly in drawing order, as long as the shape can still be drawn with them (zigzags and
freeform scribbles get at least 64 points, spirals 12 per turn: a 10-point polygon cannot hold a
three-turn spiral, and 10 samples of a scribble are a zigzag).
The development set is required: these tests fail, not skip, when it is missing.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draw_to_video.trajectory.stroke.format import parse_strokes
from draw_to_video.trajectory.stroke.intent import Intent, analyze
from draw_to_video.trajectory.stroke.intent_training import Example, load_examples

DEV = Path(__file__).resolve().parents[2] / "shared" / "strokes-dev"
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@lru_cache(maxsize=1)
def _clear() -> tuple[tuple[Example, Intent], ...]:
    """Development strokes with their intent, those the classifier reads clearly (confidence >= 0.9, no runner-up)."""
    assert DEV.is_dir(), f"the development strokes are required at {DEV}"
    out = []
    for e in load_examples(DEV):
        it = analyze(parse_strokes(e.data))
        if it.confidence >= 0.9 and it.runner_up is None:
            out.append((e, it))
    return tuple(out)


def test_dev_set_is_present_and_mostly_clear():
    clear = _clear()
    assert len(clear) >= 0.9 * 602, len(clear)
    assert {e.label for e, _ in clear} == {"straight", "arc", "circle", "spiral", "zigzag", "freeform"}


def _points(e: Example) -> np.ndarray:
    p = np.asarray(e.data["strokes"][0]["points"], dtype=np.float64)
    return p if p.shape[1] == 3 else np.column_stack([p, np.arange(len(p)) * 16.0])


def _kind(e: Example, pieces: list[np.ndarray], timed: bool = True, canvas: tuple[int, int] | None = None) -> str:
    w, h = canvas or (e.data["canvas"]["width"], e.data["canvas"]["height"])
    strokes = [{"points": (c if timed else c[:, :2]).tolist(), "role": "camera"} for c in pieces]
    return analyze(parse_strokes({"version": 1, "canvas": {"width": w, "height": h}, "strokes": strokes})).kind


def _in_time(p: np.ndarray, n: int) -> np.ndarray:
    u = np.linspace(0.0, len(p) - 1.0, n)
    return np.column_stack([np.interp(u, np.arange(len(p)), p[:, j]) for j in range(3)])


strokes = st.integers(0, 10**6).map(lambda i: _clear()[i % len(_clear())])


@SETTINGS
@given(strokes, st.floats(-3.0, 3.0), st.floats(-2000.0, 2000.0), st.floats(-2000.0, 2000.0))
def test_scale_and_position(case, log_scale, dx, dy):
    e, it = case
    p = _points(e)
    p[:, :2] = p[:, :2] * math.exp(log_scale) + [dx, dy]
    assert _kind(e, [p]) == it.kind, e.name


@SETTINGS
@given(strokes, st.floats(-2.5, 2.5), st.booleans())
def test_drawing_speed_and_missing_timing(case, log_tempo, timed):
    e, it = case
    p = _points(e)
    p[:, 2] *= math.exp(log_tempo)
    assert _kind(e, [p], timed=timed) == it.kind, e.name


def _min_points(it: Intent) -> int:
    if it.kind in ("zigzag", "freeform"):
        return 64
    if it.kind == "spiral":
        return max(10, math.ceil(12 * it.turns))
    return 10


@SETTINGS
@given(strokes, st.floats(0.0, 1.0))
def test_point_density(case, u):
    e, it = case
    lo = _min_points(it)
    n = int(round(math.exp(math.log(lo) + u * (math.log(10_000) - math.log(lo)))))
    assert _kind(e, [_in_time(_points(e), n)]) == it.kind, (e.name, n)


@pytest.mark.parametrize("n", [10, 10_000])
def test_point_density_extremes_on_simple_shapes(n):
    for e, it in _clear()[::7]:
        if _min_points(it) <= n and it.kind != "freeform":
            assert _kind(e, [_in_time(_points(e), n)]) == it.kind, (e.name, n)


@SETTINGS
@given(strokes, st.floats(-30.0, 30.0), st.booleans())
def test_mild_rotation_and_mirror(case, deg, mirror):
    e, it = case
    p = _points(e)
    a = math.radians(deg)
    c = p[:, :2].mean(axis=0)
    p[:, :2] = (p[:, :2] - c) @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    if mirror:
        p[:, 0] *= -1
    p[:, :2] += c
    assert _kind(e, [p]) == it.kind, e.name


@SETTINGS
@given(strokes, st.floats(300.0, 900.0), st.floats(0.0, 1.5), st.integers(0, 2**32 - 1))
def test_mouse_jitter(case, size_px, sigma_px, seed):
    """Drawn 300-900 px across on a 1024 x 1024 canvas, +-sigma px of pointer noise, whole pixels."""
    e, it = case
    p = _points(e)
    xy = p[:, :2] - p[:, :2].min(axis=0)
    xy *= size_px / max(float(np.ptp(xy, axis=0).max()), 1e-9)
    p[:, :2] = np.round(xy + 60 + np.random.default_rng(seed).normal(0, sigma_px, xy.shape))
    assert _kind(e, [p], canvas=(1024, 1024)) == it.kind, e.name


@SETTINGS
@given(strokes, st.integers(2, 3), st.integers(0, 2**32 - 1), st.integers(0, 2))
def test_drawn_in_pieces(case, n_pieces, seed, lift):
    """Cut at random points into 2 or 3 strokes; the pen may lift over ``lift`` samples at each cut."""
    e, it = case
    p = _points(e)
    if len(p) < 24:  # a sparse polyline (Quick, Draw! keeps only its vertices): add points along it
        p = _in_time(p, 24)
    rng = np.random.default_rng(seed)
    span = len(p) // n_pieces
    cuts = [j * span + int(rng.integers(-(span // 4), span // 4 + 1)) for j in range(1, n_pieces)]
    pieces = [c[: len(c) - lift] if j < n_pieces - 1 else c for j, c in enumerate(np.split(p, cuts))]
    pieces = [c for c in pieces if len(c) >= 2 and np.ptp(c[:, :2], axis=0).max() > 0]
    assert len(pieces) >= 2
    assert _kind(e, pieces) == it.kind, e.name
