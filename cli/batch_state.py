"""A batch's bookkeeping on disk and on screen: the resumable state file, atomic job folders, progress, summary.

Layout of ``--out DIR``: ``DIR/.batch-state.json`` (rewritten atomically after each job), ``DIR/<job id>/`` (the
outputs and ``result.json``; it appears in one rename, so it is complete or absent) and, while a job downloads,
``DIR/.<job id>.partial/``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

STATE_NAME = ".batch-state.json"
STATE_VERSION = 1


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as JSON to a temp file in the same folder, then ``os.replace`` it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def partial_dir(out: Path, job_id: str) -> Path:
    return out / f".{job_id}.partial"


def job_dir(out: Path, job_id: str) -> Path:
    return out / job_id


def fresh_partial(out: Path, job_id: str) -> Path:
    """An empty ``DIR/.<id>.partial/`` (left-overs of an earlier attempt are removed)."""
    part = partial_dir(out, job_id)
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    return part


def commit_job(out: Path, job_id: str) -> Path:
    """Rename the finished partial folder to ``DIR/<id>/`` in one step; refuses to replace an existing result."""
    final = job_dir(out, job_id)
    if final.exists():
        raise FileExistsError(f"{final} already exists; not overwriting a finished job")
    os.replace(partial_dir(out, job_id), final)
    return final


def is_finished(out: Path, job_id: str) -> bool:
    return (job_dir(out, job_id) / "result.json").is_file()


class BatchState:
    """``DIR/.batch-state.json``: per job its status, server, attempts, seconds, error and a digest of its graph."""

    def __init__(self, out: Path, workflow: str) -> None:
        self.path = out / STATE_NAME
        self.data: dict = {"version": STATE_VERSION, "workflow": workflow, "jobs": {}}
        if self.path.is_file():
            try:
                old = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"{self.path} is unreadable ({exc}); delete it to start over") from None
            if isinstance(old, dict) and isinstance(old.get("jobs"), dict):
                self.data["jobs"] = old["jobs"]

    def job(self, job_id: str) -> dict:
        return dict(self.data["jobs"].get(job_id, {}))

    def update(self, job_id: str, **fields: object) -> None:
        self.data["jobs"].setdefault(job_id, {}).update(fields, updated=time.time())
        write_json_atomic(self.path, self.data)


class Progress:
    """Job and overall progress on ``stream``: a redrawn block on a terminal, one line per state change otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = total
        self.rows: dict[str, str] = {}  # in-flight job -> its line
        self.counts = {"done": 0, "failed": 0, "skipped": 0}
        self.drawn = 0
        self.last_draw = 0.0
        self.t0 = time.monotonic()

    def _overall(self) -> str:
        c = self.counts
        finished = c["done"] + c["failed"] + c["skipped"]
        return (f"[{finished}/{self.total}] {c['done']} done, {c['failed']} failed, {c['skipped']} skipped, "
                f"{len(self.rows)} active, {time.monotonic() - self.t0:.0f} s")

    def state(self, job_id: str, state: str, detail: str = "") -> None:
        """A job changed state (``queued``, ``running``, ``done``, ``retry`` ...): always shown."""
        line = f"{job_id}: {state}" + (f" {detail}" if detail else "")
        if state in self.counts:
            self.counts[state] += 1
        if state in ("done", "failed", "skipped"):
            self.rows.pop(job_id, None)
        else:
            self.rows[job_id] = line
        if self.tty:
            self._draw(permanent=line if state in ("done", "failed", "retry") else None)
        else:
            self.stream.write(f"{line}  {self._overall()}\n")
            self.stream.flush()

    def step(self, job_id: str, detail: str) -> None:
        """Fine-grained progress (a node's steps): only redrawn on a terminal, at most 10 times a second."""
        if not self.tty:
            return
        if job_id in self.rows:
            self.rows[job_id] = f"{job_id}: running {detail}"
        if time.monotonic() - self.last_draw > 0.1:
            self._draw()

    def _draw(self, permanent: str | None = None) -> None:
        out = [f"\x1b[{self.drawn}F\x1b[J" if self.drawn else ""]
        if permanent:
            out.append(permanent + "\n")
        lines = [*self.rows.values(), self._overall()]
        out.append("".join(f"  {ln[:150]}\n" for ln in lines))
        self.stream.write("".join(out))
        self.stream.flush()
        self.drawn = len(lines)
        self.last_draw = time.monotonic()


def summary_table(rows: list[Mapping[str, object]]) -> str:
    """A plain-text table: job, status, server, attempts, seconds, error."""
    cols = ("job", "status", "server", "attempts", "seconds", "error")
    cells = [[str(r.get(c, "") if r.get(c) is not None else "") for c in cols] for r in rows]
    for row in cells:
        row[4] = f"{float(row[4]):.1f}" if row[4] else ""
        row[5] = " ".join(row[5].split())[:120]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*cols), fmt.format(*("-" * w for w in widths))] +
                     [fmt.format(*r).rstrip() for r in cells])
