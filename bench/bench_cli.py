"""CLI start-up benchmark: wall-clock seconds of ``draw-to-video --version`` and ``--help``.

Run as ``python bench/bench_cli.py [--runs N]`` (appends a section to BENCHMARKS.md). Each command is started as a
fresh subprocess N times, interleaved with ``python -c pass`` (the interpreter's own start-up, the reference), and
the median is reported with its ratio to the reference's median and against the 0.3 s budget of issue 12. The CLI
is the console script next to this interpreter (``.venv/bin/draw-to-video``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report import append_section  # scripts are run as ``python bench/<name>.py``

BUDGET_S = 0.3
CLI = Path(sys.executable).with_name("draw-to-video")


def once(cmd: list[str]) -> float:
    """Seconds from start to exit of one run of ``cmd`` (which must succeed)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def medians(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """The median seconds of each command; the commands take turns so that load changes hit them alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # one warm-up each (file cache, bytecode)
        once(cmd)
    for _ in range(runs):
        for name, cmd in commands.items():
            times[name].append(once(cmd))
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21, help="runs per command (default 21)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    if not CLI.is_file():
        ap.error(f"{CLI} not found: install the pack (pip install -e .) into this interpreter's environment")
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "draw-to-video --version": [str(CLI), "--version"],
                "draw-to-video --help": [str(CLI), "--help"]}
    med = medians(commands, args.runs)
    ref = med["python -c pass"]
    rows = [[name, round(sec, 4), round(sec / ref, 2), "yes" if sec <= BUDGET_S else "NO"]
            for name, sec in med.items()]
    load = os.getloadavg()[0]
    append_section("CLI start-up: --version and --help", ["command", "median s", "ratio vs python -c pass",
                                                          f"<= {BUDGET_S} s"], rows,
                   reference=f"`python -c pass` in the same run (median of {args.runs} interleaved runs each)",
                   notes=f"Fresh subprocess per run, one warm-up each; load average {load:.1f} at the end. Only the "
                         "chosen subcommand's module is imported, so neither command loads torch.")


if __name__ == "__main__":
    main()
