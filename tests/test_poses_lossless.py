"""Lossless round trips on real-style pose files (issue 13): files written here from each format's definition, whose
first pose is not the identity, with a real clock (33,367 us steps, one dropped frame, a large start offset),
fx != fy and an off-centre principal point, printed at RealEstate10K's six decimals; plus property tests over random
such files. The bound is the text format's own precision, 1e-6 (snapping a printed 3x3 block to a rotation is the
only change)."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from draw_to_video.cli import main
from draw_to_video.trajectory.camera.model import CameraTrajectory
from draw_to_video.trajectory.poses.clock import SOURCE, TIMESTAMPS, WORLD_T_FIRST, rebased, times_s, unrebased
from draw_to_video.trajectory.poses.formats import (
    from_cameractrl_poses,
    from_motionctrl,
    from_re10k,
    to_cameractrl_poses,
    to_motionctrl,
    to_re10k,
)
from draw_to_video.trajectory.poses.text import trajectory_from_text, trajectory_to_text

TOL = 1e-6  # RealEstate10K prints six decimals
URL = "https://www.youtube.com/watch?v=Zk1bbaNaUJI"


def re10k_file(F: int = 12, seed: int = 0, decimals: int = 6, start_us: int = 52_018_633, step_us: int = 33_367,
               drop: int | None = 5, intr: tuple[float, float, float, float] = (0.4725, 0.8401, 0.5031, 0.4962),
               url: str = URL) -> str:
    """RealEstate10K text from its definition: a URL line, then ``t fx fy cx cy 0 0`` and a 3x4 world-to-camera."""
    rng = np.random.default_rng(seed)
    R = Rotation.from_rotvec(rng.normal(0, 0.6, (F, 3))).as_matrix()
    t = rng.normal(0, 1.5, (F, 3)) + np.array([0.8, -0.3, 2.0])  # far from the identity
    w2c = np.concatenate([R, t[:, :, None]], axis=2).reshape(F, 12)
    k = np.arange(F + (drop is not None))
    ts = start_us + step_us * (k if drop is None else np.delete(k, drop))
    fmt = f"{{:.{decimals}f}}"
    lines = [url]
    for i in range(F):
        vals = [fmt.format(v) for v in (*intr, 0.0, 0.0, *w2c[i])]
        lines.append(" ".join([str(int(ts[i])), *vals]))
    return "\n".join(lines) + "\n"


def rows(text: str) -> tuple[str, list[str], np.ndarray]:
    lines = text.splitlines()
    tok = [ln.split() for ln in lines[1:] if ln.strip()]
    return lines[0], [t[0] for t in tok], np.array([[float(v) for v in t[1:]] for t in tok])


def assert_lossless(a: str, b: str, tol: float = TOL) -> float:
    url_a, ts_a, va = rows(a)
    url_b, ts_b, vb = rows(b)
    assert url_a == url_b
    assert ts_a == ts_b
    err = float(np.abs(va - vb).max())
    assert err <= tol, err
    return err


def test_fixture_is_real_style() -> None:
    tr = from_re10k(re10k_file(), 640, 360)
    assert not np.allclose(tr.world_T_cam[0], np.eye(4), atol=0.1)
    assert tr.K[0, 0, 0] != tr.K[0, 1, 1] and tr.K[0, 0, 2] != (640 - 1) / 2 and tr.K[0, 1, 2] != (360 - 1) / 2
    assert tr.fps == 1e6 / 33_367  # the median step, despite the dropped frame
    assert np.diff(tr.meta[TIMESTAMPS]).max() == 2 * 33_367


def test_re10k_round_trip_keeps_url_clock_intrinsics_and_absolute_poses() -> None:
    text = re10k_file()
    tr = from_re10k(text, 640, 360)
    assert tr.meta[SOURCE] == {"format": "re10k", "url": URL}
    assert assert_lossless(text, to_re10k(tr)) > 0  # snapped to a rotation, nothing else
    # through the pack's JSON (what `poses --to json` writes), at another size
    for W, H in [(640, 360), (333, 517)]:
        back = CameraTrajectory.from_json(from_re10k(text, W, H).to_json())
        assert_lossless(text, to_re10k(back))
    assert np.abs(times_s(tr) - (np.asarray(tr.meta[TIMESTAMPS]) - 52_018_633) * 1e-6).max() == 0


def test_rebasing_is_explicit_and_undoable() -> None:
    text = re10k_file(seed=3)
    tr = from_re10k(text, 640, 360)
    rel = trajectory_from_text(text, "re10k", width=640, height=360, rebase=True)
    assert np.array_equal(rel.world_T_cam[0], np.eye(4))
    assert np.allclose(rel.meta[WORLD_T_FIRST], tr.world_T_cam[0], atol=0)
    assert np.abs(rel.world_T_cam - np.linalg.inv(tr.world_T_cam[0]) @ tr.world_T_cam).max() < 1e-12
    assert_lossless(text, to_re10k(unrebased(CameraTrajectory.from_json(rel.to_json()))))
    # relative output only on request
    _, _, v = rows(to_re10k(tr, relative=True))
    assert np.allclose(v[0, 6:].reshape(3, 4), np.eye(4)[:3], atol=1e-12)
    assert np.allclose(rebased(rebased(tr)).meta[WORLD_T_FIRST], tr.world_T_cam[0], atol=1e-12)


def test_cameractrl_poses_keep_the_same_information() -> None:
    text = re10k_file(seed=1)
    tr = from_re10k(text, 704, 384)
    _, ts, v = rows(text)
    for size in (None, (1280, 720)):
        poses = to_cameractrl_poses(tr, pose_size=size)
        a = np.asarray(poses)
        assert a[:, 0].tolist() == [float(t) for t in ts]
        assert np.abs(a[:, 7:] - v[:, 6:]).max() <= TOL  # absolute world-to-camera
        back = from_cameractrl_poses(poses, 704, 384)
        assert back.meta[TIMESTAMPS] == [int(t) for t in ts]
        assert np.abs(back.K - tr.K).max() < 1e-9 and np.abs(back.world_T_cam - tr.world_T_cam).max() < 1e-12
        assert_lossless(text, to_re10k(back, url=URL))
        if size is None:
            assert np.abs(a[:, 1:5] - v[:, :4]).max() <= 1e-12  # the file's own intrinsics
    # RE10K rows fed straight in as CAMERACTRL_POSES (indices 5-6 zero: no pose size)
    back = from_cameractrl_poses(np.c_[np.asarray(ts, float), v].tolist(), 704, 384)
    assert "pose_size" not in back.meta[SOURCE]
    assert_lossless(text, to_re10k(back, url=URL))


def test_motionctrl_keeps_what_it_can_hold_and_states_what_it_cannot() -> None:
    tr = from_re10k(re10k_file(seed=2), 576, 320)
    rt = to_motionctrl(tr)
    assert np.abs(np.asarray(rt[0]) - np.eye(4)[:3].ravel()).max() < 1e-12  # relative to frame 0 by definition
    back = from_motionctrl(json.dumps(rt), 576, 320, fov_deg=40.0)
    rel = rebased(tr)
    # kept: every relative pose, so also the motion between any two frames
    assert np.abs(back.world_T_cam - rel.world_T_cam).max() < 1e-12
    # cannot hold: intrinsics (fov_deg or K fill them in), the clock (fps fills it), the image size, the file's world
    # (the first pose), the lens and meta (URL, timestamps)
    assert np.allclose(back.fov_deg()[:, 1], 40.0) and not np.allclose(back.K, tr.K)
    assert back.fps == 24.0 and TIMESTAMPS not in back.meta and "url" not in back.meta[SOURCE]
    assert not np.allclose(back.world_T_cam[0], tr.world_T_cam[0])
    # given back what it cannot hold, the trajectory is recovered
    full = from_motionctrl(rt, 576, 320, K=tr.K, fps=tr.fps)
    assert np.abs(full.K - tr.K).max() == 0 and np.abs(full.world_T_cam - rel.world_T_cam).max() < 1e-12
    # a MotionCtrl file itself round-trips exactly (json -> motionctrl -> json -> motionctrl)
    again = to_motionctrl(CameraTrajectory.from_json(back.to_json()))
    assert np.abs(np.asarray(again) - np.asarray(rt)).max() < 1e-12


def test_pack_json_keeps_clock_source_and_meta() -> None:
    text = re10k_file(seed=4)
    tr = trajectory_from_text(text, "re10k", width=512, height=288, name="Zk1bbaNaUJI.txt")
    back = trajectory_from_text(trajectory_to_text(tr, "json"), "auto")
    assert back.meta == tr.meta == {SOURCE: {"format": "re10k", "url": URL, "name": "Zk1bbaNaUJI.txt"},
                                    TIMESTAMPS: tr.meta[TIMESTAMPS]}
    assert back.fps == tr.fps and trajectory_to_text(back, "re10k") == trajectory_to_text(tr, "re10k")
    # no clock in the file: the fps given is used
    flat = text.splitlines()
    flat = "\n".join([flat[0]] + ["0 " + ln.split(" ", 1)[1] for ln in flat[1:]])
    assert trajectory_from_text(flat, "re10k", fps=12.5).fps == 12.5


def test_cli_round_trip_on_a_real_style_file(tmp_path) -> None:
    src = tmp_path / "Zk1bbaNaUJI.txt"
    src.write_text(re10k_file(seed=5))
    assert main(["poses", str(src), "--from", "re10k", "--to", "json", "--out", str(tmp_path / "a.json")]) == 0
    assert main(["poses", str(tmp_path / "a.json"), "--from", "auto", "--to", "re10k",
                 "--out", str(tmp_path / "b.txt")]) == 0
    assert_lossless(src.read_text(), (tmp_path / "b.txt").read_text())
    assert json.loads((tmp_path / "a.json").read_text())["meta"][SOURCE]["name"] == src.name


@st.composite
def re10k_texts(draw: st.DrawFn) -> str:
    F = draw(st.integers(1, 30))
    drop = draw(st.one_of(st.none(), st.integers(0, max(0, F - 1))))
    intr = tuple(draw(st.floats(lo, hi)) for lo, hi in [(0.2, 2.0), (0.2, 2.0), (0.3, 0.7), (0.3, 0.7)])
    return re10k_file(F=F, seed=draw(st.integers(0, 2**31)), decimals=draw(st.integers(6, 12)),
                      start_us=draw(st.integers(0, 10**10)), step_us=draw(st.sampled_from([33_367, 41_708, 40_000])),
                      drop=drop, intr=intr, url=draw(st.sampled_from([URL, "local clip 17", "  odd  spacing "])))


@settings(max_examples=60, deadline=None)
@given(text=re10k_texts(), W=st.integers(16, 2048), H=st.integers(16, 2048))
def test_property_re10k_and_cameractrl_round_trips(text: str, W: int, H: int) -> None:
    tr = CameraTrajectory.from_json(from_re10k(text, W, H).to_json())
    assert_lossless(text, to_re10k(tr))
    back = from_cameractrl_poses(to_cameractrl_poses(tr, pose_size=(1280, 720)), W, H)
    assert_lossless(text, to_re10k(back, url=rows(text)[0]))
    rel = from_motionctrl(to_motionctrl(tr), W, H, K=tr.K)
    assert np.abs(rel.world_T_cam - rebased(tr).world_T_cam).max() < 1e-9
