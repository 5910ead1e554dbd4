"""``draw-to-video batch``: run many jobs of one API workflow across ComfyUI servers, resumably.

Jobs (JSON Lines, see :mod:`.batch_jobs`) are all checked first, then against each server's ``/object_info``.
Each job goes to the least-loaded usable server with fewer than ``--max-in-flight`` of our prompts; its images are
uploaded under per-job names, the patched graph is queued, followed over ``/ws`` (``/history`` and ``/queue`` are
polled too, so a lost socket costs only detail), and its output files are downloaded into ``DIR/.<id>.partial/``,
which is renamed to ``DIR/<id>/`` with ``result.json`` (timings per stage and node, server, attempts). A dead
server, a timed-out attempt or a prompt that vanished is retried elsewhere with exponential backoff, up to
``--max-retries`` times; a refused graph (HTTP 400) or a node's own error (``ValueError`` ...) fails the job at once.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import shutil
import sys
import threading
import time
import urllib.error
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .batch_jobs import Job, graph_problems, load_jobs
from .batch_servers import ServerSlot, Tracker, cancel, reason, refusal, timings
from .batch_state import (
    BatchState,
    Progress,
    commit_job,
    fresh_partial,
    is_finished,
    partial_dir,
    summary_table,
    write_json_atomic,
)
from .client import ComfyError, output_items
from .errors import CLIError
from .workflow import load_api_workflow

#: exception types (last dotted part) of a failed run that another try may not repeat
TRANSIENT_ERRORS = {"OutOfMemoryError", "MemoryError", "InterruptProcessingException", "ConnectionError",
                    "TimeoutError"}
BACKOFF_BASE, BACKOFF_CAP = 0.5, 30.0
#: what a request to a dead, restarting or unreachable server raises
NETWORK_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


class Transient(Exception):
    """The attempt failed for a reason outside the job (server gone, timeout): retry, preferably elsewhere."""


class Permanent(Exception):
    """The job itself is wrong (refused graph, node error): retrying would fail the same way."""


@dataclass
class JobRun:
    job: Job
    status: str = "pending"  # pending | active | done | failed | skipped
    attempts: int = 0
    ready_at: float = 0.0
    avoid: str | None = None
    server: str = ""
    error: str = ""
    seconds: float = 0.0
    tries: list[dict] = field(default_factory=list)
    prompt: tuple[ServerSlot, str] | None = None  # where its prompt is queued now
    last_prompt: str = ""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="run a JSON Lines file of jobs across ComfyUI servers (resumable)",
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


class Runner:
    def __init__(self, runs: list[JobRun], slots: list[ServerSlot], out: Path, state: BatchState,
                 progress: Progress, args: argparse.Namespace) -> None:
        self.runs, self.slots, self.out, self.state, self.progress = runs, slots, out, state, progress
        self.max_in_flight, self.max_retries, self.timeout = args.max_in_flight, args.max_retries, args.timeout
        self.cond = threading.Condition()
        self.queued = 0

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()

    # -- scheduling -----------------------------------------------------------------------------------------------
    def _pick(self, run: JobRun) -> ServerSlot | None:
        usable = [s for s in self.slots if s.usable]
        cands = [s for s in usable if s.in_flight < self.max_in_flight]
        if run.avoid and any(s.url != run.avoid for s in usable):
            cands = [s for s in cands if s.url != run.avoid]
        return min(cands, key=lambda s: (s.in_flight + s.external, s.in_flight, s.index), default=None)

    def run(self) -> None:
        no_server_since: float | None = None
        with self.cond:
            while True:
                now = time.monotonic()
                waiting = [r for r in self.runs if r.status == "pending"]
                if not waiting and not any(r.status == "active" for r in self.runs):
                    return
                if any(s.usable for s in self.slots):
                    no_server_since = None
                else:
                    no_server_since = no_server_since or now
                    if now - no_server_since > self.timeout and not any(r.status == "active" for r in self.runs):
                        why = "; ".join(f"{s.url}: {s.error}" for s in self.slots)
                        for r in waiting:
                            self._finish(r, "failed", f"no server answered for {self.timeout:.0f} s ({why})")
                        continue
                for r in sorted(waiting, key=lambda r: (r.ready_at, r.job.line)):
                    if r.ready_at <= now and (slot := self._pick(r)) is not None:
                        r.status, r.server = "active", slot.url
                        r.attempts += 1
                        slot.in_flight += 1
                        threading.Thread(target=self._attempt_thread, args=(r, slot), daemon=True).start()
                self.cond.wait(0.2)

    def _finish(self, r: JobRun, status: str, error: str = "") -> None:
        r.status, r.error = status, error
        self.state.update(r.job.id, status=status, server=r.server, attempts=r.attempts, seconds=round(r.seconds, 3),
                          error=error, digest=r.job.digest, tries=r.tries)
        self.progress.state(r.job.id, status, f"@ {r.server}" + (f": {error}" if error else ""))

    def _attempt_thread(self, r: JobRun, slot: ServerSlot) -> None:
        t0 = time.monotonic()
        outcome, error = "done", ""
        try:
            self._attempt(r, slot)
        except Transient as exc:
            outcome, error = "transient", str(exc)
        except Permanent as exc:
            outcome, error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must fail one job, not hang the batch
            outcome, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        finally:
            if outcome != "done":
                shutil.rmtree(partial_dir(self.out, r.job.id), ignore_errors=True)
        with self.cond:
            slot.in_flight -= 1
            r.seconds += time.monotonic() - t0
            if outcome != "done":
                r.tries.append({"server": slot.url, "prompt_id": r.last_prompt, "error": error,
                                "seconds": round(time.monotonic() - t0, 3)})
            if outcome == "done":
                self._finish(r, "done")
            elif outcome == "failed" or r.attempts > self.max_retries:
                self._finish(r, "failed", error + (f" (after {r.attempts} attempts)" if outcome != "failed" else ""))
            else:
                delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (r.attempts - 1))
                r.status, r.ready_at, r.avoid = "pending", time.monotonic() + delay, slot.url
                self.progress.state(r.job.id, "retry", f"in {delay:.1f} s: {error}")
            self.cond.notify_all()

    # -- one attempt ----------------------------------------------------------------------------------------------
    def _attempt(self, r: JobRun, slot: ServerSlot) -> None:
        job, prompt_id = r.job, uuid.uuid4().hex
        r.last_prompt = prompt_id
        t0 = time.monotonic()
        titles = {nid: str(n.get("_meta", {}).get("title") or n["class_type"]) for nid, n in job.graph.items()}
        tracker = Tracker(prompt_id, on_step=lambda d: self.progress.step(job.id, d), titles=titles)
        try:
            self.progress.state(job.id, "uploading", f"@ {slot.url} (attempt {r.attempts})")
            graph = job.graph
            for up in job.uploads:
                got = slot.client.upload_image(up.name, up.path.read_bytes())
                if got != up.name:
                    graph = copy.deepcopy(graph)
                    graph[up.node_id]["inputs"][up.input] = got
            t_up = time.monotonic()
            slot.trackers[prompt_id] = tracker
            try:
                slot.client.queue_as(graph, prompt_id)
            except ComfyError as exc:
                if exc.status == 400:
                    raise Permanent(refusal(exc.details, graph)) from None
                raise Transient(f"{slot.url}: {exc}") from None
            with self.cond:
                self.queued += 1
                r.prompt = (slot, prompt_id)
            t_q, wall_q = time.monotonic(), time.time()
            self.progress.state(job.id, "queued", f"@ {slot.url}")
            try:
                entry = self._wait(slot, prompt_id, tracker, t_q, job.id)
            except Transient:
                cancel(slot, prompt_id)
                raise
            t_done = time.monotonic()
            self._check_status(entry, graph, slot)
            part = fresh_partial(self.out, job.id)
            self.progress.state(job.id, "downloading", f"@ {slot.url}")
            files: list[dict] = []
            for item in [i for i in output_items(entry.get("outputs", {})) if i.get("type") == "output"]:
                data = slot.client.view(item)
                name, k = Path(str(item["filename"])).name, 1
                while (part / name).exists():
                    name, k = f"{k}_{Path(str(item['filename'])).name}", k + 1
                (part / name).write_bytes(data)
                files.append({"file": name, "bytes": len(data), "server_file": item})
            if not files:
                raise Permanent("the workflow produced no output files")
            t_end = time.monotonic()
            stages = timings(entry, tracker, graph, t0, t_up, t_q, wall_q, t_done, t_end)
            write_json_atomic(part / "result.json", {
                "id": job.id, "line": job.line, "server": slot.url, "prompt_id": prompt_id,
                "attempt": r.attempts, "failed_attempts": r.tries, "timings": stages, "files": files,
                "digest": job.digest, "finished_at": time.time()})
            with self.cond:
                commit_job(self.out, job.id)
        except NETWORK_ERRORS as exc:
            slot.mark_down(reason(exc))
            raise Transient(f"{slot.url}: {reason(exc)}") from None
        except OSError as exc:  # local files: an input vanished, the disk is full, the job folder exists
            raise Permanent(f"{type(exc).__name__}: {exc}") from None
        except (ValueError, RuntimeError) as exc:  # garbled answers: not the job's fault
            raise Transient(f"{slot.url}: {exc}") from None
        finally:
            slot.trackers.pop(prompt_id, None)
            r.prompt = None

    def _wait(self, slot: ServerSlot, prompt_id: str, tracker: Tracker, t_q: float, job_id: str) -> dict:
        """Poll ``/history`` (woken early by the websocket) until the prompt ends; raise Transient if it is lost."""
        deadline, last_check, running = t_q + self.timeout, t_q, False
        while True:
            pause = 0.05 if tracker.done.is_set() else 1.0 if slot.ws_ok else 0.5
            tracker.changed.wait(min(pause, max(0.01, deadline - time.monotonic())))
            tracker.changed.clear()
            if tracker.started.is_set() and not running:
                running = True
                self.progress.state(job_id, "running", f"@ {slot.url}")
            now = time.monotonic()
            try:  # a busy server may answer slowly; only the deadline ends the wait then
                entry = slot.client.history(prompt_id, timeout=10)
                if entry is not None:
                    return entry
                if now - last_check > 3.0 or tracker.done.is_set():
                    last_check = now
                    q = slot.client.queue_status(timeout=10)
                    ids = {it[1] for k in ("queue_running", "queue_pending") for it in q.get(k, [])
                           if isinstance(it, list) and len(it) > 1}
                    if prompt_id not in ids and slot.client.history(prompt_id, timeout=10) is None:
                        raise Transient(f"the prompt vanished from {slot.url} (server restarted?)")
            except (TimeoutError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise Transient(f"timed out after {self.timeout:g} s on {slot.url}")

    @staticmethod
    def _check_status(entry: dict, graph: dict, slot: ServerSlot) -> None:
        status = entry.get("status") or {}
        if status.get("status_str", "success") == "success" and status.get("completed", True):
            return
        for kind, data in status.get("messages", []) or []:
            if kind == "execution_interrupted":
                raise Transient(f"interrupted on {slot.url}")
            if kind == "execution_error" and isinstance(data, dict):
                etype = str(data.get("exception_type", ""))
                title = graph.get(str(data.get("node_id")), {}).get("_meta", {}).get("title", data.get("node_type"))
                msg = f"{title} ({data.get('node_type')}): {etype}: {' '.join(str(data.get('exception_message')).split())}"
                raise (Transient if etype.rsplit(".", 1)[-1] in TRANSIENT_ERRORS else Permanent)(msg)
        raise Transient(f"the run on {slot.url} ended without success ({status.get('status_str')})")

def _probe(urls: list[str], classes: set[str], wake) -> list[ServerSlot]:
    slots = [ServerSlot(url, i, classes, wake) for i, url in enumerate(urls)]
    with ThreadPoolExecutor(max_workers=min(16, len(slots))) as pool:
        list(pool.map(ServerSlot.check, slots))
    if not any(s.usable for s in slots):
        raise CLIError("no usable server: " + "; ".join(f"{s.url} ({s.error})" for s in slots))
    for s in slots:
        if not s.usable:
            _warn(f"{s.url} is not usable now ({s.error}); it is retried with backoff")
    return slots


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
    runner_ref: list[Runner] = []
    slots = _probe(args.server, {n["class_type"] for n in workflow.values()},
                   lambda: runner_ref[0].wake() if runner_ref else None)
    checked = [s for s in slots if s.usable][: None if args.dry_run else 1]
    problems = sorted({p for s in checked for j in jobs for p in graph_problems(j, s.specs)},
                      key=lambda p: int(p.split()[1]))
    if problems:
        raise CLIError(f"{len(problems)} problem(s) against the servers' node definitions:\n  " + "\n  ".join(problems))
    if out is None:
        for s in slots:
            print(f"{s.url}: {'ok' if s.usable else s.error}")
        print(f"{len(jobs)} job(s) valid for {args.workflow}; dry run, nothing queued")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    state = BatchState(out, args.workflow)
    progress = Progress(len(jobs))
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
    runner = Runner(runs, slots, out, state, progress, args)
    runner_ref.append(runner)
    for s in slots:
        s.start()
    t0 = time.monotonic()
    try:
        runner.run()
    except KeyboardInterrupt:
        for r in runs:
            if r.prompt is not None:
                cancel(*r.prompt)
        raise
    finally:
        for s in slots:
            s.stop()
    rows = [{"job": r.job.id, "status": r.status, "server": r.server, "attempts": r.attempts, "seconds": r.seconds,
             "error": r.error} for r in runs]
    print(summary_table(rows))
    n = {k: sum(r.status == k for r in runs) for k in ("done", "failed", "skipped")}
    print(f"{n['done']} done, {n['failed']} failed, {n['skipped']} skipped; queued {runner.queued} prompt(s) "
          f"in {time.monotonic() - t0:.1f} s")
    return 1 if n["failed"] else 0
