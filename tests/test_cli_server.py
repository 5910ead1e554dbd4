"""The warm executor: ``draw-to-video serve`` and ``render``/``demo --server URL``, and the cold path's start-up
savings (the torch-free CUDA probe, the core extras a prompt needs)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from draw_to_video.cli.comfy_runner import _extras_defining
from draw_to_video.cli.host import _cuda_available
from draw_to_video.cli.remote import rename_inputs, upload_name

from comfy_harness import COMFY, REPO

CLI = str(REPO / ".venv" / "bin" / "draw-to-video")
ASSETS = REPO / "assets"
RENDER = ["render", str(ASSETS / "motorcycle.jpg"), "--stroke", str(ASSETS / "demo_stroke.json"), "--depth",
          str(ASSETS / "motorcycle_depth.png"), "--frames", "5", "--size", "192"]


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=600, env=env)


def _frames(folder: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))])


def test_cuda_probe_agrees_with_torch():
    assert _cuda_available() == torch.cuda.is_available()


def test_extras_for_a_prompt_are_the_files_that_define_its_nodes():
    extras = COMFY / "comfy_extras"
    assert [p.name for p in _extras_defining({"CreateVideo", "SaveVideo"}, extras)] == ["nodes_video.py"]
    assert {p.name for p in _extras_defining({"WanVaceToVideo", "CreateVideo"}, extras)} >= {"nodes_wan.py",
                                                                                              "nodes_video.py"}
    assert _extras_defining({"DTV_Render25D", "NoSuchNode"}, extras) == []


def test_uploads_get_content_names_and_the_prompt_follows():
    a, b = upload_name("input.PNG", b"one"), upload_name("input.png", b"two")
    assert a != b and a.endswith(".png") and a == upload_name("x.png", b"one")
    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": "input.png", "other": ["2", 0]}}}
    out = rename_inputs(prompt, {"input.png": a})
    assert out["1"]["inputs"] == {"image": a, "other": ["2", 0]} and prompt["1"]["inputs"]["image"] == "input.png"


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    run = _cli(*RENDER, "--out", str(tmp_path / "f"), "--server", f"http://127.0.0.1:{port}")
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "error:" in run.stderr and str(port) in run.stderr
    assert not (tmp_path / "f").exists()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``draw-to-video serve`` on a free port, stopped (with SIGINT, as Ctrl-C would) after the module."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = tmp_path_factory.mktemp("serve")
    log = (base / "serve.log").open("w")
    proc = subprocess.Popen([CLI, "serve", "--port", str(port), "--base-directory", str(base / "comfy")],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            info = json.loads(urllib.request.urlopen(url + "/object_info/DTV_Render25D", timeout=2).read())
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (base / "serve.log").read_text()[-3000:]
            time.sleep(0.3)
    assert "DTV_Render25D" in info
    yield url, base / "comfy", proc
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(60) is not None
    log.close()


def test_render_on_the_served_comfyui_gives_the_cold_frames(served, tmp_path):
    url, base, _ = served
    cold = _cli(*RENDER, "--out", str(tmp_path / "cold"))
    assert cold.returncode == 0, cold.stderr[-2000:]
    warm = _cli(*RENDER, "--out", str(tmp_path / "warm"), "--server", url)
    assert warm.returncode == 0, warm.stderr[-2000:]
    assert np.array_equal(_frames(tmp_path / "cold"), _frames(tmp_path / "warm"))
    assert _frames(tmp_path / "warm").shape == (5, 128, 192, 3)
    uploads = sorted(p.name for p in (base / "input").iterdir())
    assert uploads and all(n.startswith("dtv-") for n in uploads)  # content names: clients never collide
    # the same through DTV_SERVER, for the demo
    demo = _cli("demo", "--frames", "4", "--out", str(tmp_path / "demo.mp4"), env={**os.environ, "DTV_SERVER": url})
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert (tmp_path / "demo.mp4").stat().st_size > 1000


def test_a_workflow_the_server_refuses_is_one_clear_line(served, tmp_path):
    url, _, proc = served
    run = _cli(*RENDER, "--out", str(tmp_path / "f"), "--server", url, "--set", "Camera trajectory.frames=-3")
    assert run.returncode == 2, run.stderr
    assert "refused the workflow" in run.stderr and "frames" in run.stderr
    assert run.stderr.strip().count("\n") == 0, run.stderr
    assert not (tmp_path / "f").exists() and proc.poll() is None  # the server stays up
