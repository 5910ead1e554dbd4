"""The servers of a batch: health and load watching, the ``/ws`` event listener, and per-prompt event trackers.

Each :class:`ServerSlot` runs two asyncio tasks. The watcher reads ``/queue`` every second while the server is up
(other clients' prompts count as load) and, once it stops answering, ``/system_stats`` with exponential backoff
(0.5 s doubling to 30 s) until it answers again; a server that comes back is re-checked for the workflow's node
classes before it gets jobs. The listener keeps a websocket on ``/ws?clientId=<ours>`` and feeds ComfyUI's events
(``execution_start``, ``executing``, ``progress``, ``execution_success`` ...) to the :class:`Tracker` of their prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Mapping

import aiohttp

from .client import ComfyAPI

PROBE_TIMEOUT = 3.0
MAX_BACKOFF = 30.0
DONE_EVENTS = ("execution_success", "execution_error", "execution_interrupted")
#: what a failed request to a server raises (no answer, a garbled one, or an HTTP error status)
REQUEST_ERRORS = (OSError, ValueError, RuntimeError)


def reason(exc: BaseException) -> str:
    """A short human reason for a failed request ('connection refused', 'timed out' ...)."""
    return " ".join((str(exc) or type(exc).__name__).split()).lower()


async def pause(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` pass, whichever is first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), max(0.0, seconds))


class Tracker:
    """What the websocket told about one prompt: start/end times, per-node times, the current node's progress."""

    def __init__(self, prompt_id: str, on_step: Callable[[str], None] | None = None,
                 titles: Mapping[str, str] | None = None) -> None:
        self.prompt_id = prompt_id
        self.titles = dict(titles or {})
        self.started = False
        self.done = False
        self.changed = asyncio.Event()  # set on start and on end: wakes the attempt waiting for its prompt
        self.t_start: float | None = None
        self.t_end: float | None = None
        self.nodes: dict[str, float] = {}
        self.cached: list[str] = []
        self._node: str | None = None
        self._node_t = 0.0
        self._on_step = on_step

    def _close_node(self, t: float) -> None:
        if self._node is not None:
            self.nodes[self._node] = self.nodes.get(self._node, 0.0) + (t - self._node_t)
            self._node = None

    def event(self, kind: str, data: Mapping[str, object], t: float) -> None:
        before = (self.started, self.done)
        self._event(kind, data, t)
        if (self.started, self.done) != before:
            self.changed.set()

    def _step(self, detail: str) -> None:
        if self._on_step:
            self._on_step(detail)

    def _event(self, kind: str, data: Mapping[str, object], t: float) -> None:
        if kind == "execution_start":
            self.t_start, self.started = t, True
        elif kind == "execution_cached":
            self.cached += [str(n) for n in data.get("nodes", []) or []]
        elif kind == "executing":
            self._close_node(t)
            node = data.get("node")
            if node is None:
                self.t_end, self.done = self.t_end or t, True
                return
            self._node, self._node_t = str(node), t
            if self.t_start is None:
                self.t_start, self.started = t, True
            self._step(self.titles.get(str(node), f"node {node}"))
        elif kind == "progress":
            node = str(data.get("node"))
            self._step(f"{self.titles.get(node, f'node {node}')} {data.get('value')}/{data.get('max')}")
        elif kind in DONE_EVENTS:
            self._close_node(t)
            self.t_end, self.done = t, True


class ServerSlot:
    """One ComfyUI server: its client, health, our in-flight count, other clients' load and the trackers."""

    def __init__(self, url: str, index: int, classes: Iterable[str], wake: asyncio.Event) -> None:
        self.url = url.rstrip("/")
        self.index = index
        self.classes = sorted(set(classes))
        self.api = ComfyAPI(self.url, timeout=60.0)
        self.up = False
        self.usable = False
        self.error = "not checked yet"
        self.fails = 0
        self.next_check = 0.0
        self.in_flight = 0
        self.external = 0
        self.ws_ok = False
        self.specs: dict[str, dict] = {}
        self.trackers: dict[str, Tracker] = {}
        self._wake = wake  # set when the server becomes usable: the scheduler looks again
        self._kick = asyncio.Event()  # set when the server looks gone: the watcher checks at once
        self._tasks: list[asyncio.Task] = []

    # -- health ---------------------------------------------------------------------------------------------------
    async def check(self) -> bool:
        """``/system_stats``, then (if the server was not usable) the workflow's node classes via ``/object_info``."""
        try:
            await self.api.system_stats(timeout=PROBE_TIMEOUT)
            if not self.usable:
                infos = await asyncio.gather(*(self.api.object_info(c, PROBE_TIMEOUT) for c in self.classes))
                self.specs = {c: info.get(c) for c, info in zip(self.classes, infos)}
                missing = [c for c, s in self.specs.items() if not isinstance(s, dict)]
                if missing:
                    self.up, self.error = False, f"lacks node class(es) {', '.join(missing)}"
                    self.next_check = time.monotonic() + MAX_BACKOFF
                    return False
            self.up, self.usable, self.fails, self.error = True, True, 0, ""
            self._wake.set()
            return True
        except REQUEST_ERRORS as exc:
            self.mark_down(reason(exc))
            return False

    def mark_down(self, why: str) -> None:
        """Stop sending jobs here until the watcher sees the server answer again (with backoff)."""
        if self.up:
            self.fails = 0
        self.up = self.usable = False
        self.fails += 1
        self.error = why
        self.next_check = time.monotonic() + min(MAX_BACKOFF, 0.5 * 2 ** (self.fails - 1))
        self._kick.set()

    async def refresh_load(self) -> None:
        try:
            q = await self.api.queue_status(timeout=PROBE_TIMEOUT)
        except REQUEST_ERRORS as exc:
            self.mark_down(reason(exc))
            return
        items = [*q.get("queue_running", []), *q.get("queue_pending", [])]
        self.external = sum(1 for it in items if isinstance(it, list) and len(it) > 3 and isinstance(it[3], dict)
                            and it[3].get("client_id") != self.api.client_id)

    async def _watch(self) -> None:
        while True:
            if self.up:
                await self.refresh_load()
                await pause(self._kick, 1.0)
            elif (delay := self.next_check - time.monotonic()) > 0:
                await pause(self._kick, min(delay, 1.0))
            else:
                await self.check()
            self._kick.clear()

    # -- websocket ------------------------------------------------------------------------------------------------
    async def _listen(self) -> None:
        while True:
            if not self.up:
                await asyncio.sleep(0.2)
                continue
            try:
                ws = await self.api.websocket(PROBE_TIMEOUT)
            except OSError:
                await asyncio.sleep(1.0)
                continue
            self.ws_ok = True
            try:
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        self._dispatch(msg.data, time.monotonic())
                    elif msg.type == aiohttp.WSMsgType.ERROR:
                        break
            except (aiohttp.ClientError, OSError, ValueError):  # dropped, or garbled: reconnect
                pass
            finally:
                self.ws_ok = False
                await ws.close()
            self._kick.set()  # the socket dropped: the watcher checks the server now
            await asyncio.sleep(0.5)

    def _dispatch(self, text: str, t: float) -> None:
        try:
            msg = json.loads(text)
        except json.JSONDecodeError:
            return
        data = msg.get("data") if isinstance(msg, dict) else None
        if isinstance(data, dict):
            tracker = self.trackers.get(str(data.get("prompt_id")))
            if tracker is not None:
                tracker.event(str(msg.get("type")), data, t)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._watch()), asyncio.create_task(self._listen())]

    async def stop(self) -> None:
        """End the watcher and the listener, and close the server's session."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.api.close()


def refusal(details: object, graph: dict) -> str:
    """One line from a ``/prompt`` 400 answer: each node error as 'title: message: details'."""
    parts: list[str] = []
    if isinstance(details, dict):
        for node_id, ne in (details.get("node_errors") or {}).items():
            title = graph.get(node_id, {}).get("_meta", {}).get("title", node_id)
            parts += [f"{title}: {e.get('message')}: {e.get('details')}" for e in ne.get("errors", [])]
        err = details.get("error")
        if not parts and isinstance(err, dict):
            parts.append(f"{err.get('message')}: {err.get('details')}")
    return "server refused the workflow: " + ("; ".join(parts) or str(details)[:200])


async def cancel(slot: ServerSlot, prompt_id: str, within: float = 20.0, wait: float = 0.2) -> None:
    """Best effort, for up to ``within`` seconds: drop the prompt from the server's queue, or interrupt it.

    ComfyUI's executor clears the interrupt flag as it starts a prompt, just before it sends ``execution_start``:
    an interrupt sent between the prompt leaving the queue and that event is lost (a loaded server can take seconds
    there). So while the websocket has not reported the start, we wait for it; once it has, one interrupt sticks
    (the running node stops at its next check) and we return. Without a tracker (or a websocket) the interrupt is
    repeated until the prompt is gone.
    """
    tracker = slot.trackers.get(prompt_id)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            q = await slot.api.queue_status(timeout=PROBE_TIMEOUT)
            ids = {k: {it[1] for it in q.get(k, []) if isinstance(it, list) and len(it) > 1}
                   for k in ("queue_running", "queue_pending")}
            if prompt_id in ids["queue_pending"]:
                await slot.api.delete_from_queue(prompt_id)
            elif prompt_id not in ids["queue_running"]:
                return
            elif tracker is not None and slot.ws_ok and not tracker.started:
                tracker.changed.clear()
                await pause(tracker.changed, 1.0)  # wait for execution_start, then interrupt
                continue
            else:
                await slot.api.interrupt(prompt_id)
                if tracker is not None and tracker.started:
                    return
        except REQUEST_ERRORS:
            return
        await asyncio.sleep(wait)


def timings(entry: dict, tr: Tracker, graph: dict, t0: float, t_up: float, t_q: float, wall_q: float,
            t_done: float, t_end: float) -> dict:
    """Seconds per stage of one attempt (from the websocket's events, else ``/history``'s timestamps) and per node."""
    stamps = {k: d.get("timestamp") / 1000.0 for k, d in (entry.get("status") or {}).get("messages", [])
              if isinstance(d, dict) and isinstance(d.get("timestamp"), (int, float))}
    if tr.t_start is not None and tr.t_end is not None:
        wait, execution, source = tr.t_start - t_q, tr.t_end - tr.t_start, "websocket"
    elif "execution_start" in stamps and "execution_success" in stamps:
        start = stamps["execution_start"]
        wait, execution, source = max(0.0, start - wall_q), stamps["execution_success"] - start, "history"
    else:
        wait, execution, source = 0.0, t_done - t_q, "polling"
    nodes = {nid: {"title": graph.get(nid, {}).get("_meta", {}).get("title"),
                   "class_type": graph.get(nid, {}).get("class_type"), "seconds": round(sec, 4)}
             for nid, sec in tr.nodes.items()}
    return {"upload": round(t_up - t0, 4), "queue_wait": round(max(0.0, wait), 4),
            "execution": round(execution, 4), "download": round(t_end - t_done, 4),
            "total": round(t_end - t0, 4), "source": source, "nodes": nodes, "cached_nodes": tr.cached}
