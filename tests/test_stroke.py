"""The stroke format: the one validator, round trips, malformed input, preprocessing, fuzzing."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from draw_to_video.trajectory.stroke.format import (
    DEFAULT_DT_MS,
    MAX_BYTES,
    MAX_POINTS,
    StrokeError,
    StrokeSet,
    make_stroke_set,
    parse_strokes,
)
from draw_to_video.trajectory.stroke.intent import INTENTS, analyze
from draw_to_video.trajectory.stroke.prepare import PreparedStroke, prepare


def doc(points, width=512, height=256, role=None, extra=None):
    stroke = {"points": points}
    if role is not None:
        stroke["role"] = role
    d = {"version": 1, "canvas": {"width": width, "height": height}, "strokes": [stroke] + (extra or [])}
    return d


# ------------------------------------------------------------------------------------------ valid input


def test_parse_untimed_synthesises_uniform_time():
    ss = parse_strokes(json.dumps(doc([[0, 0], [10, 0], [10.5, 7.25]])))
    assert (ss.width, ss.height) == (512, 256)
    (s,) = ss.strokes
    assert s.role == "camera" and not s.timed
    assert s.points.dtype == np.float64 and s.points.shape == (3, 3)
    np.testing.assert_array_equal(s.points[:, 2], [0.0, DEFAULT_DT_MS, 2 * DEFAULT_DT_MS])
    np.testing.assert_array_equal(s.points[:, :2], [[0, 0], [10, 0], [10.5, 7.25]])
    assert not s.points.flags.writeable


def test_parse_timed_bytes_and_mapping_agree():
    d = doc([[0, 0, 100], [5, 5, 100], [9, 3, 140.5]])
    a, b, c = parse_strokes(json.dumps(d).encode()), parse_strokes(d), parse_strokes(bytearray(json.dumps(d), "utf-8"))
    for ss in (a, b, c):
        assert ss.strokes[0].timed
        np.testing.assert_array_equal(ss.strokes[0].points[:, 2], [100, 100, 140.5])


def test_several_strokes_and_reserved_roles():
    extra = [{"points": [[1, 1]], "role": "subject"}, {"points": [[3, 3], [4, 4]], "role": "mask"},
             {"points": [[50, 50], [60, 80]]}]
    ss = parse_strokes(doc([[0, 0], [10, 0]], extra=extra))
    assert [s.role for s in ss.strokes] == ["camera", "subject", "mask", "camera"]
    assert [s.role for s in ss.camera_strokes()] == ["camera", "camera"]
    assert ss.n_points == 7


def test_reserved_strokes_are_ignored_by_analysis():
    xy = np.column_stack([np.linspace(100, 400, 40), np.linspace(100, 120, 40)])
    plain = make_stroke_set(xy, 512, 512)
    d = plain.to_dict()
    d["strokes"].insert(0, {"points": [[500, 10], [3, 500], [250, 250], [10, 10]], "role": "subject"})
    with_subject = parse_strokes(d)
    np.testing.assert_allclose(prepare(with_subject).xy_px, prepare(plain).xy_px)
    assert analyze(with_subject).to_dict() == analyze(plain).to_dict()


def test_round_trip_to_dict_and_json():
    extra = [{"points": [[1, 2, 3], [4, 5, 6]], "role": "subject"}]
    ss = parse_strokes(doc([[0.5, 0], [10, 0], [10, 10.125]], extra=extra))
    again = parse_strokes(ss.to_dict())
    assert again.to_dict() == ss.to_dict()
    assert parse_strokes(ss.to_json()).to_dict() == ss.to_dict()
    assert len(ss.to_dict()["strokes"][0]["points"][0]) == 2  # untimed stays untimed
    assert len(ss.to_dict()["strokes"][1]["points"][0]) == 3


def test_points_outside_canvas_and_integral_float_canvas_are_fine():
    ss = parse_strokes(doc([[-50, -20], [700, 300]], width=512.0, height=256))
    assert ss.width == 512 and isinstance(ss.width, int)


def test_make_stroke_set_validates_through_parse():
    ss = make_stroke_set(np.array([[0, 0], [3, 4]]), 64, 48, t_ms=[0, 10])
    assert ss.strokes[0].timed
    with pytest.raises(StrokeError):
        make_stroke_set([[0, 0], [math.nan, 1]], 64, 48)
    with pytest.raises(StrokeError, match="t_ms"):
        make_stroke_set([[0, 0], [1, 1]], 64, 48, t_ms=[0])


# ------------------------------------------------------------------------------------------ malformed input

MALFORMED = [
    ("{", "invalid JSON"),
    (b"\xff\xfe\xfa", "invalid JSON"),
    ("[" * 50000, "invalid JSON"),
    ("[]", "must be a JSON object"),
    ({"canvas": {"width": 1, "height": 1}, "strokes": []}, "missing key 'version'"),
    ({"version": 1, "strokes": []}, "missing key 'canvas'"),
    ({"version": 1, "canvas": {"width": 9, "height": 9}}, "missing key 'strokes'"),
    ({**doc([[0, 0], [1, 1]]), "version": 2}, "version: must be 1"),
    ({**doc([[0, 0], [1, 1]]), "version": True}, "version: must be 1"),
    ({**doc([[0, 0], [1, 1]]), "canvas": [512, 256]}, "canvas: must be an object"),
    ({**doc([[0, 0], [1, 1]]), "canvas": {"width": 512}}, "canvas: missing key 'height'"),
    (doc([[0, 0], [1, 1]], width=0), "canvas.width: must be between 1 and 16384"),
    (doc([[0, 0], [1, 1]], width=16385), "canvas.width: must be between 1 and 16384"),
    (doc([[0, 0], [1, 1]], height=12.5), "canvas.height: must be a positive integer"),
    (doc([[0, 0], [1, 1]], height=True), "canvas.height: must be a positive integer"),
    (doc([[0, 0], [1, 1]], width="512"), "canvas.width: must be a positive integer"),
    ({**doc([[0, 0], [1, 1]]), "strokes": {"points": []}}, "strokes: must be a list"),
    ({**doc([[0, 0], [1, 1]]), "strokes": []}, "no stroke with role 'camera'"),
    (doc([[0, 0], [1, 1]], role="subject"), "no stroke with role 'camera'"),
    ({**doc([[0, 0], [1, 1]]), "strokes": [[0, 0]]}, "strokes[0]: must be an object"),
    ({**doc([[0, 0], [1, 1]]), "strokes": [{"role": "camera"}]}, "strokes[0]: missing key 'points'"),
    (doc([[0, 0], [1, 1]], role="Camera!"), "strokes[0].role: must match"),
    (doc([[0, 0], [1, 1]], role=3), "strokes[0].role: must match"),
    (doc("0,0,1,1"), "strokes[0].points: must be a list of points"),
    (doc([]), "strokes[0].points: is empty"),
    (doc([[0, 0], [1, 1], 5]), "strokes[0].points[2]: must be a list"),
    (doc([[0, 0], [1, 1], [1]]), "strokes[0].points[2]: must have 2 or 3 elements"),
    (doc([[0, 0], [1, 1], [1, 2, 3, 4]]), "strokes[0].points[2]: must have 2 or 3 elements"),
    (doc([[0, 0], [1, 1, 5], [2, 2]]), "strokes[0].points[1]: has 3 elements but earlier points have 2"),
    (doc([[0, 0], [True, 1]]), "strokes[0].points[1]: x must be a number, got bool"),
    (doc([[0, 0], [1, "2"]]), "strokes[0].points[1]: y must be a number, got str"),
    (doc([[0, 0], [1, None]]), "strokes[0].points[1]: y must be a number, got null"),
    (doc([[0, 0, 0], [1, 1, 10**400]]), "strokes[0].points[1]: |t_ms| is more than"),
    (doc([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [1, math.nan]]), "strokes[0].points[7]: y is NaN"),
    (doc([[0, 0], [math.inf, 1]]), "strokes[0].points[1]: x is infinite"),
    ('{"version":1,"canvas":{"width":9,"height":9},"strokes":[{"points":[[0,0],[1,NaN]]}]}', "points[1]: y is NaN"),
    (doc([[0, 0], [2e6, 1]]), "strokes[0].points[1]: |x| = 2e+06 is more than"),
    (doc([[0, 0, 5], [1, 1, 4]]), "strokes[0].points[1]: t_ms decreases (5 -> 4)"),
    (doc([[3, 3], [3, 3], [3.0000001, 3]]), "strokes[0].points: a camera stroke needs at least 2 distinct points"),
    (doc([[3, 3]]), "a camera stroke needs at least 2 distinct points"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED, ids=[m for _, m in MALFORMED])
def test_malformed_input_gives_one_line_stroke_error(data, message):
    with pytest.raises(StrokeError) as err:
        parse_strokes(data)
    text = str(err.value)
    assert message in text
    assert "\n" not in text and len(text) < 300
    assert isinstance(err.value, ValueError)


def test_body_over_the_byte_limit_is_refused_before_parsing():
    body = '{"version": 1, "pad": "' + "x" * MAX_BYTES + '"}'
    t0 = time.process_time()
    with pytest.raises(StrokeError, match="more than the limit"):
        parse_strokes(body)
    with pytest.raises(StrokeError, match="more than the limit"):
        parse_strokes(body.encode())
    assert time.process_time() - t0 < 1.0


def test_too_many_points_is_rejected_quickly():
    pts = np.column_stack([np.arange(MAX_POINTS + 1) % 500, np.arange(MAX_POINTS + 1) % 300]).tolist()
    t0 = time.process_time()
    with pytest.raises(StrokeError, match=f"{MAX_POINTS + 1} points in all is more than the limit"):
        parse_strokes(doc(pts))
    # split over strokes too
    with pytest.raises(StrokeError, match="more than the limit"):
        parse_strokes(doc(pts[:60000], extra=[{"points": pts[60000:], "role": "mask"}]))
    assert time.process_time() - t0 < 0.5


def test_max_points_is_accepted_and_fast():
    rng = np.random.default_rng(0)
    text = json.dumps(doc(np.round(rng.uniform(0, 500, (MAX_POINTS, 2)), 2).tolist()))
    t0 = time.process_time()
    ss = parse_strokes(text)
    assert time.process_time() - t0 < 2.0
    assert ss.n_points == MAX_POINTS


# ------------------------------------------------------------------------------------------ preprocessing


def test_prepare_shapes_ranges_and_normalisation():
    xy = np.column_stack([np.linspace(100, 900, 300), 300 + 40 * np.sin(np.linspace(0, 3, 300))])
    p = prepare(make_stroke_set(xy, 1024, 576), n=128)
    assert isinstance(p, PreparedStroke) and p.n == 128
    assert p.xy_px.shape == (128, 2) and p.xy.shape == (128, 2)
    np.testing.assert_allclose(p.xy, (p.xy_px - [512, 288]) / 512)
    assert p.s[0] == 0 and p.s[-1] == 1 and np.all(np.diff(p.s) > 0)
    assert p.t[0] == 0 and p.t[-1] == 1 and np.all(np.diff(p.t) >= 0)
    assert abs(p.speed.mean() - 1) < 1e-9 and np.all(p.speed > 0)
    seg = np.linalg.norm(np.diff(p.xy_px, axis=0), axis=1)
    assert np.ptp(seg) < 1e-6 * seg.mean() + 1e-9  # uniform in arc length
    assert abs(seg.sum() - p.length_px) < 1e-6 * p.length_px


def test_prepare_keeps_the_speed_profile():
    # slow first half (dense samples), fast second half, uniformly spaced in time
    x = np.concatenate([np.linspace(0, 100, 101), np.linspace(104, 500, 100)])
    ss = make_stroke_set(np.column_stack([x, np.full_like(x, 50.0)]), 512, 512, t_ms=np.arange(len(x)) * 10.0)
    p = prepare(ss)
    slow, fast = p.speed[p.s < 0.15].mean(), p.speed[p.s > 0.4].mean()
    assert 3.0 < fast / slow < 5.0  # true ratio 4
    assert abs(np.interp(0.2, p.s, p.t) - 0.5) < 0.05  # the first 20% of the path took half the time


def test_prepare_smooths_jitter_but_keeps_zigzag_corners():
    rng = np.random.default_rng(3)
    verts = np.array([[100, 100], [200, 400], [300, 100], [400, 400]], dtype=float)
    dense = np.vstack([np.linspace(a, b, 80, endpoint=False) for a, b in zip(verts[:-1], verts[1:])] + [verts[-1:]])
    noisy = dense + rng.normal(0, 1.0, dense.shape)
    p = prepare(make_stroke_set(noisy, 512, 512), n=512)
    # corners survive: the path still comes within ~3 noise sigmas of each corner (an unclamped
    # 21-sample filter would cut these evenly sampled corners by 15-20 px)
    for v in verts[1:-1]:
        assert np.linalg.norm(p.xy_px - v, axis=1).min() < 8.0
    # jitter is reduced: distance to the clean polyline shrinks
    def dist(pts):
        d = []
        for a, b in zip(verts[:-1], verts[1:]):
            ab = b - a
            u = np.clip(((pts - a) @ ab) / (ab @ ab), 0, 1)
            d.append(np.linalg.norm(pts - (a + u[:, None] * ab), axis=1))
        return np.min(d, axis=0)
    assert np.sqrt(np.mean(dist(p.xy_px) ** 2)) < 0.6 * np.sqrt(np.mean(dist(noisy) ** 2))


def test_clean_polyline_is_untouched_by_smoothing():
    verts = np.array([[10, 10], [200, 10], [200, 200], [10, 200]], dtype=float)
    p = prepare(make_stroke_set(verts, 256, 256), n=601)
    for v in verts:
        assert np.linalg.norm(p.xy_px - v, axis=1).min() < 1e-9


def test_camera_strokes_are_concatenated_in_list_order():
    d = doc([[0, 0], [100, 0]], width=256, height=256,
            extra=[{"points": [[100, 100], [0, 100]], "role": "camera"}])
    p = prepare(parse_strokes(d), n=301)
    np.testing.assert_allclose(p.xy_px[0], [0, 0], atol=1e-9)
    np.testing.assert_allclose(p.xy_px[-1], [0, 100], atol=1e-9)
    assert abs(p.length_px - 300.0) < 1e-6  # the pen-up jump is bridged


def test_prepare_rejects_bad_arguments():
    ss = make_stroke_set([[0, 0], [5, 5]], 16, 16)
    for n in (1, 0, 2.5, True, MAX_POINTS + 1):
        with pytest.raises(ValueError, match="n must be"):
            prepare(ss, n=n)
    with pytest.raises(TypeError):
        prepare({"version": 1})


# ------------------------------------------------------------------------------------------ fuzzing

_scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=5))
_json = st.recursive(_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                     max_leaves=12)
_good_xy = st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000)).map(list)
_bad_num = st.sampled_from([math.nan, math.inf, -math.inf, True, None, "1", 2e6, 10**400])
_bad_point = st.lists(st.floats(-3000, 3000) | st.integers(-3000, 3000) | _bad_num, min_size=0, max_size=4) | _scalars
_points = (st.lists(_good_xy, min_size=1, max_size=12)
           | st.lists(st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000), st.floats(0, 1e4)).map(list),
                      min_size=1, max_size=12)
           | st.lists(_good_xy | _bad_point, max_size=12) | _json)
_stroke = st.fixed_dictionaries(
    {"points": _points},
    optional={"role": st.sampled_from(["camera", "camera", "subject", "mask", "Camera", "", 7, "x" * 40])},
)
_timed = st.lists(st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000), st.floats(0, 1e4)), min_size=1,
                  max_size=12).map(lambda ps: [[x, y, t] for (x, y, _), t in zip(ps, sorted(p[2] for p in ps))])
_valid_doc = st.fixed_dictionaries({
    "version": st.just(1),
    "canvas": st.fixed_dictionaries({"width": st.integers(1, 16384), "height": st.integers(1, 16384)}),
    "strokes": st.lists(st.fixed_dictionaries({"points": st.lists(_good_xy, min_size=1, max_size=12) | _timed},
                                              optional={"role": st.sampled_from(["camera", "subject"])}),
                        min_size=1, max_size=3),
})
_bad_doc = st.fixed_dictionaries({
    "version": st.sampled_from([1, 1, 1, 1, 1, 2, True, 1.0, "1"]),
    "canvas": st.fixed_dictionaries({"width": st.sampled_from([512, 512, 1, 16384, 0, 20000, 12.0, 12.5, True, "5"]),
                                     "height": st.sampled_from([256, 256, 7, -1, None])}) | _json,
    "strokes": st.lists(_stroke, max_size=4) | _json,
})
_doc = _valid_doc | _bad_doc


def _check_valid(ss: StrokeSet) -> None:
    assert isinstance(ss, StrokeSet) and 1 <= ss.width <= 16384 and 1 <= ss.height <= 16384
    assert ss.camera_strokes()
    for s in ss.strokes:
        assert s.points.shape[1] == 3 and np.isfinite(s.points).all()
        assert np.all(np.diff(s.points[:, 2]) >= 0)
    p = prepare(ss)
    for a in (p.xy_px, p.xy, p.s, p.t, p.speed):
        assert np.isfinite(a).all()
    assert np.isfinite(p.length_px) and p.length_px > 0
    it = analyze(ss)
    assert it.kind in INTENTS
    assert all(math.isfinite(v) for v in it.speed_profile)
    assert math.isfinite(it.confidence) and abs(sum(it.scores.values()) - 1) < 1e-9
    json.dumps(it.to_dict(), allow_nan=False)
    assert parse_strokes(ss.to_json()).to_dict() == ss.to_dict()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_doc | _json)
def test_fuzz_json_like_garbage_is_a_stroke_set_or_a_stroke_error(data):
    try:
        ss = parse_strokes(data)
    except StrokeError as e:
        assert "\n" not in str(e)
        return
    _check_valid(ss)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60) | st.binary(max_size=60) | _doc.map(lambda d: json.dumps(d)))
def test_fuzz_text_and_bytes(data):
    try:
        ss = parse_strokes(data)
    except StrokeError:
        return
    _check_valid(ss)


_finite = st.floats(-5000, 5000) | st.floats(-3.0, 3.0) | st.integers(0, 600).map(float) | st.floats(-1.1e6, 1.1e6)


@st.composite
def _point_arrays(draw) -> np.ndarray:
    """[n, 2|3] arrays, mostly finite (t sorted), sometimes with a NaN/inf/huge value somewhere."""
    n, k = draw(st.integers(1, 60)), draw(st.sampled_from([2, 3]))
    pts = draw(hnp.arrays(np.float64, (n, k), elements=_finite))
    if k == 3 and draw(st.booleans()):
        pts[:, 2] = np.sort(pts[:, 2])
    if draw(st.integers(0, 3)) == 0:
        pts[draw(st.integers(0, n - 1)), draw(st.integers(0, k - 1))] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    return pts


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_point_arrays(), st.sampled_from([(512, 512), (1024, 576), (576, 1024), (1, 16384)]))
def test_fuzz_point_arrays(pts, canvas):
    try:
        ss = parse_strokes({"version": 1, "canvas": {"width": canvas[0], "height": canvas[1]},
                            "strokes": [{"points": pts.tolist()}]})
    except StrokeError:
        return
    _check_valid(ss)


def test_the_picked_preset_travels_with_the_strokes() -> None:
    base = {"version": 1, "canvas": {"width": 64, "height": 32}, "strokes": [{"points": [[1, 2], [30, 20]]}]}
    assert parse_strokes(base).preset is None and "preset" not in parse_strokes(base).to_dict()
    picked = parse_strokes({**base, "preset": "orbit"})
    assert picked.preset == "orbit" and parse_strokes(picked.to_json()).preset == "orbit"
    assert parse_strokes({**base, "preset": "auto"}).preset is None
    for bad in (3, "../etc", "Orbit", "x" * 41):
        with pytest.raises(StrokeError, match="^preset: must be a preset name"):
            parse_strokes({**base, "preset": bad})
