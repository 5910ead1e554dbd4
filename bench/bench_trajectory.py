"""Stroke (1,000 points) -> 121-frame trajectory, on one core: median time per build.

Reference: the issue's budget of 10 ms per build including ``prepare`` + ``analyze``; the ratio column is
median / 10 ms (below 1 is within budget). ``build_trajectory`` runs prepare + analyze itself; they are
also timed alone, and the trajectory part (lift, preset, re-timing, assembly, validation) is timed on its
own by passing the precomputed ``prepared`` / ``intent``.

Run: ``python bench/bench_trajectory.py [--runs 200]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from report import append_section  # noqa: E402

from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory  # noqa: E402
from draw_to_video.trajectory.stroke.features import N_FEATURE_SAMPLES  # noqa: E402
from draw_to_video.trajectory.stroke.format import StrokeSet, make_stroke_set  # noqa: E402
from draw_to_video.trajectory.stroke.intent import analyze_prepared  # noqa: E402
from draw_to_video.trajectory.stroke.prepare import prepare  # noqa: E402
from draw_to_video.trajectory.stroke.synthetic import generate  # noqa: E402

BUDGET_MS = 10.0
N_POINTS = 1000
FRAMES = 121


def one_core() -> str:
    """Pin this process to one CPU (Linux) and limit BLAS threads; say what was done."""
    notes = ["BLAS/OpenMP threads = 1 via environment"]
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        notes.append(f"pinned to CPU {cpu}")
    return ", ".join(notes)


def load_note() -> str:
    """The 1-minute load average, if the platform has one."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def thousand_points(ss: StrokeSet) -> StrokeSet:
    """The camera path of ``ss`` resampled to exactly 1,000 timed points (one stroke)."""
    p = np.concatenate([s.points for s in ss.camera_strokes()])
    k = np.linspace(0.0, len(p) - 1.0, N_POINTS)
    idx = np.arange(len(p))
    xy = np.stack([np.interp(k, idx, p[:, 0]), np.interp(k, idx, p[:, 1])], axis=-1)
    t = np.maximum.accumulate(np.interp(k, idx, p[:, 2]))
    return make_stroke_set(xy, ss.width, ss.height, t_ms=t)


def median_ms(fn, runs: int) -> float:
    for _ in range(5):
        fn()
    times = np.empty(runs)
    for i in range(runs):
        t0 = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t0
    return float(np.median(times) * 1e3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    pinning = one_core()
    rng = np.random.default_rng(2024)
    cases = [(kind, "auto", thousand_points(generate(kind, rng)))
             for kind in ("straight", "arc", "circle", "spiral", "zigzag", "freeform")]
    extra = {k: s for k, _, s in cases}
    cases += [("circle", "orbit_360", extra["circle"]), ("freeform", "follow_path", extra["freeform"]),
              ("straight", "vertigo", extra["straight"]), ("zigzag", "handheld", extra["zigzag"]),
              ("arc", "fpv_drone", extra["arc"])]
    rows = []
    for kind, preset, ss in cases:
        opts = ShotOptions(preset=preset, frames=FRAMES)
        tr = build_trajectory(ss, opts)
        total = median_ms(lambda ss=ss, opts=opts: build_trajectory(ss, opts), args.runs)
        pa = median_ms(lambda ss=ss: analyze_prepared(prepare(ss, N_FEATURE_SAMPLES)), args.runs)
        p = prepare(ss, N_FEATURE_SAMPLES)
        it = analyze_prepared(p)
        part = median_ms(lambda ss=ss, p=p, it=it, opts=opts: build_trajectory(ss, opts, prepared=p, intent=it),
                         args.runs)
        rows.append([kind, preset, tr.intent, tr.preset, round(total, 3), round(pa, 3), round(part, 3),
                     round(total / BUDGET_MS, 3)])
    append_section(
        "Trajectory build: 1,000-point stroke -> 121 frames (one core)",
        ["stroke", "preset", "intent found", "preset used", "median ms", "prepare+analyze ms", "trajectory part ms",
         "ratio vs 10 ms"],
        rows,
        reference=f"the issue's budget, 10 ms per build including prepare + analyze; median of {args.runs} runs",
        notes=f"Single core: {pinning}; load average during the run {load_note()} on {os.cpu_count()} cores (other "
              f"jobs shared the machine, so times are upper bounds). Synthetic strokes from `strokes_synthetic.generate` (seed 2024) resampled "
              f"to 1,000 timed points. 'trajectory part' = build_trajectory given the precomputed prepared stroke "
              f"and intent (this module's share of the budget).",
    )


if __name__ == "__main__":
    main()
