"""Intent analysis: accuracy on a fresh seed of the synthetic human-stroke corpus, attributes,
invariances, robustness, speed, the learned model and its runner-up (real strokes: ../shared/strokes-dev,
required; the invariances on real strokes are in test_stroke_invariance.py)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draw_to_video.trajectory.stroke.format import StrokeSet, make_stroke_set, parse_strokes
from draw_to_video.trajectory.stroke.intent import (
    INTENTS,
    RUNNER_UP_RATIO,
    Intent,
    analyze,
    analyze_prepared,
    runner_up,
)
from draw_to_video.trajectory.stroke.intent_model import FEATURE_NAMES, WEIGHTS_PATH, IntentModel, load_model
from draw_to_video.trajectory.stroke.intent_training import (
    CLASSES,
    Recipe,
    author_folds,
    author_of,
    expected_calibration_error,
    load_examples,
    train,
)
from draw_to_video.trajectory.stroke.prepare import prepare
from draw_to_video.trajectory.stroke.synthetic import RANGES, generate, generate_corpus

FRESH_SEED = 2024  # neither the tuning seed (0) nor the benchmark's report seed (12345)
PER_CLASS = 50


def _transform(ss: StrokeSet, fn) -> StrokeSet:
    d = ss.to_dict()
    for s in d["strokes"]:
        p = np.array(s["points"], dtype=np.float64)
        p[:, :2] = fn(p[:, :2])
        s["points"] = p.tolist()
    return parse_strokes(d)


def _noisy(xy: np.ndarray, seed: int = 0, sigma: float = 0.6) -> np.ndarray:
    return np.round(xy + np.random.default_rng(seed).normal(0, sigma, xy.shape), 1)


def _circle(cx=500, cy=300, r=180, turns=1.0, clockwise=True, n=240, a0=0.3):
    a = a0 + (1 if clockwise else -1) * np.linspace(0, 2 * np.pi * turns, n)
    return np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)])


def _spiral(turns=3.0, r0=20.0, r1=220.0, n=900, cx=520, cy=300):
    a = np.linspace(0, 2 * np.pi * turns, n)
    r = np.linspace(r0, r1, n)
    return np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)])


# ------------------------------------------------------------------------------------------ accuracy


@pytest.fixture(scope="module")
def fresh_results():
    corpus = generate_corpus(PER_CLASS, FRESH_SEED)
    return [(label, analyze(ss)) for label, ss in corpus]


def test_generator_labels_are_the_intents():
    assert set(RANGES) and tuple(sorted(INTENTS)) == tuple(sorted({k for k, _ in generate_corpus(1, 0)}))


def test_accuracy_on_a_fresh_seed(fresh_results):
    labels = np.array([lab for lab, _ in fresh_results])
    pred = np.array([it.kind for _, it in fresh_results])
    overall = float(np.mean(labels == pred))
    per_class = {k: float(np.mean(pred[labels == k] == k)) for k in INTENTS}
    assert overall >= 0.95, (overall, per_class)
    assert min(per_class.values()) >= 0.85, per_class


def test_results_are_well_formed(fresh_results):
    for _, it in fresh_results:
        assert isinstance(it, Intent) and it.kind in INTENTS
        assert set(it.scores) == set(INTENTS) and abs(sum(it.scores.values()) - 1) < 1e-9
        assert it.confidence == it.scores[it.kind] == max(it.scores.values())
        assert -180.0 <= it.direction_deg < 180.0 and it.turns >= 0 and it.radius >= 0 and it.reversals >= 0
        assert len(it.speed_profile) == 16 and abs(np.mean(it.speed_profile) - 1) < 0.35
        d = it.to_dict()
        assert d["intent"] == it.kind
        json.dumps(d, allow_nan=False)


def test_confident_predictions_are_mostly_right(fresh_results):
    sure = [(lab, it.kind) for lab, it in fresh_results if it.confidence >= 0.9]
    assert len(sure) >= 0.8 * len(fresh_results)
    assert np.mean([a == b for a, b in sure]) >= 0.98


# ------------------------------------------------------------------------------------------ attributes


@pytest.mark.parametrize("clockwise", [True, False])
def test_circle_sense_closure_centre_radius(clockwise):
    it = analyze(make_stroke_set(_noisy(_circle(clockwise=clockwise, turns=1.05)), 1024, 576))
    assert it.kind == "circle" and it.closed
    assert it.clockwise is clockwise
    assert abs(it.turns - 1.05) < 0.1
    assert np.hypot(it.centre[0] - 500, it.centre[1] - 300) < 6
    assert abs(it.radius - 180) < 8


@pytest.mark.parametrize("clockwise", [True, False])
def test_arc_sense(clockwise):
    it = analyze(make_stroke_set(_noisy(_circle(clockwise=clockwise, turns=0.4, n=120)), 1024, 576))
    assert it.kind == "arc" and not it.closed
    assert it.clockwise is clockwise
    assert abs(it.turns - 0.4) < 0.06


@pytest.mark.parametrize("angle", [0, 30, 90, 135, 180, -60, -90, -170])
def test_direction_of_a_straight_line(angle):
    a = math.radians(angle)
    xy = np.array([400, 300]) + np.outer(np.linspace(-200, 200, 80), [math.cos(a), math.sin(a)])
    it = analyze(make_stroke_set(_noisy(xy, seed=angle % 7), 800, 600))
    assert it.kind == "straight" and not it.closed
    diff = (it.direction_deg - angle + 180) % 360 - 180
    assert abs(diff) < 3, it.direction_deg


@pytest.mark.parametrize("outward", [True, False])
def test_spiral_in_or_out_and_turns(outward):
    xy = _spiral(turns=3.0)
    if not outward:
        xy = xy[::-1]
    it = analyze(make_stroke_set(_noisy(xy), 1024, 576))
    assert it.kind == "spiral"
    assert (it.radius_trend > 0) is outward
    assert abs(it.turns - 3.0) <= 0.5
    assert np.hypot(it.centre[0] - 520, it.centre[1] - 300) < 25


@pytest.mark.parametrize("legs", [3, 5, 8])
def test_zigzag_reversals(legs):
    x = np.linspace(100, 100 + 60 * legs, legs + 1)
    y = np.where(np.arange(legs + 1) % 2 == 0, 150.0, 400.0)
    verts = np.column_stack([x, y])
    dense = np.vstack([np.linspace(a, b, 40, endpoint=False) for a, b in zip(verts[:-1], verts[1:])] + [verts[-1:]])
    it = analyze(make_stroke_set(_noisy(dense), 1024, 576))
    assert it.kind == "zigzag"
    assert it.reversals == legs - 1
    assert abs(it.amplitude - 125 / 512) < 0.03  # half of the 250 px excursion, normalised by max(W, H) / 2


def test_speed_profile_follows_drawing_time():
    xy = np.column_stack([np.linspace(100, 700, 200), np.full(200, 300.0)])
    u = np.linspace(0, 1, 200)
    t_ms = 1000 * u**2  # decelerating: fast at the start, slow at the end
    it = analyze(make_stroke_set(xy, 800, 600, t_ms=t_ms[::-1].max() - t_ms[::-1]))
    prof = np.array(it.speed_profile)
    assert prof[0] > 2 * prof[-1] or prof[-1] > 2 * prof[0]
    it2 = analyze(make_stroke_set(xy, 800, 600, t_ms=t_ms))  # accelerating
    assert (np.argmax(it.speed_profile) < 8) != (np.argmax(it2.speed_profile) < 8)


def test_analyze_prepared_matches_analyze_for_any_n():
    ss = make_stroke_set(_noisy(_circle(turns=0.95)), 1024, 576)
    a = analyze(ss)
    assert analyze_prepared(prepare(ss)).to_dict() == a.to_dict()
    b = analyze_prepared(prepare(ss, n=1000))
    assert b.kind == a.kind and abs(b.turns - a.turns) < 0.03
    with pytest.raises(TypeError):
        analyze_prepared(ss)


# ------------------------------------------------------------------------------------------ invariances


def test_invariant_to_translation_scale_rotation():
    rng = np.random.default_rng(11)
    for label, ss in generate_corpus(5, 31337):
        base = analyze(ss)
        th, sc = rng.uniform(0, 2 * np.pi), rng.uniform(0.4, 2.5)
        rot = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
        shift = rng.uniform(-300, 300, 2)
        moved = analyze(_transform(ss, lambda p, r=rot, s=sc, o=shift: p @ r * s + o))
        assert moved.kind == base.kind, label
        assert abs(moved.confidence - base.confidence) < 0.05
        assert moved.reversals == base.reversals
        if base.kind in ("arc", "circle", "spiral"):  # (freeform turns are about the bounding-box centre)
            assert abs(moved.turns - base.turns) < 0.05
        assert moved.clockwise == base.clockwise or base.kind in ("straight", "zigzag", "freeform")
        if base.kind == "zigzag":  # the bounding box of other kinds is not rotation invariant
            assert abs(moved.amplitude / sc - base.amplitude) < 0.03 * base.amplitude
        scaled = analyze(_transform(ss, lambda p, s=sc, o=shift: p * s + o))
        assert scaled.kind == base.kind and abs(scaled.amplitude / sc - base.amplitude) < 1e-6 + 1e-6 * sc


def test_invariant_to_canvas_aspect():
    for label, ss in generate_corpus(4, 4242):
        base = analyze(ss)
        d = ss.to_dict()
        w, h = d["canvas"]["width"], d["canvas"]["height"]
        d["canvas"] = {"width": h, "height": w}  # same pixels on the reversed aspect
        other = analyze(parse_strokes(d))
        assert other.kind == base.kind and abs(other.turns - base.turns) < 1e-6, label
        assert np.allclose(other.centre, base.centre) and abs(other.direction_deg - base.direction_deg) < 1e-6
        # transposed: x <-> y on the reversed canvas, a mirror image
        mirrored = analyze(parse_strokes({**d, "strokes": [
            {**s, "points": [[p[1], p[0], *p[2:]] for p in s["points"]]} for s in d["strokes"]]}))
        assert mirrored.kind == base.kind, label
        if base.kind in ("arc", "circle", "spiral"):
            assert mirrored.clockwise != base.clockwise


def test_fast_and_slow_versions_agree():
    rng = np.random.default_rng(1)
    for kind in INTENTS:
        ss = generate(kind, np.random.default_rng([99, INTENTS.index(kind)]))
        d = ss.to_dict()
        for s in d["strokes"]:
            if len(s["points"][0]) == 3:
                p = np.array(s["points"])
                p[:, 2] *= rng.uniform(0.2, 5.0)
                s["points"] = p.tolist()
        assert analyze(parse_strokes(d)).kind == analyze(ss).kind


# ------------------------------------------------------------------------------------------ robustness


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 300), st.integers(0, 2**32 - 1), st.sampled_from(["walk", "uniform", "smooth", "line"]),
       st.sampled_from([(512, 512), (1920, 1080), (576, 1024), (16384, 1)]), st.booleans())
def test_any_valid_stroke_gives_finite_fields(n, seed, mode, canvas, timed):
    rng = np.random.default_rng(seed)
    w, h = canvas
    if mode == "walk":
        xy = np.cumsum(rng.normal(0, rng.uniform(0.01, 30), (n, 2)), axis=0) + [w / 2, h / 2]
    elif mode == "uniform":
        xy = rng.uniform(-0.2, 1.2, (n, 2)) * [w, h]
    elif mode == "smooth":
        k = np.linspace(0, 1, n)[:, None]
        xy = np.hstack([np.sin(k * rng.uniform(0, 30) + rng.uniform(0, 6)), np.cos(k * rng.uniform(0, 30))]) * 200 + 300
    else:
        xy = np.outer(np.linspace(0, 1, n), rng.uniform(-1, 1, 2)) * rng.uniform(0.002, 900) + 100
    t = np.sort(rng.uniform(0, 5000, n)) if timed else None
    if rng.random() < 0.3:
        t = None if t is None else np.zeros(n)  # a stroke whose times are all equal
    try:
        ss = make_stroke_set(xy, w, h, t_ms=t)
    except ValueError:
        return  # fewer than 2 distinct points
    it = analyze(ss)
    assert it.kind in INTENTS
    d = it.to_dict()
    json.dumps(d, allow_nan=False)  # every number finite
    assert 0 <= it.confidence <= 1 and it.turns >= 0 and it.radius >= 0


def test_prepare_plus_analyze_is_fast_for_1000_points():
    rng = np.random.default_rng(0)
    a = np.linspace(0, 6 * np.pi, 1000)
    xy = np.column_stack([500 + np.linspace(20, 250, 1000) * np.cos(a), 300 + np.linspace(20, 250, 1000) * np.sin(a)])
    ss = make_stroke_set(xy + rng.normal(0, 0.7, xy.shape), 1024, 576, t_ms=np.arange(1000) * 8.0)
    analyze(ss)
    cpu = []
    for _ in range(7):
        t0 = time.process_time()
        analyze(ss)
        cpu.append(time.process_time() - t0)
    assert np.median(cpu) < 0.03  # typically ~5 ms; loose bound for a shared CI machine


# ------------------------------------------------------------------------------------------ learned model


DEV = Path(__file__).resolve().parents[2] / "shared" / "strokes-dev"


def test_model_classes_are_the_intents_and_weights_are_small():
    model = load_model()
    assert model.classes == INTENTS == CLASSES
    assert model.features == FEATURE_NAMES and model.temperature > 0
    assert WEIGHTS_PATH.stat().st_size < 1_000_000


def test_weights_trained_on_other_features_are_refused(tmp_path):
    d = json.loads(WEIGHTS_PATH.read_text())
    d["features"] = d["features"][::-1]
    bad = tmp_path / "w.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(ValueError, match="other features"):
        load_model(bad)
    d = json.loads(WEIGHTS_PATH.read_text())
    d["b1"] = d["b1"][:-1]
    bad.write_text(json.dumps(d))
    with pytest.raises(ValueError, match="shape"):
        load_model(bad)


def test_runner_up_is_reported_only_when_close():
    assert runner_up({"straight": 0.5, "arc": 0.3, "circle": 0.1, "spiral": 0.05, "zigzag": 0.03,
                      "freeform": 0.02}) == ("arc", 0.3)
    assert runner_up({"straight": 0.1, "arc": 0.05, "circle": 0.7, "spiral": 0.05, "zigzag": 0.05,
                      "freeform": 0.05}) == (None, 0.0)
    assert RUNNER_UP_RATIO == 0.5


def test_runner_up_fields_are_consistent(fresh_results):
    seen = 0
    for _, it in fresh_results:
        d = it.to_dict()
        assert d["runner_up"] == it.runner_up and d["runner_up_confidence"] == it.runner_up_confidence
        ranked = sorted(it.scores, key=lambda k: -it.scores[k])
        if it.runner_up is None:
            assert it.scores[ranked[1]] < RUNNER_UP_RATIO * it.confidence and it.runner_up_confidence == 0.0
        else:
            seen += 1
            assert it.runner_up == ranked[1] != it.kind
            assert it.runner_up_confidence == it.scores[it.runner_up] >= RUNNER_UP_RATIO * it.confidence
    assert seen < 0.2 * len(fresh_results)


def test_an_ambiguous_stroke_has_a_runner_up():
    """Three quarters of a circle sits between an open arc and a closed loop: "arc, or circle?"."""
    found = []
    for turns in np.linspace(0.7, 0.95, 11):
        it = analyze(make_stroke_set(_noisy(_circle(turns=turns)), 1024, 576))
        if it.runner_up is not None:
            found.append({it.kind, it.runner_up})
    assert {"arc", "circle"} in found


@pytest.mark.parametrize("name", [
    "circle/hcira_klarubbio__s07_circle_03.json", "circle/tutorboard_capture__circle_53e051969977.json",
    "zigzag/hcira_klarubbio__s02_zigzag_01.json", "zigzag/quickdraw_tb__zigzag_80cbab33af83772bffbe.json",
    "arc/mmg_bowl__73-finger-fast-D-04_bowl.json", "arc/mmg_bowl__98-stylus-fast-D-04_bowl.json",
])
def test_real_strokes_the_rules_called_freeform_or_circle(name):
    """Development strokes the earlier rule set misread (wobbly circles and zigzags, a D's bowl)."""
    assert DEV.is_dir(), f"the development strokes are required at {DEV}"
    it = analyze(parse_strokes((DEV / name).read_text()))
    assert it.kind == name.split("/")[0], (it.kind, it.scores)


def test_in_sample_accuracy_and_calibration_on_the_dev_set():
    """A guard, not the figure to quote (that is the cross-validated one of bench/bench_intent.py)."""
    assert DEV.is_dir(), f"the development strokes are required at {DEV}"
    ex = load_examples(DEV)
    proba = np.array([[analyze(parse_strokes(e.data)).scores[k] for k in INTENTS] for e in ex])
    y = np.array([INTENTS.index(e.label) for e in ex])
    pred = proba.argmax(axis=1)
    assert min(np.mean(pred[y == i] == i) for i in range(len(INTENTS))) >= 0.95
    assert expected_calibration_error(proba, y) < 0.05


def test_training_is_deterministic_and_folds_keep_authors_together():
    ex = load_examples(DEV)[::12]
    recipe = Recipe(augment_per_stroke=1, synthetic_per_class=4, hidden=4, folds=3)
    a, rep = train(ex, recipe)
    b, _ = train(ex, recipe)
    assert a.to_json() == b.to_json()
    assert IntentModel.from_json(a.to_json()).to_json() == a.to_json()
    folds = author_folds(ex, 3, recipe.seed)
    for g in {e.group for e in ex}:
        assert len({int(f) for f, e in zip(folds, ex) if e.group == g}) == 1
    assert set(rep["per_class"]) == set(INTENTS) and 0 <= rep["ece"] <= 1


def test_author_groups():
    assert author_of("mmg__10-stylus-slow-line-03.json") == author_of("mmg_bowl__10-stylus-fast-D-04_bowl.json")
    assert author_of("hcira_jd4386__User01_zigzag_01.json") == "hcira_jd4386:User01"
    assert author_of("uci_pd_spiral__control_C_0001_static.json") == "uci_pd_spiral:control_C_0001"
    assert author_of("quickdraw_tb__line_ab12.json") != author_of("quickdraw_tb__line_cd34.json")


def test_label_and_runner_up_preset_name_the_alternative() -> None:
    from dataclasses import replace

    from draw_to_video.trajectory.camera.build import auto_preset, runner_up_preset
    from draw_to_video.trajectory.stroke.features import N_FEATURE_SAMPLES
    from draw_to_video.trajectory.stroke.intent import analyze_prepared
    from draw_to_video.trajectory.stroke.prepare import prepare
    from draw_to_video.trajectory.stroke.synthetic import generate

    p = prepare(generate("circle", np.random.default_rng(5)), N_FEATURE_SAMPLES)
    it = analyze_prepared(p)
    sure = replace(it, runner_up=None, runner_up_confidence=0.0)
    assert sure.label == sure.kind and runner_up_preset(sure, p) is None
    close = replace(it, kind="circle", runner_up="arc", runner_up_confidence=0.4)
    assert close.label == "circle, or arc?"
    assert runner_up_preset(close, p) == "arc" == auto_preset(replace(close, kind="arc"), p)
    assert runner_up_preset(replace(close, runner_up="spiral"), p) == "spiral_zoom"
    assert runner_up_preset(close, None) is None
