"""``draw-to-video batch``: run many jobs of one API workflow across ComfyUI servers, resumably.

Jobs (JSON Lines, see :mod:`.batch_jobs`) are all checked first, then against each server's ``/object_info``.
The servers are watched and followed by :mod:`.batch_servers`; :mod:`.batch_runner` sends each job to the
least-loaded usable server and retries what failed for reasons outside the job; :mod:`.batch_state` keeps the
resumable state file, the atomic job folders and the progress lines. It all runs on one asyncio event loop with one
aiohttp session per server.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path

from . import COMMANDS
from .batch_jobs import Job, graph_problems, load_jobs
from .batch_runner import JobRun, Limits, Runner
from .batch_servers import ServerSlot, cancel
from .batch_state import BatchState, Progress, is_finished, partial_dir, summary_table
from .errors import CLIError
from .workflow import load_api_workflow


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help=COMMANDS["batch"],
                       description="Run every job of a JSON Lines file through an API workflow on one or more "
                                   "ComfyUI servers: least-loaded first, retried elsewhere when a server dies or an "
                                   "attempt times out, each job's outputs written once into DIR/<job id>/.")
    p.add_argument("jobs", type=Path, help="JSON Lines file, one job per line")
    p.add_argument("--workflow", default="draw_to_video_2_5d",
                   help="shipped API workflow name or API JSON file (default: %(default)s)")
    p.add_argument("--server", action="append", default=[], metavar="URL", help="ComfyUI URL (repeatable)")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder: DIR/<job id>/ per job, DIR/.batch-state.json")
    p.add_argument("--max-in-flight", type=int, default=1, metavar="N", help="our prompts per server (default 1)")
    p.add_argument("--max-retries", type=int, default=3, metavar="R", help="retries of a job (default 3)")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="seconds one attempt may take from queueing to its end (default 600)")
    p.add_argument("--dry-run", action="store_true", help="check the jobs and the servers, queue nothing")
    p.add_argument("--resume", action="store_true", help="skip jobs whose DIR/<id>/ is already complete")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    if not args.server:
        raise CLIError("give at least one --server URL")
    for url in args.server:
        if not url.startswith(("http://", "https://")):
            raise CLIError(f"--server must be an http(s):// URL, got {url!r}")
    if len(set(args.server)) != len(args.server):
        raise CLIError("the same --server is given twice")
    if args.max_in_flight < 1 or args.max_retries < 0 or not args.timeout > 0:
        raise CLIError("need --max-in-flight >= 1, --max-retries >= 0 and --timeout > 0")
    if args.out is None and not args.dry_run:
        raise CLIError("--out DIR is required (unless --dry-run)")


def _warn(msg: str) -> None:
    print(f"draw-to-video batch: warning: {msg}", file=sys.stderr)


async def _probe(slots: list[ServerSlot]) -> None:
    await asyncio.gather(*(s.check() for s in slots))
    if not any(s.usable for s in slots):
        raise CLIError("no usable server: " + "; ".join(f"{s.url} ({s.error})" for s in slots))
    for s in slots:
        if not s.usable:
            _warn(f"{s.url} is not usable now ({s.error}); it is retried with backoff")


def _check_graphs(jobs: list[Job], slots: list[ServerSlot], every_server: bool) -> None:
    checked = [s for s in slots if s.usable][: None if every_server else 1]
    problems = sorted({p for s in checked for j in jobs for p in graph_problems(j, s.specs)},
                      key=lambda p: int(p.split()[1]))
    if problems:
        raise CLIError(f"{len(problems)} problem(s) against the servers' node definitions:\n  " + "\n  ".join(problems))


def _runs(jobs: list[Job], finished: list[str], out: Path, state: BatchState, progress: Progress) -> list[JobRun]:
    """One run per job; those finished earlier are marked skipped, and left-over partial folders removed."""
    runs = [JobRun(j) for j in jobs]
    for r in runs:
        shutil.rmtree(partial_dir(out, r.job.id), ignore_errors=True)
        if r.job.id in finished:
            old = state.job(r.job.id)
            r.status, r.server, r.attempts = "skipped", str(old.get("server", "")), int(old.get("attempts", 0) or 0)
            r.seconds = float(old.get("seconds", 0.0) or 0.0)
            if old.get("digest") not in (None, r.job.digest):
                _warn(f"job {r.job.id} changed since it finished; delete {out / r.job.id} to run it again")
            progress.state(r.job.id, "skipped", "(finished earlier)")
    return runs


async def _run_jobs(runner: Runner) -> None:
    for s in runner.slots:
        s.start()
    try:
        await runner.run()
    except asyncio.CancelledError:  # Ctrl-C: take our prompts off the servers before leaving
        prompts = [r.prompt for r in runner.runs if r.prompt is not None]
        await runner.abort()
        await asyncio.gather(*(cancel(slot, prompt_id) for slot, prompt_id in prompts))
        raise
    finally:
        await runner.abort()


async def _batch(args: argparse.Namespace, jobs: list[Job], classes: set[str], out: Path | None,
                 finished: list[str]) -> int:
    wake = asyncio.Event()
    slots = [ServerSlot(url, i, classes, wake) for i, url in enumerate(args.server)]
    try:
        await _probe(slots)
        _check_graphs(jobs, slots, every_server=out is None)
        if out is None:
            for s in slots:
                print(f"{s.url}: {'ok' if s.usable else s.error}")
            print(f"{len(jobs)} job(s) valid for {args.workflow}; dry run, nothing queued")
            return 0
        out.mkdir(parents=True, exist_ok=True)
        state = BatchState(out, args.workflow)
        progress = Progress(len(jobs))
        runs = _runs(jobs, finished, out, state, progress)
        runner = Runner(runs, slots, out, state, progress, Limits(args.max_in_flight, args.max_retries, args.timeout),
                        wake)
        t0 = time.monotonic()
        await _run_jobs(runner)
    finally:
        await asyncio.gather(*(s.stop() for s in slots))
    rows = [{"job": r.job.id, "status": r.status, "server": r.server, "attempts": r.attempts, "seconds": r.seconds,
             "error": r.error} for r in runs]
    print(summary_table(rows))
    n = {k: sum(r.status == k for r in runs) for k in ("done", "failed", "skipped")}
    print(f"{n['done']} done, {n['failed']} failed, {n['skipped']} skipped; queued {runner.queued} prompt(s) "
          f"in {time.monotonic() - t0:.1f} s")
    return 1 if n["failed"] else 0


def run(args: argparse.Namespace) -> int:
    _check_args(args)
    workflow = load_api_workflow(args.workflow)
    jobs = load_jobs(args.jobs, workflow)
    out: Path | None = None
    finished: list[str] = []
    if not args.dry_run:
        out = args.out.resolve()
        finished = [j.id for j in jobs if is_finished(out, j.id)]
        if finished and not args.resume:
            raise CLIError(f"{out} already holds {len(finished)} finished job(s) (e.g. {finished[0]}); "
                           "pass --resume to skip them, or choose another --out")
    return asyncio.run(_batch(args, jobs, {n["class_type"] for n in workflow.values()}, out, finished))
