"""Presets and build_trajectory: safety rules, smoothness, dolly zoom, stroke semantics, fuzzing; motion and lift."""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draw_to_video.trajectory.camera.build import DEFAULT_LIMITS, ShotOptions, build_trajectory, lens
from draw_to_video.trajectory.camera.model import CameraTrajectory
from draw_to_video.trajectory.camera.motion import (
    EASING_RANGE,
    EASINGS,
    Limits,
    limit_timing,
    look_at,
    peaks,
    position_spline,
    rotation_spline,
    shake,
)
from draw_to_video.trajectory.camera.presets import PRESET_NAMES, PRESETS
from draw_to_video.trajectory.camera.shotkit import MIN_STANDOFF, PresetContext
from draw_to_video.trajectory.stroke.format import make_stroke_set
from draw_to_video.trajectory.stroke.intent import analyze
from draw_to_video.trajectory.stroke.prepare import prepare
from draw_to_video.trajectory.stroke.synthetic import generate

REQUIRED = """zoom_in pull_back orbit dramatic vertigo bullet_time spiral_zoom dolly follow_path hitchcock michael_bay
wes_anderson christopher_nolan dolly_in dolly_out dolly_left dolly_right super_dolly crane_up crane_down crane_over_head
orbit_360 arc_left arc_right lazy_susan crash_zoom_in crash_zoom_out whip_pan pan_left pan_right tilt_up tilt_down
dutch_roll pedestal_up pedestal_down truck_left truck_right fpv_drone handheld yo_yo_zoom rack_focus static""".split()
SHAKY = {"handheld", "fpv_drone", "zigzag", "michael_bay"}


def check_valid(tr: CameraTrajectory, frames: int) -> None:
    """The rules every preset keeps (see shotkit's module docstring)."""
    assert tr.num_frames == frames
    for a in (tr.K, tr.world_T_cam, tr.focus_distance, tr.aperture):
        assert np.isfinite(a).all()
    assert np.allclose(np.linalg.det(tr.world_T_cam[:, :3, :3]), 1.0, atol=1e-9)
    assert np.allclose(tr.world_T_cam[0], np.eye(4), atol=1e-12), "first pose is the source view"
    fov = tr.fov_deg()
    assert fov.min() >= 10.0 - 1e-9 and fov.max() <= 120.0 + 1e-9
    S = np.array(tr.meta["subject"])
    d = tr.meta["subject_depth"]
    c = tr.centres()
    assert np.linalg.norm(c - S, axis=1).min() >= MIN_STANDOFF * d - 1e-9, "camera too close to the subject"
    if not tr.meta["orbits"]:
        assert c[:, 2].max() <= d * (1.0 - MIN_STANDOFF) + 1e-9, "camera passed the subject plane"
    assert (tr.focus_distance > 0).all()


def test_registry() -> None:
    assert len(PRESETS) >= 30
    assert set(REQUIRED) <= set(PRESETS)
    assert PRESET_NAMES[0] == "auto" and PRESET_NAMES[1:] == list(PRESETS)
    assert all(p.description and p.name == k for k, p in PRESETS.items())


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_rules(name: str) -> None:
    for frames, s, easing in ((49, 1.0, "ease_in_out"), (121, 2.0, "ease_in_out_back"), (2, 1.0, "linear"),
                              (1, 1.0, "ease_in_out"), (17, 0.5, "ease_out_expo")):
        tr = build_trajectory(None,
                              ShotOptions(preset=name, frames=frames, strength=s, easing=easing, width=832, height=480))
        check_valid(tr, frames)
        assert tr.preset == name and tr.intent == "none"
    # strength 0: the source camera on every frame
    st0 = build_trajectory(None, ShotOptions(preset=name, frames=25, strength=0.0, shake=1.0))
    assert np.array_equal(st0.world_T_cam, np.broadcast_to(np.eye(4), (25, 4, 4)))
    assert np.array_equal(st0.K, np.broadcast_to(st0.K[0], st0.K.shape))
    assert np.ptp(st0.focus_distance) == 0.0


@pytest.mark.parametrize("name", [n for n in PRESETS if n not in SHAKY])
def test_motion_limits_and_smoothness(name: str) -> None:
    tr1 = build_trajectory(None, ShotOptions(preset=name, frames=73, strength=1.0))
    c1 = tr1.centres()
    v, a, j = peaks(c1, tr1.fps)
    lim = DEFAULT_LIMITS.scaled(tr1.meta["subject_depth"])
    assert tr1.meta["limits_met"]
    assert v <= lim.v * (1 + 1e-9) and a <= lim.a * (1 + 1e-9) and j <= lim.j * (1 + 1e-9)
    # second differences shrink with the strength (no kinks appear at low strength)
    c_half = build_trajectory(None, ShotOptions(preset=name, frames=73, strength=0.5)).centres()
    acc = lambda c: float(np.abs(np.diff(c, 2, axis=0)).max(initial=0.0))  # noqa: E731
    assert acc(c_half) <= acc(c1) + 1e-12
    # C2: sampling the same 3 s move 4x finer shrinks |third diff| / |second diff| about 4x (a jump in the
    # acceleration, i.e. only C1, would keep the ratio constant)
    for s in (1.0, 2.0):
        ratios = []
        for frames, fps in ((73, 24.0), (289, 96.0)):
            c = build_trajectory(None, ShotOptions(preset=name, frames=frames, fps=fps, strength=s)).centres()
            a2 = acc(c)
            ratios.append(np.abs(np.diff(c, 3, axis=0)).max() / a2 if a2 > 1e-9 else 0.0)
        assert ratios[1] <= 0.6 * ratios[0] + 1e-9, (s, ratios)


def test_short_clips_lower_the_strength() -> None:
    tr = build_trajectory(None, ShotOptions(preset="orbit_360", frames=5, strength=2.0))
    assert tr.meta["effective_strength"] < 2.0 and tr.meta["limits_met"]
    v, _, _ = peaks(tr.centres(), tr.fps)
    assert v <= DEFAULT_LIMITS.v * tr.meta["subject_depth"] * (1 + 1e-9)


@pytest.mark.parametrize("name", ["vertigo", "hitchcock"])
@pytest.mark.parametrize("s", [0.3, 1.0, 2.0])
def test_dolly_zoom_keeps_subject_size(name: str, s: float) -> None:
    tr = build_trajectory(None, ShotOptions(preset=name, frames=33, strength=s, width=1024, height=576))
    S = np.array(tr.meta["subject"])
    ends = np.stack([S - [0.1, 0, 0], S + [0.1, 0, 0]])
    w2c = tr.cam_T_world()
    pc = np.einsum("fij,nj->fni", w2c[:, :3, :3], ends) + w2c[:, None, :3, 3]
    uv = np.einsum("fij,fnj->fni", tr.K, pc)
    uv = uv[..., :2] / uv[..., 2:]
    size = np.linalg.norm(uv[:, 1] - uv[:, 0], axis=-1)
    assert np.abs(size / size[0] - 1).max() < 0.01
    assert np.ptp(tr.centres()[:, 2]) > 0.1 * s * tr.meta["subject_depth"]  # it really dollied
    assert np.ptp(tr.K[:, 0, 0]) > 0.05 * tr.K[0, 0, 0]  # and really zoomed


def _ctx(**kw) -> PresetContext:
    u = np.linspace(0, 1, 9)
    K0, f0, zr = lens(50.0, 640, 360)
    base = dict(frames=9, fps=24.0, width=640, height=360, strength=1.0, easing="linear", u=u, t=u,
                u_range=(0.0, 1.0), subject=np.array([0.0, 0.0, 1.0]), f0=f0, zoom_range=zr)
    base.update(kw)
    return PresetContext(**base)


def test_orbit_follows_clockwise_flag() -> None:
    for cw, sign in ((True, -1.0), (False, 1.0)):
        intent = SimpleNamespace(clockwise=cw, kind="circle", turns=1.0, radius_trend=0.0)
        for name in ("orbit", "orbit_360", "lazy_susan", "spiral_zoom"):
            eye = PRESETS[name].fn(_ctx(intent=intent)).eye
            assert np.sign(eye[1, 0]) == sign, (name, cw)  # clockwise -> the camera moves to its left first


def test_orbit_direction_from_drawn_circle() -> None:
    a = np.linspace(0, 2 * np.pi, 200)
    # y down on screen: (cos a, sin a) with a increasing runs clockwise as seen on screen
    pts = np.stack([320 + 120 * np.cos(a), 180 + 120 * np.sin(a)], axis=-1)
    for pts_dir, sign in ((pts, -1.0), (pts[::-1], 1.0)):
        tr = build_trajectory(make_stroke_set(pts_dir, 640, 360), ShotOptions(frames=25, width=640, height=360))
        assert tr.intent == "circle" and tr.preset == "orbit"
        assert np.sign(tr.centres()[3, 0]) == sign
        check_valid(tr, 25)


def test_straight_right_trucks_right_and_up_pushes_in() -> None:
    x = np.linspace(100, 540, 60)
    right = make_stroke_set(np.stack([x, np.full_like(x, 180)], axis=-1), 640, 360)
    tr = build_trajectory(right, ShotOptions(frames=25, width=640, height=360))
    assert tr.intent == "straight" and tr.preset == "truck"
    c = tr.centres()
    assert c[-1, 0] > 0.1 and abs(c[-1, 1]) < 1e-9 and np.all(np.diff(c[:, 0]) >= -1e-12)
    up = make_stroke_set(np.stack([np.full(60, 320.0), np.linspace(300, 120, 60)], axis=-1), 640, 360)
    tu = build_trajectory(up, ShotOptions(frames=25, width=640, height=360))
    assert tu.preset == "dolly" and tu.centres()[-1, 2] > 0.1
    # the end point ends up centred: it projects to the principal point on the last frame
    end = np.array(tu.meta["subject"])
    pc = tu.cam_T_world()[-1, :3, :3] @ end + tu.cam_T_world()[-1, :3, 3]
    assert np.allclose((tu.K[-1] @ pc)[:2] / pc[2], tu.K[-1, :2, 2], atol=1e-6)
    down = make_stroke_set(np.stack([np.full(60, 320.0), np.linspace(60, 300, 60)], axis=-1), 640, 360)
    assert build_trajectory(down, ShotOptions(frames=25, width=640, height=360)).preset == "pull_back"


@pytest.mark.parametrize("kind", ["straight", "arc", "circle", "spiral", "zigzag", "freeform"])
def test_auto_on_synthetic_strokes(kind: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(3):
        ss = generate(kind, rng)
        tr = build_trajectory(ss, ShotOptions(frames=33, width=768, height=432), depth=None)
        check_valid(tr, 33)
        assert tr.intent in ("straight", "arc", "circle", "spiral", "zigzag", "freeform")
        assert tr.meta["auto"] is True


def test_depth_map_scales_the_scene() -> None:
    ss = make_stroke_set(np.stack([np.linspace(100, 500, 40), np.full(40, 200.0)], axis=-1), 640, 360)
    depth = np.full((90, 160), 3.0)
    tr = build_trajectory(ss, ShotOptions(preset="dolly_in", frames=17, width=640, height=360), depth=depth)
    assert tr.meta["subject_depth"] == pytest.approx(3.0)
    check_valid(tr, 17)
    unit = build_trajectory(None, ShotOptions(preset="dolly_in", frames=17))
    assert tr.centres()[-1, 2] == pytest.approx(3 * unit.centres()[-1, 2])


def test_precomputed_prepared_and_intent_give_the_same_result() -> None:
    ss = generate("circle", np.random.default_rng(11))
    p = prepare(ss, 256)
    it = analyze(ss)
    a = build_trajectory(ss, ShotOptions(frames=21))
    b = build_trajectory(ss, ShotOptions(frames=21), prepared=p, intent=it)
    c = build_trajectory(None, ShotOptions(frames=21), prepared=p)
    assert a.to_json() == b.to_json() == c.to_json()
    with pytest.raises(ValueError, match="prepared"):
        build_trajectory(ss, prepared=ss)
    with pytest.raises(ValueError, match="intent"):
        build_trajectory(ss, intent="circle")


def test_deterministic_and_seeded() -> None:
    a = build_trajectory(None, ShotOptions(preset="handheld", frames=40, seed=3))
    b = build_trajectory(None, ShotOptions(preset="handheld", frames=40, seed=3))
    c = build_trajectory(None, ShotOptions(preset="handheld", frames=40, seed=4))
    assert a.to_json() == b.to_json()
    assert not np.array_equal(a.world_T_cam, c.world_T_cam)
    plain = build_trajectory(None, ShotOptions(preset="dolly_in", frames=40))
    shaky = build_trajectory(None, ShotOptions(preset="dolly_in", frames=40, shake=1.0))
    assert np.allclose(shaky.world_T_cam[0], np.eye(4)) and not np.allclose(shaky.world_T_cam, plain.world_T_cam)


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"preset": "nope"}, "unknown preset"),
        ({"frames": 0}, "frames"),
        ({"frames": 2.0}, "frames"),
        ({"fps": 0.0}, "fps"),
        ({"strength": -0.1}, "strength"),
        ({"strength": float("nan")}, "strength"),
        ({"easing": "bouncy"}, "unknown easing"),
        ({"fov_deg": 5.0}, "fov_deg"),
        ({"width": 4000, "height": 16}, "aspect"),
        ({"seed": -1}, "seed"),
        ({"shake": -1.0}, "shake"),
    ],
)
def test_build_errors(kw: dict, fragment: str) -> None:
    with pytest.raises(ValueError) as e:
        build_trajectory(None, ShotOptions(**kw))
    assert fragment in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match="StrokeSet"):
        build_trajectory({"strokes": []})
    with pytest.raises(ValueError, match="ShotOptions"):
        build_trajectory(None, {"frames": 9})


KINDS = ["straight", "arc", "circle", "spiral", "zigzag", "freeform"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS + ["random"]), seed=st.integers(0, 2**32 - 1),
       preset=st.sampled_from(PRESET_NAMES), frames=st.integers(1, 241), strength=st.floats(0.0, 2.0),
       width=st.integers(16, 2048), log_aspect=st.floats(-3.2, 3.2), easing=st.sampled_from(list(EASINGS)),
       with_depth=st.booleans())
def test_fuzz_strokes_presets(kind, seed, preset, frames, strength, width, log_aspect, easing, with_depth) -> None:
    size = (width, int(np.clip(round(width * math.exp(log_aspect)), 1, 16384)))
    rng = np.random.default_rng(seed)
    if kind == "random":
        n = int(rng.integers(2, 40))
        ss = make_stroke_set(rng.uniform(-50, 650, (n, 2)), 600, 400)
    else:
        ss = generate(kind, rng)
    depth = rng.uniform(0.5, 4.0, (int(rng.integers(1, 40)), int(rng.integers(1, 40)))) if with_depth else None
    W, H = size
    try:
        tr = build_trajectory(ss,
                              ShotOptions(preset=preset, frames=frames, strength=strength, width=W, height=H,
                                          easing=easing, seed=seed, shake=float(rng.uniform(0, 1))),
                              depth=depth)
    except ValueError as e:
        assert max(W, H) / min(W, H) > 15 and "aspect" in str(e)
        return
    check_valid(tr, frames)


# -- motion building blocks -------------------------------------------------------------------------


def test_easings() -> None:
    t = np.linspace(0, 1, 101)
    for name, f in EASINGS.items():
        y = f(t)
        assert y[0] == pytest.approx(0.0, abs=1e-12) and y[-1] == pytest.approx(1.0, abs=1e-12), name
        lo, hi = EASING_RANGE[name]
        assert y.min() >= lo - 1e-9 and y.max() <= hi + 1e-9
        if "back" not in name:
            assert np.all(np.diff(y) >= -1e-12), name
    assert EASING_RANGE["ease_in_out_back"][0] < -0.03 and EASING_RANGE["ease_out_back"][1] > 1.05


def test_splines() -> None:
    times = np.array([0.0, 0.3, 0.7, 1.0])
    keys = np.array([[0, 0, 0], [1, 0, 0.5], [1, 1, 1.0], [0, 1, 2.0]], dtype=float)
    f = position_spline(times, keys)
    assert np.allclose(f(times), keys)
    h = 1e-5
    acc = lambda x: (f(x + h) - 2 * f(x) + f(x - h)) / h**2  # noqa: E731
    left, right = acc(np.array([0.3 - 2 * h])), acc(np.array([0.3 + 2 * h]))  # stencils on either side of a knot
    assert np.abs(left).max() > 1.0 and np.allclose(left, right, atol=0.05)  # C2 at the knot
    R = np.stack([np.eye(3), look_at(np.zeros(1), np.array([[1.0, 0, 1]]))[0, :3, :3], np.eye(3)])
    g = rotation_spline(np.array([0.0, 0.5, 1.0]), R)
    assert np.allclose(g(np.array([0.0, 0.5, 1.0])), R, atol=1e-9)
    with pytest.raises(ValueError):
        position_spline(np.array([0.0, 0.0]), keys[:2])


def test_look_at() -> None:
    T = look_at(np.zeros((1, 3)), np.array([[0.0, 0.0, 2.0]]))
    assert np.allclose(T[0], np.eye(4))
    eye = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 0.0]])
    tgt = np.array([[0.3, 0.2, 4.0], [0.0, 0.0, 0.0]])  # the second looks straight up (-y): fallback up
    T = look_at(eye, tgt)
    for f in range(2):
        pc = T[f, :3, :3].T @ (tgt[f] - eye[f])
        assert np.allclose(pc[:2], 0.0, atol=1e-12) and pc[2] > 0
        assert np.linalg.det(T[f, :3, :3]) == pytest.approx(1.0)
    assert T[0, 1, 0] == pytest.approx(0.0, abs=1e-12)  # no roll: the camera's x axis stays level
    with pytest.raises(ValueError):
        look_at(np.zeros((1, 3)), np.zeros((1, 3)))


def test_limit_timing_keeps_path_and_duration() -> None:
    t = np.linspace(0, 1, 25)
    u = EASINGS["ease_in_out"](t)
    path = lambda q: np.stack([q * 3.0, 0 * q, 0 * q], axis=-1)  # noqa: E731
    fps = 12.0
    v0, _, _ = peaks(path(u), fps)
    lim = Limits(v=0.8 * v0)
    u2, a, ratio = limit_timing(t, u, path, fps, lim)
    assert 0 < a <= 1 and ratio <= 1
    assert u2[0] == 0 and u2[-1] == pytest.approx(1.0)
    assert np.all(np.diff(u2) > 0)
    assert peaks(path(u2), fps)[0] <= lim.v * (1 + 1e-9)
    u3, a3, r3 = limit_timing(t, u, path, fps, Limits(v=0.1))  # impossible: constant speed, ratio > 1
    assert a3 == 1.0 and r3 > 1 and np.allclose(np.diff(path(u3)[:, 0]), 3.0 / 24)


def test_shake() -> None:
    r1, o1 = shake(60, 24.0, 1.0, seed=5)
    r2, o2 = shake(60, 24.0, 1.0, seed=5)
    assert np.array_equal(r1, r2) and np.array_equal(o1, o2)
    assert not r1[0].any() and not o1[0].any()
    r3, _ = shake(60, 24.0, 2.0, seed=5)
    assert np.allclose(r3, 2 * r1)
    assert np.degrees(np.abs(r1).max()) < 5.0
    # low-pass: frame-to-frame changes are much smaller than the excursion
    assert np.abs(np.diff(r1, axis=0)).max() < 0.5 * np.abs(r1).max()
    assert not shake(1, 24.0, 1.0)[0].any()


def test_context_replace_and_ctx_helpers() -> None:
    ctx = _ctx()
    assert ctx.d == 1.0 and ctx.u_hi == 1.0
    assert np.allclose(ctx.screen_dir(), [1, 0])
    ctx2 = replace(ctx, u=np.zeros(9))
    assert not PRESETS["dolly_in"].fn(ctx2).eye.any()
    assert math.isclose(ctx.zoom_range[0] * ctx.f0, 640 / (2 * math.tan(math.radians(119.75) / 2)))


def test_auto_follows_the_move_picked_on_the_drawing_node() -> None:
    from dataclasses import replace

    ss = make_stroke_set(np.stack([np.linspace(100, 500, 40), np.full(40, 200.0)], axis=-1), 640, 360)
    opts = ShotOptions(frames=9, width=640, height=360)
    assert build_trajectory(ss, opts).preset == "truck"  # read from the stroke
    picked = replace(ss, preset="orbit")
    assert build_trajectory(picked, opts).preset == "orbit"  # auto follows the drawing node's pick
    assert build_trajectory(picked, replace(opts, preset="dolly_in")).preset == "dolly_in"  # an explicit preset wins
    with pytest.raises(ValueError, match="strokes: unknown preset 'nope'"):
        build_trajectory(replace(ss, preset="nope"), opts)
