"""Issue 17 on the command line: SIGTERM/SIGHUP stop a render cleanly, outputs follow the umask, batch sends only
image files, and every message says once what is wrong (the file, not ``body``; no ffmpeg banner; no ``[Errno]``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import psutil
import pytest

from draw_to_video.cli import main

from comfy_harness import REPO, free_port

CLI = str(REPO / ".venv" / "bin" / "draw-to-video")
ASSETS = REPO / "assets"
STROKE = ASSETS / "demo_stroke.json"


def _err(capsys) -> str:
    return capsys.readouterr().err.strip()


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "t.json"
        assert main(["trajectory", str(STROKE), "--out", str(out)]) == 0
        assert out.stat().st_mode & 0o777 == 0o644
        poses = tmp_path / "p.txt"
        assert main(["poses", str(out), "--from", "json", "--to", "re10k", "--out", str(poses)]) == 0
        assert poses.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        private = tmp_path / "private.json"
        assert main(["trajectory", str(STROKE), "--out", str(private)]) == 0
        assert private.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_messages_say_once_what_is_wrong(tmp_path, capsys):
    missing = tmp_path / "missing.json"
    assert main(["analyze", str(missing)]) == 2
    err = _err(capsys)
    assert err == f"draw-to-video analyze: error: {missing}: no such file", err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for argv in (["analyze", str(bad)], ["trajectory", str(bad), "--out", str(tmp_path / "t.json")]):
        assert main(argv) == 2
        err = _err(capsys)
        assert f"{bad}: invalid JSON" in err and "body" not in err and err.count(str(bad)) == 1, err
    folder = tmp_path / "adir"
    folder.mkdir()
    assert main(["trajectory", str(STROKE), "--out", str(folder)]) == 2
    err = _err(capsys)
    assert "Errno" not in err and f"{folder}: is a directory" in err, err
    notvideo = tmp_path / "clip.mp4"
    notvideo.write_text("hello, not a video")
    assert main(["effects", str(notvideo), "--look", "hitchcock", "--out", str(tmp_path / "o.mp4")]) == 2
    err = _err(capsys)
    assert "not a readable video" in err and "ffmpeg version" not in err and "Copyright" not in err, err
    assert "\n" not in err


def test_batch_sends_only_image_files(tmp_path, capsys):
    good = tmp_path / "cat.png"
    cv2.imwrite(str(good), np.full((16, 16, 3), 128, np.uint8))
    fake = tmp_path / "fake.png"
    fake.write_text("root:x:0:0:root:/root:/bin/bash\n")
    stroke = json.loads(STROKE.read_text())
    lines = [{"id": "ok", "image": str(good), "stroke": stroke},
             {"id": "passwd", "image": "/etc/passwd", "stroke": stroke},
             {"id": "fake", "image": str(fake), "stroke": stroke},
             {"id": "depth", "image": str(good), "depth": str(fake), "stroke": stroke}]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(json.dumps(j) for j in lines) + "\n")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: the check must come before any server is asked
    assert main(["batch", str(jobs), "--server", url, "--out", str(tmp_path / "out")]) == 2
    err = _err(capsys)
    assert "3 bad job line(s)" in err, err
    for n, what in [(2, "image"), (3, "image"), (4, "depth")]:
        line = err.split(f"line {n}")[1].splitlines()[0]
        assert f"{what} is not an image file" in line, line
    assert "line 1" not in err and "root:x" not in err


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_mid_render_leaves_nothing_behind(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    outdir = tmp_path / "out"
    outdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "DTV_CPU": "1"}
    proc = subprocess.Popen([CLI, "render", str(ASSETS / "motorcycle.jpg"), "--stroke", str(STROKE), "--frames", "4",
                             "--size", "64", "--out", str(outdir / "clip.mp4")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        kids: list[psutil.Process] = []
        while time.monotonic() - t0 < 120 and proc.poll() is None:
            kids = _children(proc.pid)
            if kids and list(tmp.glob("dtv-run-*")) and list(outdir.glob(".clip.mp4.*")):
                break
            time.sleep(0.1)
        assert proc.poll() is None and kids, "the render ended before the ComfyUI child started"
        time.sleep(1.0)  # the child is importing ComfyUI / running
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, (proc.returncode, err[-2000:])
    assert f"stopped by {signal.Signals(sig).name}" in err and "Traceback" not in err, err[-2000:]
    gone, alive = psutil.wait_procs(kids, timeout=15)
    assert not alive, f"ComfyUI child still running: {alive}"
    assert not list(tmp.iterdir()), list(tmp.iterdir())  # no temporary run folder
    assert not list(outdir.iterdir()), list(outdir.iterdir())  # no staging folder, no partial output


def test_runner_exits_when_its_parent_is_killed(tmp_path):
    """Even SIGKILL to the CLI (which can run no clean-up) leaves no ComfyUI child running."""
    env = {**os.environ, "TMPDIR": str(tmp_path), "DTV_CPU": "1"}
    proc = subprocess.Popen([CLI, "render", str(ASSETS / "motorcycle.jpg"), "--stroke", str(STROKE), "--frames", "4",
                             "--size", "64", "--out", str(tmp_path / "clip.mp4")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    kids: list[psutil.Process] = []
    while time.monotonic() - t0 < 120 and not kids and proc.poll() is None:
        kids = _children(proc.pid)
        time.sleep(0.1)
    assert kids
    proc.kill()
    proc.wait()
    _, alive = psutil.wait_procs(kids, timeout=20)
    assert not alive, alive


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
