"""``draw-to-video batch`` against two real ComfyUI servers: spreading jobs, a server killed mid-run and restarted,
resume, node errors that are not retried, bad job lines, unreachable servers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage import data as skdata

from draw_to_video.cli import main
from draw_to_video.trajectory.stroke.format import make_stroke_set

from comfy_harness import free_port, start_server

CLI = Path(sys.executable).with_name("draw-to-video")
W, H, FRAMES = 64, 48, 5
SMALL = {"Camera trajectory": {"frames": FRAMES, "width": W, "height": H}}


def _depth_workflow() -> dict:
    """The 2.5D pipeline with the depth map loaded from a file (node "Depth map"), as an API graph."""
    def node(cls, title, **inputs):
        return {"class_type": cls, "inputs": inputs, "_meta": {"title": title}}

    return {
        "1": node("LoadImage", "Image", image="x.png"),
        "2": node("LoadImage", "Depth map", image="d.png"),
        "3": node("DTV_StrokeInput", "Stroke", strokes="{}", preset="auto", image=["1", 0]),
        "4": node("DTV_IntentAnalysis", "Intent", strokes=["3", 0]),
        "5": node("DTV_DepthFromImage", "Depth", image=["2", 0], kind="inverse_depth", near=0.5, far=10.0),
        "6": node("DTV_CameraTrajectory", "Camera trajectory", preset="auto", frames=49, fps=24.0, width=512,
                  height=512, strength=1.0, easing="ease_in_out", fov_deg=50.0, shake=0.0, seed=0,
                  strokes=["3", 0], intent=["4", 0], depth=["5", 0]),
        "7": node("DTV_Render25D", "Render", image=["1", 0], depth=["5", 0], trajectory=["6", 0],
                  fill="background", chunk=4),
        "8": node("CreateVideo", "Create video", images=["7", 0], fps=24.0),
        "9": node("SaveVideo", "Save video", video=["8", 0], filename_prefix="dtv-batch-test", format="mp4",
                  codec="h264"),
    }


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    """A tiny real photo (skimage's chelsea at 64x48), a gradient depth map, a stroke and the depth workflow."""
    d = tmp_path_factory.mktemp("batch-scene")
    cv2.imwrite(str(d / "cat.png"), cv2.resize(skdata.chelsea()[:, :, ::-1], (W, H), interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(d / "depth.png"), np.tile(np.linspace(40, 250, W).astype(np.uint8), (H, 1)))
    xy = np.c_[np.linspace(10, 54, 24), np.linspace(40, 12, 24)]
    (d / "stroke.json").write_text(make_stroke_set(xy, W, H).to_json())
    (d / "depth_wf.json").write_text(json.dumps(_depth_workflow()))
    return d


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> list:
    bases = [tmp_path_factory.mktemp(f"batch-srv{i}") for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        srvs = list(pool.map(start_server, bases))
    yield srvs  # the kill test swaps in the restarted server
    for s in srvs:
        s.stop()


def write_jobs(folder: Path, scene: Path, n: int, depth: bool = True, extra: dict | None = None, seed0: int = 0) -> Path:
    """``n`` jobs; paths relative to ``folder``, odd jobs carry their stroke inline, even ones as a file."""
    presets = ["auto", "orbit", "dolly_in", "pan_left"]
    rel = {name: os.path.relpath(scene / name, folder) for name in ("cat.png", "depth.png", "stroke.json")}
    inline = json.loads((scene / "stroke.json").read_text())
    lines = []
    for i in range(n):
        job = {"id": f"job{i:02d}", "image": rel["cat.png"], "stroke": inline if i % 2 else rel["stroke.json"],
               "preset": presets[i % len(presets)], "seed": seed0 + i, "overrides": SMALL}
        if depth:
            job["depth"] = rel["depth.png"]
        job.update((extra or {}).get(job["id"], {}))
        lines.append(json.dumps(job))
    path = folder / "jobs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def history_counts(srvs) -> list[int]:
    return [s.client().history_count() for s in srvs]


def queued_ids(srv) -> set[str]:
    q = srv.client().queue_status()
    return {it[1] for it in q["queue_running"] + q["queue_pending"]}


def summary_rows(stdout: str) -> dict[str, list[str]]:
    return {ln.split()[0]: ln.split() for ln in stdout.splitlines() if re.match(r"^job\d\d ", ln)}


def check_job_folder(folder: Path) -> dict:
    """One mp4 that decodes to FRAMES frames of W x H, and result.json; returns result.json."""
    mp4s = sorted(folder.glob("*.mp4"))
    assert len(mp4s) == 1, f"{folder}: {sorted(p.name for p in folder.iterdir())}"
    assert {p.name for p in folder.iterdir()} == {mp4s[0].name, "result.json"}
    with av.open(str(mp4s[0])) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == FRAMES and (frames[0].width, frames[0].height) == (W, H)
    return json.loads((folder / "result.json").read_text())


# -- bad input: nothing is queued -------------------------------------------------------------------------------
def test_bad_job_lines_are_all_reported_with_line_numbers(servers, scene, tmp_path, capsys):
    before = history_counts(servers)
    good = {"image": str(scene / "cat.png"), "stroke": str(scene / "stroke.json"), "depth": str(scene / "depth.png")}
    bad_stroke = {"version": 1, "canvas": {"width": W, "height": H}, "strokes": [{"points": [[1, 1, 0]]}]}
    lines = [json.dumps({"id": "ok", **good}),
             '{"id": "broken", "image": ',
             json.dumps(good),
             json.dumps({"id": "ok", **good}),
             json.dumps({**good, "id": "nofile", "image": "missing.png"}),
             json.dumps({**good, "id": "stroke", "stroke": bad_stroke}),
             json.dumps({**good, "id": "title", "overrides": {"Camera trajectry": {"frames": 5}}}),
             json.dumps({**good, "id": "input", "overrides": {"Camera trajectory": {"frame": 5}}}),
             json.dumps({**good, "id": "seed", "seed": -1, "colour": 3})]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    args = ["batch", str(jobs), "--workflow", str(scene / "depth_wf.json"), "--out", str(out)]
    assert main(args + [f"--server={s.url}" for s in servers]) == 2
    err = capsys.readouterr().err
    assert err.startswith("draw-to-video batch: error:") and "8 bad job line(s)" in err and "Traceback" not in err
    for n, words in [(2, "malformed JSON"), (3, "missing id"), (4, "duplicate id 'ok' (first on line 1)"),
                     (5, "image file not found"), (6, "bad stroke"), (7, "no node titled 'Camera trajectry'"),
                     (8, "has no input 'frame'"), (9, "seed must be an integer")]:
        assert f"line {n}: " in err and words in err.split(f"line {n}: ")[1].splitlines()[0], (n, err)
    assert "'colour'" in err.split("line 9: ")[1]
    assert "line 1:" not in err
    assert not out.exists() and history_counts(servers) == before


def test_dry_run_checks_values_against_each_server(servers, scene, tmp_path, capsys):
    jobs = write_jobs(tmp_path, scene, 3)
    base = ["batch", str(jobs), "--workflow", str(scene / "depth_wf.json"), "--dry-run"]
    servers_args = [f"--server={s.url}" for s in servers]
    before = history_counts(servers)
    assert main(base + servers_args) == 0
    out = capsys.readouterr().out
    assert all(f"{s.url}: ok" in out for s in servers) and "3 job(s) valid" in out
    bad = write_jobs(tmp_path, scene, 3, extra={"job01": {"preset": "sideways"},
                                               "job02": {"overrides": {"Render": {"chunk": 0}, **SMALL}}})
    assert main(["batch", str(bad), *base[2:]] + servers_args) == 2
    err = capsys.readouterr().err
    assert "line 2 (job01): Camera trajectory.preset: 'sideways' is not one of" in err
    assert "line 3 (job02): Render.chunk: 0 is outside 1..64" in err and "line 1 " not in err
    assert history_counts(servers) == before


def test_unreachable_server_alone_is_a_clear_error(scene, tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    jobs = write_jobs(tmp_path, scene, 2)
    assert main(["batch", str(jobs), "--workflow", str(scene / "depth_wf.json"), "--server", url,
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"draw-to-video batch: error: no usable server: {url} (connection refused)"


def test_jobs_go_to_the_live_server_when_another_is_unreachable(servers, scene, tmp_path, capsys):
    dead = f"http://127.0.0.1:{free_port()}"
    jobs = write_jobs(tmp_path, scene, 3, depth=False)  # the shipped workflow (its depth comes from the image)
    out = tmp_path / "out"
    assert main(["batch", str(jobs), "--server", dead, "--server", servers[0].url, "--out", str(out),
                 "--max-in-flight", "2"]) == 0
    cap = capsys.readouterr()
    assert f"warning: {dead} is not usable now (connection refused)" in cap.err
    rows = summary_rows(cap.out)
    assert sorted(rows) == ["job00", "job01", "job02"]
    assert all(r[1] == "done" and r[2] == servers[0].url and r[3] == "1" for r in rows.values())
    for i in range(3):
        mp4s = list((out / f"job{i:02d}").glob("*.mp4"))
        assert len(mp4s) == 1 and json.loads((out / f"job{i:02d}" / "result.json").read_text())["server"] == \
            servers[0].url


def test_node_errors_and_refused_graphs_fail_their_job_once_and_others_finish(servers, scene, tmp_path, capsys):
    jobs = write_jobs(tmp_path, scene, 3, extra={"job01": {"overrides": {"Depth": {"near": 2.0}, **SMALL}},
                                                 "job02": {"overrides": {"Image": {"image": "nowhere.png"}, **SMALL}}})
    out = tmp_path / "out"
    assert main(["batch", str(jobs), "--workflow", str(scene / "depth_wf.json"), "--out", str(out),
                 "--max-retries", "3"] + [f"--server={s.url}" for s in servers]) == 1
    rows = summary_rows(capsys.readouterr().out)
    assert rows["job00"][1] == "done" and rows["job01"][1:2] == ["failed"]
    assert rows["job01"][3] == "1" and "ValueError" in " ".join(rows["job01"]) and "near" in " ".join(rows["job01"])
    assert rows["job02"][1] == "failed" and rows["job02"][3] == "1"
    assert "server refused the workflow: Image:" in " ".join(rows["job02"])
    check_job_folder(out / "job00")
    assert sorted(p.name for p in out.iterdir()) == [".batch-state.json", "job00"]
    state = json.loads((out / ".batch-state.json").read_text())["jobs"]
    assert [state[j]["status"] for j in ("job00", "job01", "job02")] == ["done", "failed", "failed"]
    assert state["job01"]["attempts"] == state["job02"]["attempts"] == 1 and state["job01"]["tries"][0]["server"]


def test_timed_out_attempts_are_cancelled_and_retried_on_the_other_server(servers, scene, tmp_path, capsys):
    # 1,000 frames at 512x384: minutes of rendering on any CPU, so a 3 s timeout always fires, however fast the
    # machine (the renderer checks for interruption every chunk, so the cancelled attempts stop within a second)
    long = {"overrides": {"Camera trajectory": {"frames": 1000, "width": 8 * W, "height": 8 * H}}}
    jobs = write_jobs(tmp_path, scene, 1, extra={"job00": long}, seed0=7)
    out = tmp_path / "out"
    t0 = time.monotonic()
    assert main(["batch", str(jobs), "--workflow", str(scene / "depth_wf.json"), "--out", str(out),
                 "--timeout", "3", "--max-retries", "1"] + [f"--server={s.url}" for s in servers]) == 1
    assert time.monotonic() - t0 < 30
    row = summary_rows(capsys.readouterr().out)["job00"]
    assert row[1] == "failed" and row[3] == "2" and "timed out after 3 s" in " ".join(row)
    tries = json.loads((out / ".batch-state.json").read_text())["jobs"]["job00"]["tries"]
    assert sorted(t["server"] for t in tries) == sorted(s.url for s in servers)  # the retry went elsewhere
    assert not (out / "job00").exists()
    interrupted = 0
    for s, t in zip(servers, sorted(tries, key=lambda t: [x.url for x in servers].index(t["server"]))):
        deadline = time.monotonic() + 30  # cancelled: interrupted while running (or dropped while pending)
        while t["prompt_id"] in queued_ids(s) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert t["prompt_id"] not in queued_ids(s)
        entry = s.client().history(t["prompt_id"])
        assert entry is None or [m[0] for m in entry["status"]["messages"]][-1] == "execution_interrupted", entry
        interrupted += entry is not None
    assert interrupted >= 1  # on idle servers the prompt was running when its time ran out


# -- the real thing: 20 jobs, one server killed mid-run and restarted, then a resume that queues nothing ------------
def test_kill_a_server_mid_run_then_resume(servers, scene, tmp_path):
    jobs = write_jobs(tmp_path, scene, 20, seed0=100)  # graphs no earlier test ran: nothing comes from the cache
    out = tmp_path / "out"
    a, b = servers
    cmd = [str(CLI), "batch", str(jobs), "--workflow", str(scene / "depth_wf.json"), "--server", a.url,
           "--server", b.url, "--out", str(out), "--max-in-flight", "2", "--max-retries", "3", "--timeout", "60"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines: list[str] = []
    reader = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)
    reader.start()
    t0 = time.monotonic()
    done: list[Path] = []
    while len(done) < 3 or len({json.loads(p.read_text())["server"] for p in done}) < 2:  # both servers delivered
        assert proc.poll() is None and time.monotonic() - t0 < 90, "".join(err_lines[-20:])
        time.sleep(0.05)
        done = list(out.glob("job*/result.json"))
    busy = False
    while not busy and time.monotonic() - t0 < 90:  # kill b while it holds one of our prompts
        q = b.client().queue_status()
        busy = bool(q.get("queue_running") or q.get("queue_pending"))
        time.sleep(0 if busy else 0.01)
    assert busy, "server b never had a prompt of the batch"
    b.kill()
    killed_at = len(list(out.glob("job*/result.json")))
    servers[1] = start_server(b.base, port=b.port)  # same port, same folder
    stdout, _ = proc.communicate(timeout=150)
    reader.join(5)
    assert proc.returncode == 0, stdout + "".join(err_lines[-30:])
    assert killed_at < 20
    # every job exactly once, complete, decodable
    assert sorted(p.name for p in out.iterdir()) == [".batch-state.json"] + [f"job{i:02d}" for i in range(20)]
    results = {f"job{i:02d}": check_job_folder(out / f"job{i:02d}") for i in range(20)}
    assert {r["server"] for r in results.values()} == {a.url, b.url}
    lost = [r for r in results.values() if any(t["server"] == b.url for t in r["failed_attempts"])]
    assert lost and all(r["attempt"] > 1 for r in lost)
    t = results["job00"]["timings"]
    assert t["source"] == "websocket" and t["execution"] > 0 and t["total"] >= t["execution"]
    assert {n["title"] for n in t["nodes"].values()} >= {"Render", "Camera trajectory", "Save video"}
    assert t["nodes"]["7"]["seconds"] > 0 and "7" not in t["cached_nodes"]
    # not a TTY: one line per job state change, no step spam
    assert err_lines and all(re.match(r"^job\d\d: (uploading|queued|running|downloading|done|retry) ", ln)
                             for ln in err_lines), err_lines[:5]
    assert sum(ln.startswith("job07: done") for ln in err_lines) == 1
    state = json.loads((out / ".batch-state.json").read_text())["jobs"]
    assert sorted(state) == sorted(results) and {s["status"] for s in state.values()} == {"done"}
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("job*/*")}
    # resume: nothing is queued anywhere, nothing is rewritten
    before = history_counts(servers)
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "queued 0 prompt(s)" in res.stdout and "0 done, 0 failed, 20 skipped" in res.stdout
    assert all(r[1] == "skipped" for r in summary_rows(res.stdout).values())
    assert history_counts(servers) == before
    assert {p: p.stat().st_mtime_ns for p in out.glob("job*/*")} == stamps
    # and without --resume the finished folder is refused, not overwritten
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "pass --resume" in res.stderr and len(res.stderr.strip().splitlines()) == 1
