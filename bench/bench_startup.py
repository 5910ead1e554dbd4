"""Render start-up benchmark: seconds from ``draw-to-video render`` to its first frame, cold and warm.

Run as ``python bench/bench_startup.py [--runs N] [--reference COMMIT]`` (appends a section to BENCHMARKS.md).
Three ways of rendering the bundled photo along the bundled stroke (9 frames at 512 px, PNG frames out) take turns,
each a fresh CLI process per run:

- **reference**: the CLI as it was at ``--reference`` (default ``1b7f08a``, before the start-up work), unpacked
  with ``git archive`` into a temporary folder and run with the same ComfyUI (``DTV_COMFYUI``);
- **cold**: today's CLI, booting ComfyUI in a child (only the core extras the workflow names are loaded);
- **warm**: today's CLI with ``--server`` on a ``draw-to-video serve`` started once before the runs (its own boot
  is reported apart). Each round uses a different frame count, so no run is answered from the server's cache.

"First frame" is when ComfyUI starts the render node (the CLI prints ``running node <id>`` as each node starts);
"first node" is when it starts executing the workflow at all. Medians over the runs; ratios against the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import append_section

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).with_name("draw-to-video")
WORKFLOW = ROOT / "workflows" / "api" / "draw_to_video_2_5d.json"
TARGET_S = 5.0


def render_node() -> str:
    graph = json.loads(WORKFLOW.read_text(encoding="utf-8"))
    return next(k for k, n in graph.items() if n["class_type"] == "DTV_Render25D")


def timed(cmd: list[str], env: dict[str, str], node: str) -> dict[str, float]:
    """Seconds to the first executing node, to the render node and to exit of one CLI run (which must succeed)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marks: dict[str, float] = {}
    assert proc.stderr is not None
    for line in proc.stderr:
        words = line.split()
        if words[:2] == ["running", "node"]:
            marks.setdefault("first node", time.monotonic() - t0)
            if words[2:3] == [node]:
                marks.setdefault("first frame", time.monotonic() - t0)
    if proc.wait() != 0 or "first frame" not in marks:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode})")
    marks["total"] = time.monotonic() - t0
    return marks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen([str(CLI), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    while time.monotonic() - t0 < 300:
        try:
            urllib.request.urlopen(url + "/object_info/DTV_Render25D", timeout=2).read()
            return proc, url, time.monotonic() - t0
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("draw-to-video serve exited") from None
            time.sleep(0.2)
    raise SystemExit("draw-to-video serve did not come up in 300 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per way (default 3)")
    ap.add_argument("--reference", default="1b7f08a", help="commit whose CLI is the reference (default %(default)s)")
    args = ap.parse_args()
    node = render_node()
    env = {**os.environ, "DTV_COMFYUI": str(ROOT / ".comfyui")}
    with tempfile.TemporaryDirectory(prefix="dtv-bench-startup-") as tmp:
        ref = Path(tmp) / "ref" / "draw_to_video"
        ref.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.reference], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(ref)], input=archive, check=True)
        server, url, boot = start_server(env)
        try:
            times: dict[str, list[dict[str, float]]] = {"reference": [], "cold": [], "warm (--server)": []}
            for i in range(args.runs):
                frames = str(9 + i)
                common = ["render", str(ROOT / "assets" / "motorcycle.jpg"), "--stroke",
                          str(ROOT / "assets" / "demo_stroke.json"), "--depth",
                          str(ROOT / "assets" / "motorcycle_depth.png"), "--frames", frames, "--size", "512"]
                out = ["--out", str(Path(tmp) / f"out{i}")]
                times["reference"].append(timed([sys.executable, "-m", "draw_to_video.cli", *common, *out],
                                                {**env, "PYTHONPATH": str(ref.parent)}, node))
                times["cold"].append(timed([str(CLI), *common, *out], env, node))
                times["warm (--server)"].append(timed([str(CLI), *common, *out, "--server", url], env, node))
        finally:
            server.terminate()
            server.wait(30)
    med = {way: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for way, runs in times.items()}
    base = med["reference"]["first frame"]
    rows = [[way, round(m["first node"], 2), round(m["first frame"], 2), round(m["total"], 2),
             round(base / m["first frame"], 2), "yes" if m["first frame"] <= TARGET_S else "NO"]
            for way, m in med.items()]
    append_section("Render start-up: seconds to the first frame", [
        "way", "first node s", "first frame s", "total s", "speed-up vs reference (first frame)",
        f"first frame <= {TARGET_S:.0f} s"], rows,
        reference=f"the CLI at commit {args.reference} (before this work), same photo, stroke, ComfyUI and run; "
                  f"median of {args.runs} interleaved runs",
        notes=f"`draw-to-video serve` itself took {boot:.1f} s to come up, once, before the warm runs. Load average "
              f"{os.getloadavg()[0]:.1f} at the end (the machine's 2 cores are shared). Cold start-up is mostly "
              "`import torch` and ComfyUI's own imports (comfy.sd pulls in torchvision and torch._dynamo), which a "
              "boot cannot skip; the cold path saves the CLI's own torch import and loads only the core extras the "
              "workflow names.")


if __name__ == "__main__":
    main()
