"""The scheduler of ``draw-to-video batch``: one asyncio task per attempt, routed to the least-loaded server.

:meth:`Runner.run` starts every job that is due on the usable server with the fewest prompts (ours and other
clients'), below ``--max-in-flight`` of ours, and sleeps until an attempt ends, a server comes back or a backoff
expires. An attempt uploads the job's images, queues the graph under a prompt id of our choosing, follows it over
the websocket (with ``/history`` and ``/queue`` read too, so a lost socket costs only detail), downloads its output
files into ``DIR/.<id>.partial/`` and renames that to ``DIR/<id>/``. :class:`Transient` failures (a dead server, a
timeout, a vanished prompt) are retried with exponential backoff on another server if there is one;
:class:`Permanent` ones (a refused graph, a node's own error) fail the job at once.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .batch_jobs import Job
from .batch_servers import ServerSlot, Tracker, cancel, pause, reason, refusal, timings
from .batch_state import BatchState, Progress, commit_job, fresh_partial, partial_dir, write_json_atomic
from .client import ComfyError, output_items

#: exception types (last dotted part) of a failed run that another try may not repeat
TRANSIENT_ERRORS = {"OutOfMemoryError", "MemoryError", "InterruptProcessingException", "ConnectionError",
                    "TimeoutError"}
BACKOFF_BASE, BACKOFF_CAP = 0.5, 30.0
#: what a request to a dead, restarting or unreachable server raises (see :func:`.client.network_error`)
NETWORK_ERRORS = (ConnectionError, TimeoutError)


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


@dataclass
class Limits:
    max_in_flight: int
    max_retries: int
    timeout: float


class Runner:
    def __init__(self, runs: list[JobRun], slots: list[ServerSlot], out: Path, state: BatchState,
                 progress: Progress, limits: Limits, wake: asyncio.Event) -> None:
        self.runs, self.slots, self.out, self.state, self.progress = runs, slots, out, state, progress
        self.limits = limits
        self.wake = wake  # set by an ending attempt and by a server that becomes usable
        self.queued = 0
        self.attempts: set[asyncio.Task] = set()

    # -- scheduling -----------------------------------------------------------------------------------------------
    def _pick(self, run: JobRun) -> ServerSlot | None:
        usable = [s for s in self.slots if s.usable]
        cands = [s for s in usable if s.in_flight < self.limits.max_in_flight]
        if run.avoid and any(s.url != run.avoid for s in usable):
            cands = [s for s in cands if s.url != run.avoid]
        return min(cands, key=lambda s: (s.in_flight + s.external, s.in_flight, s.index), default=None)

    async def run(self) -> None:
        """Until every job is done, failed or skipped."""
        no_server_since: float | None = None
        while True:
            self.wake.clear()
            now = time.monotonic()
            waiting = [r for r in self.runs if r.status == "pending"]
            active = any(r.status == "active" for r in self.runs)
            if not waiting and not active:
                return
            if any(s.usable for s in self.slots):
                no_server_since = None
            else:
                no_server_since = no_server_since or now
                if now - no_server_since > self.limits.timeout and not active:
                    why = "; ".join(f"{s.url}: {s.error}" for s in self.slots)
                    for r in waiting:
                        self._finish(r, "failed", f"no server answered for {self.limits.timeout:.0f} s ({why})")
                    continue
            for r in sorted(waiting, key=lambda r: (r.ready_at, r.job.line)):
                if r.ready_at <= now and (slot := self._pick(r)) is not None:
                    self._start(r, slot)
            due = [r.ready_at - now for r in waiting if r.status == "pending" and r.ready_at > now]
            await pause(self.wake, min([1.0, *due]))

    def _start(self, r: JobRun, slot: ServerSlot) -> None:
        r.status, r.server = "active", slot.url
        r.attempts += 1
        slot.in_flight += 1
        task = asyncio.create_task(self._attempt_task(r, slot))
        self.attempts.add(task)
        task.add_done_callback(self.attempts.discard)

    async def abort(self) -> None:
        """Cancel the attempts still running (their prompts stay queued: see :func:`.batch_servers.cancel`)."""
        for task in list(self.attempts):
            task.cancel()
        await asyncio.gather(*self.attempts, return_exceptions=True)

    def _finish(self, r: JobRun, status: str, error: str = "") -> None:
        r.status, r.error = status, error
        self.state.update(r.job.id, status=status, server=r.server, attempts=r.attempts, seconds=round(r.seconds, 3),
                          error=error, digest=r.job.digest, tries=r.tries)
        self.progress.state(r.job.id, status, f"@ {r.server}" + (f": {error}" if error else ""))

    async def _attempt_task(self, r: JobRun, slot: ServerSlot) -> None:
        t0 = time.monotonic()
        outcome, error = "cancelled", ""
        try:
            await self._attempt(r, slot)
            outcome = "done"
        except Transient as exc:
            outcome, error = "transient", str(exc)
        except Permanent as exc:
            outcome, error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must fail one job, not hang the batch
            outcome, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        finally:
            slot.in_flight -= 1
            if outcome != "done":
                shutil.rmtree(partial_dir(self.out, r.job.id), ignore_errors=True)
        seconds = time.monotonic() - t0
        r.seconds += seconds
        if outcome == "done":
            self._finish(r, "done")
        else:
            r.tries.append({"server": slot.url, "prompt_id": r.last_prompt, "error": error,
                            "seconds": round(seconds, 3)})
            if outcome == "failed" or r.attempts > self.limits.max_retries:
                self._finish(r, "failed", error + (f" (after {r.attempts} attempts)" if outcome != "failed" else ""))
            else:
                delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (r.attempts - 1))
                r.status, r.ready_at, r.avoid = "pending", time.monotonic() + delay, slot.url
                self.progress.state(r.job.id, "retry", f"in {delay:.1f} s: {error}")
        self.wake.set()

    # -- one attempt ----------------------------------------------------------------------------------------------
    async def _attempt(self, r: JobRun, slot: ServerSlot) -> None:
        job, prompt_id = r.job, uuid.uuid4().hex
        r.last_prompt = prompt_id
        t0 = time.monotonic()
        titles = {nid: str(n.get("_meta", {}).get("title") or n["class_type"]) for nid, n in job.graph.items()}
        tracker = Tracker(prompt_id, on_step=lambda d: self.progress.step(job.id, d), titles=titles)
        try:
            self.progress.state(job.id, "uploading", f"@ {slot.url} (attempt {r.attempts})")
            graph = await self._upload(job, slot)
            t_up = time.monotonic()
            slot.trackers[prompt_id] = tracker
            try:
                await slot.api.queue(graph, prompt_id)
            except ComfyError as exc:
                if exc.status == 400:
                    raise Permanent(refusal(exc.details, graph)) from None
                raise Transient(f"{slot.url}: {exc}") from None
            self.queued += 1
            r.prompt = (slot, prompt_id)
            t_q, wall_q = time.monotonic(), time.time()
            self.progress.state(job.id, "queued", f"@ {slot.url}")
            try:
                entry = await self._wait(slot, prompt_id, tracker, t_q, job.id)
            except Transient:
                await cancel(slot, prompt_id)
                raise
            t_done = time.monotonic()
            _check_status(entry, graph, slot)
            self.progress.state(job.id, "downloading", f"@ {slot.url}")
            part = fresh_partial(self.out, job.id)
            files = await _download(slot, entry, part)
            t_end = time.monotonic()
            stages = timings(entry, tracker, graph, t0, t_up, t_q, wall_q, t_done, t_end)
            write_json_atomic(part / "result.json", {
                "id": job.id, "line": job.line, "server": slot.url, "prompt_id": prompt_id,
                "attempt": r.attempts, "failed_attempts": r.tries, "timings": stages, "files": files,
                "digest": job.digest, "finished_at": time.time()})
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

    @staticmethod
    async def _upload(job: Job, slot: ServerSlot) -> dict:
        """Upload the job's images; returns its graph, patched where the server stored one under another name."""
        graph = job.graph
        for up in job.uploads:
            got = await slot.api.upload_image(up.name, up.path.read_bytes())
            if got != up.name:
                graph = copy.deepcopy(graph) if graph is job.graph else graph
                graph[up.node_id]["inputs"][up.input] = got
        return graph

    async def _wait(self, slot: ServerSlot, prompt_id: str, tracker: Tracker, t_q: float, job_id: str) -> dict:
        """Read ``/history`` (woken early by the websocket) until the prompt ends; raise Transient if it is lost."""
        deadline, last_check, running = t_q + self.limits.timeout, t_q, False
        while True:
            wait = 0.05 if tracker.done else 1.0 if slot.ws_ok else 0.5
            await pause(tracker.changed, min(wait, max(0.01, deadline - time.monotonic())))
            tracker.changed.clear()
            if tracker.started and not running:
                running = True
                self.progress.state(job_id, "running", f"@ {slot.url}")
            now = time.monotonic()
            try:  # a busy server may answer slowly; only the deadline ends the wait then
                entry = await slot.api.history(prompt_id, timeout=10)
                if entry is not None:
                    return entry
                if now - last_check > 3.0 or tracker.done:
                    last_check = now
                    if not await _known(slot, prompt_id):
                        raise Transient(f"the prompt vanished from {slot.url} (server restarted?)")
            except TimeoutError:
                pass
            if time.monotonic() > deadline:
                raise Transient(f"timed out after {self.limits.timeout:g} s on {slot.url}")


async def _known(slot: ServerSlot, prompt_id: str) -> bool:
    """Whether the server still has the prompt queued, running or in its history."""
    q = await slot.api.queue_status(timeout=10)
    ids = {it[1] for k in ("queue_running", "queue_pending") for it in q.get(k, [])
           if isinstance(it, list) and len(it) > 1}
    return prompt_id in ids or await slot.api.history(prompt_id, timeout=10) is not None


async def _download(slot: ServerSlot, entry: dict, part: Path) -> list[dict]:
    """Every output file of the run into ``part`` (same-name files numbered); raises Permanent if there is none."""
    files: list[dict] = []
    for item in [i for i in output_items(entry.get("outputs", {})) if i.get("type") == "output"]:
        data = await slot.api.view(item)
        name, k = Path(str(item["filename"])).name, 1
        while (part / name).exists():
            name, k = f"{k}_{Path(str(item['filename'])).name}", k + 1
        (part / name).write_bytes(data)
        files.append({"file": name, "bytes": len(data), "server_file": item})
    if not files:
        raise Permanent("the workflow produced no output files")
    return files


def _check_status(entry: dict, graph: dict, slot: ServerSlot) -> None:
    """Return if the run succeeded; else raise Transient (interrupted, out of memory ...) or Permanent."""
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
