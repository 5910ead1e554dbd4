"""CLI subcommands analyze / trajectory / poses: exact output forms, round trips and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draw_to_video.cli import main
from draw_to_video.trajectory.camera.model import CameraTrajectory
from draw_to_video.trajectory.stroke.format import make_stroke_set
from draw_to_video.trajectory.stroke.intent import INTENTS


def _write(path: Path, xy, w=800, h=600) -> Path:
    path.write_text(make_stroke_set(np.asarray(xy, float), w, h).to_json())
    return path


def _circle(n=80):
    a = np.linspace(0, 2.1 * np.pi, n)
    return np.c_[400 + 150 * np.cos(a), 300 + 150 * np.sin(a)]


def test_analyze_prints_one_json_line_per_file(tmp_path, capsys):
    f1 = _write(tmp_path / "c.json", _circle())
    f2 = _write(tmp_path / "l.json", np.c_[np.linspace(100, 700, 50), np.full(50, 300.0)])
    assert main(["analyze", str(f1), str(f2)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    a, b = (json.loads(x) for x in lines)
    assert list(a)[:3] == ["file", "intent", "confidence"]
    assert (a["file"], a["intent"]) == (str(f1), "circle") and (b["file"], b["intent"]) == (str(f2), "straight")
    assert 0 <= a["confidence"] <= 1 and "clockwise" in a and "turns" in a


def test_analyze_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    good = _write(tmp_path / "c.json", _circle())
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "canvas": {"width": 10, "height": 10}, "strokes": [{"points": [[1, 1]]}]}')
    assert main(["analyze", str(bad), str(good), str(tmp_path / "missing.json")]) == 2
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1  # the good file still prints
    errs = err.strip().splitlines()
    assert len(errs) == 2 and all(e.startswith("draw-to-video analyze: error:") for e in errs)
    assert "Traceback" not in err


@pytest.mark.parametrize("fmt", ["json", "re10k", "motionctrl"])
def test_trajectory_command_writes_each_format(tmp_path, capsys, fmt):
    stroke = _write(tmp_path / "s.json", _circle())
    out = tmp_path / f"t.{fmt}"
    assert main(["trajectory", str(stroke), "--preset", "auto", "--frames", "25", "--width", "640", "--height",
                 "360", "--format", fmt, "--out", str(out)]) == 0
    text = out.read_text()
    if fmt == "json":
        traj = CameraTrajectory.from_json(text)
        assert (traj.num_frames, traj.width, traj.height, traj.preset) == (25, 640, 360, "orbit")
    elif fmt == "re10k":
        assert len(text.strip().splitlines()) == 26 and len(text.splitlines()[1].split()) == 19
    else:
        assert np.asarray(json.loads(text)).shape == (25, 12)


def test_trajectory_with_depth_map(tmp_path):
    import cv2

    depth = np.tile(np.linspace(40, 250, 320, dtype=np.uint8), (180, 1))
    cv2.imwrite(str(tmp_path / "d.png"), depth)
    stroke = _write(tmp_path / "s.json", np.c_[np.linspace(100, 500, 40), np.linspace(400, 250, 40)])
    out = tmp_path / "t.json"
    assert main(["trajectory", str(stroke), "--depth", str(tmp_path / "d.png"), "--frames", "9", "--out",
                 str(out)]) == 0
    assert CameraTrajectory.from_json(out.read_text()).num_frames == 9


def test_poses_round_trip_through_every_format(tmp_path):
    stroke = _write(tmp_path / "s.json", _circle())
    src = tmp_path / "t.json"
    assert main(["trajectory", str(stroke), "--preset", "arc_left", "--frames", "17", "--width", "512",
                 "--height", "320", "--out", str(src)]) == 0
    ref = CameraTrajectory.from_json(src.read_text())
    assert main(["poses", str(src), "--from", "json", "--to", "re10k", "--out", str(tmp_path / "a.txt")]) == 0
    assert main(["poses", str(tmp_path / "a.txt"), "--from", "re10k", "--to", "json", "--width", "512", "--height",
                 "320", "--fps", str(ref.fps), "--out", str(tmp_path / "b.json")]) == 0
    back = CameraTrajectory.from_json((tmp_path / "b.json").read_text())
    np.testing.assert_allclose(back.K, ref.K, atol=1e-6)
    np.testing.assert_allclose(back.world_T_cam, ref.world_T_cam, atol=1e-6)
    assert main(["poses", str(src), "--from", "json", "--to", "motionctrl", "--out", str(tmp_path / "m.json")]) == 0
    assert main(["poses", str(tmp_path / "m.json"), "--from", "motionctrl", "--to", "json", "--width", "512",
                 "--height", "320", "--out", str(tmp_path / "c.json")]) == 0
    back2 = CameraTrajectory.from_json((tmp_path / "c.json").read_text())
    np.testing.assert_allclose(back2.world_T_cam, ref.world_T_cam, atol=1e-6)


def test_poses_bad_input_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("url\n1 2 3\n")
    assert main(["poses", str(bad), "--from", "re10k", "--to", "json", "--out", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("draw-to-video poses: error:")
    assert not (tmp_path / "o.json").exists()  # nothing half-written


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=6) | st.dictionaries(st.sampled_from(
        ["version", "canvas", "strokes", "points", "role", "width", "height", "x"]), c, max_size=5),
    max_leaves=40)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(_json_values, st.fixed_dictionaries({
    "version": st.just(1), "canvas": st.fixed_dictionaries({"width": st.integers(-5, 5000),
                                                           "height": st.integers(-5, 5000)}),
    "strokes": st.lists(st.fixed_dictionaries({"points": st.lists(st.lists(
        st.floats(-1e4, 1e4, allow_nan=False), min_size=2, max_size=3), max_size=40)}), max_size=3)})))
def test_cli_analyze_and_trajectory_never_crash(tmp_path, capsys, body):
    f = tmp_path / "h.json"
    f.write_text(json.dumps(body))
    for argv in (["analyze", str(f)], ["trajectory", str(f), "--frames", "5", "--out", str(tmp_path / "o.json")]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code in (0, 2)
        if code == 0 and argv[0] == "analyze":
            res = json.loads(out)
            assert res["intent"] in INTENTS and np.isfinite(res["confidence"])
        if code == 2:
            assert err.count("\n") == 1 and "Traceback" not in err
