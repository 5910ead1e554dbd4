"""The draw-to-video command line: help, version, doctor and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from draw_to_video import __version__
from draw_to_video.cli import build_parser

from comfy_harness import REPO

CLI = [str(REPO / ".venv" / "bin" / "draw-to-video")]


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def subcommands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"draw-to-video {__version__}"


@pytest.mark.parametrize("name", subcommands())
def test_every_subcommand_has_help(name):
    out = run_cli(name, "--help")
    assert out.returncode == 0 and "usage: draw-to-video" in out.stdout and len(out.stdout) > 80


def test_doctor_reports_pinned_comfyui_and_device():
    out = run_cli("doctor", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["comfyui_version"] == "0.3.75"
    assert info["comfyui"] == str(REPO / ".comfyui")
    assert info["device"] == "cpu" and info["torch"].startswith("2.")
    assert set(info["models"]) == {"checkpoints", "depth", "interpolation", "luts"}
    text = run_cli("doctor").stdout
    assert "ComfyUI 0.3.75" in text and "device cpu" in text


def test_doctor_uses_env_override_and_fails_cleanly(tmp_path):
    env_bad = subprocess.run([*CLI, "doctor"], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "DTV_COMFYUI": str(tmp_path)})
    assert env_bad.returncode == 2
    assert env_bad.stderr.count("\n") == 1 and "not a ComfyUI folder" in env_bad.stderr
    assert "Traceback" not in env_bad.stderr


def test_unknown_subcommand_is_usage_error():
    out = run_cli("frobnicate")
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "draw_to_video.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout


def test_demo_renders_real_photo_to_mp4(tmp_path, output_dir):
    """README command 1's job, shortened: the real executor renders the bundled photo into an mp4."""
    import av

    out = tmp_path / "sub" / "demo.mp4"
    run = run_cli("demo", "--frames", "9", "--out", str(out))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == str(out)
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 9 and frames[0].shape == (496, 736, 3)
    assert abs(frames[0].astype(float) - frames[-1].astype(float)).mean() > 3  # the camera moved
    assert sorted(p.name for p in out.parent.iterdir()) == ["demo.mp4"]  # no temp files left behind
    import shutil

    import cv2
    import numpy as np

    shutil.copyfile(out, output_dir / "demo_short.mp4")
    strip = np.concatenate([cv2.resize(frames[i], (368, 248)) for i in (0, 4, 8)], axis=1)
    cv2.imwrite(str(output_dir / "demo_strip.jpg"), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))


def test_demo_bad_input_is_one_line():
    run = run_cli("demo", "--frames", "1")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "--frames" in run.stderr
