"""ComfyUI's HTTP and WebSocket API on aiohttp: queue a prompt, follow it, fetch its outputs.

:class:`ComfyAPI` is the asynchronous client (one ``aiohttp.ClientSession`` per server) the batch runner uses;
:class:`ComfyClient` offers the same calls blocking, each in its own short event loop, for tests and scripts.
A call fails in one of three ways only: :class:`ComfyError` (the server answered, but not with success),
``ConnectionError`` or ``TimeoutError`` (no usable answer: refused, dropped, too slow), and ``ValueError``
(an answer that is not the JSON it should be). ``/prompt`` answers 400 with ``node_errors`` for a bad graph;
``/history/<id>`` holds the outputs and status once the run is over.
"""

from __future__ import annotations

import asyncio
import errno
import json
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import aiohttp

T = TypeVar("T")
#: the largest websocket message accepted (ComfyUI's binary previews can be large)
MAX_WS_MESSAGE = 64 * 1024 * 1024


class ComfyError(RuntimeError):
    """The server refused or failed a request; ``details`` holds the server's answer when there was one."""

    def __init__(self, message: str, details: object = None, status: int | None = None) -> None:
        super().__init__(message)
        self.details = details
        self.status = status


@dataclass(frozen=True)
class Finished:
    prompt_id: str
    outputs: dict
    status: dict
    seconds: float


def network_error(exc: BaseException) -> OSError:
    """A transport failure as ``TimeoutError``, ``ConnectionRefusedError`` or ``ConnectionError``, worded shortly."""
    if isinstance(exc, TimeoutError):
        return TimeoutError("timed out")
    cause = getattr(exc, "os_error", exc)
    if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
        return ConnectionRefusedError("connection refused")
    text = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
    return ConnectionError(" ".join(str(text).split()).lower())


def _json(data: bytes) -> object:
    return json.loads(data) if data else None


def _mapping(answer: object) -> dict:
    return answer if isinstance(answer, dict) else {}


class ComfyAPI:
    """One ComfyUI server, asynchronously. Use ``async with ComfyAPI(url) as api:`` or call :meth:`close`."""

    def __init__(self, url: str, timeout: float = 30.0, client_id: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.client_id = client_id or uuid.uuid4().hex
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ComfyAPI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- plumbing ---------------------------------------------------------------------------------------------------
    async def request(self, method: str, path: str, body: bytes | aiohttp.FormData | None = None,
                      headers: Mapping[str, str] | None = None, timeout: float | None = None) -> tuple[int, bytes]:
        """``(HTTP status, body)``; only a transport failure raises (see :func:`network_error`)."""
        limit = aiohttp.ClientTimeout(total=timeout or self.timeout)
        try:
            async with self.session.request(method, self.url + path, data=body, headers=headers,
                                            timeout=limit) as resp:
                return resp.status, await resp.read()
        except (aiohttp.ClientError, OSError) as exc:
            raise network_error(exc) from exc

    async def get_json(self, path: str, timeout: float | None = None) -> object:
        status, data = await self.request("GET", path, timeout=timeout)
        if status != 200:
            raise ComfyError(f"GET {path}: HTTP {status}", data.decode("utf-8", "replace"), status)
        return json.loads(data)

    async def post_json(self, path: str, payload: object) -> tuple[int, object]:
        status, data = await self.request("POST", path, json.dumps(payload).encode(),
                                          {"Content-Type": "application/json"})
        try:
            return status, _json(data)
        except json.JSONDecodeError:
            return status, data.decode("utf-8", "replace")

    async def websocket(self, timeout: float) -> aiohttp.ClientWebSocketResponse:
        """``/ws?clientId=<ours>``, where ComfyUI sends the events of the prompts this client queued."""
        url = self.url.replace("http", "ws", 1) + f"/ws?clientId={self.client_id}"
        try:
            return await asyncio.wait_for(self.session.ws_connect(url, heartbeat=10.0, max_msg_size=MAX_WS_MESSAGE),
                                          timeout)
        except (aiohttp.ClientError, OSError) as exc:
            raise network_error(exc) from exc

    # -- API --------------------------------------------------------------------------------------------------------
    async def queue(self, prompt: Mapping[str, object], prompt_id: str | None = None) -> str:
        """Queue ``prompt`` (under ``prompt_id`` when given, so a websocket listener can expect its events)."""
        payload = {"prompt": prompt, "client_id": self.client_id, **({"prompt_id": prompt_id} if prompt_id else {})}
        status, answer = await self.post_json("/prompt", payload)
        if status != 200 or not isinstance(answer, dict) or "prompt_id" not in answer:
            raise ComfyError(f"/prompt refused the workflow (HTTP {status})", answer, status)
        return str(answer["prompt_id"])

    async def wait(self, prompt_id: str, timeout: float = 600.0, poll: float = 0.2) -> Finished:
        """Poll ``/history`` until the prompt ends; raises :class:`ComfyError` if it failed or took too long."""
        t0 = time.monotonic()
        while True:
            entry = await self.history(prompt_id)
            status = (entry or {}).get("status", {})
            if entry is not None and (status.get("completed") or status.get("status_str") in ("success", "error")):
                if status.get("status_str") == "error":
                    raise ComfyError(f"prompt {prompt_id} failed: {execution_error(status)}", status)
                return Finished(prompt_id, entry.get("outputs", {}), status, time.monotonic() - t0)
            if time.monotonic() - t0 > timeout:
                raise ComfyError(f"prompt {prompt_id} did not finish within {timeout:.0f} s")
            await asyncio.sleep(poll)

    async def run(self, prompt: Mapping[str, object], timeout: float = 600.0) -> Finished:
        return await self.wait(await self.queue(prompt), timeout=timeout)

    async def history(self, prompt_id: str, timeout: float | None = None) -> dict | None:
        """The ``/history`` entry of one prompt, or ``None`` while it is queued, running or unknown."""
        entry = _mapping(await self.get_json(f"/history/{urllib.parse.quote(prompt_id)}", timeout)).get(prompt_id)
        return entry if isinstance(entry, dict) else None

    async def history_count(self) -> int:
        """How many finished prompts the server remembers."""
        return len(_mapping(await self.get_json("/history")))

    async def queue_status(self, timeout: float | None = None) -> dict:
        """``/queue``: ``{"queue_running": [...], "queue_pending": [...]}``; items are ``[number, prompt_id, prompt,
        extra_data, outputs_to_execute]``."""
        return _mapping(await self.get_json("/queue", timeout))

    async def system_stats(self, timeout: float | None = None) -> dict:
        """``/system_stats``: the server's versions and devices."""
        return _mapping(await self.get_json("/system_stats", timeout))

    async def object_info(self, node_class: str | None = None, timeout: float | None = None) -> dict:
        """``/object_info`` (every node class) or ``/object_info/<class>`` (``{}`` when the class is unknown)."""
        path = "/object_info" + (f"/{urllib.parse.quote(node_class)}" if node_class else "")
        return _mapping(await self.get_json(path, timeout))

    async def interrupt(self, prompt_id: str | None = None) -> None:
        """Interrupt ``prompt_id`` if it is the one running (or whatever runs, when ``None``)."""
        await self.post_json("/interrupt", {"prompt_id": prompt_id} if prompt_id else {})

    async def delete_from_queue(self, prompt_ids: list[str] | str) -> None:
        """Drop pending prompts from the server's queue (a running one is left alone: see :meth:`interrupt`)."""
        await self.post_json("/queue", {"delete": [prompt_ids] if isinstance(prompt_ids, str) else list(prompt_ids)})

    async def view(self, item: Mapping[str, object]) -> bytes:
        """The bytes of one output file (an item of :func:`output_items`)."""
        q = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                    "type": item.get("type", "output")})
        status, data = await self.request("GET", f"/view?{q}")
        if status != 200:
            raise ComfyError(f"/view {item.get('filename')}: HTTP {status}", status=status)
        return data

    async def upload_image(self, name: str, data: bytes, overwrite: bool = True) -> str:
        """Upload an input image; returns the name the server stored it under."""
        form = aiohttp.FormData()
        form.add_field("image", data, filename=name, content_type="application/octet-stream")
        form.add_field("overwrite", str(overwrite).lower())
        status, answer = await self.request("POST", "/upload/image", form)
        if status != 200:
            raise ComfyError(f"/upload/image {name}: HTTP {status}", answer.decode("utf-8", "replace"), status)
        return str(_mapping(json.loads(answer))["name"])


class ComfyClient:
    """The calls of :class:`ComfyAPI` that tests and scripts use, blocking: each in a fresh event loop and session
    (on a worker thread when the calling thread already runs a loop)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.client_id = uuid.uuid4().hex

    def _call(self, call: Callable[[ComfyAPI], Awaitable[T]]) -> T:
        async def once() -> T:
            async with ComfyAPI(self.url, self.timeout, self.client_id) as api:
                return await call(api)

        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: no loop in this thread
            return asyncio.run(once())
        # This thread already runs a loop (e.g. Playwright's sync API): run ours on a short-lived worker thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, once()).result()

    def request(self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None) -> tuple[int, bytes]:
        return self._call(lambda api: api.request(method, path, body, headers, timeout))

    def get_json(self, path: str) -> object:
        return self._call(lambda api: api.get_json(path))

    def post_json(self, path: str, payload: object) -> tuple[int, object]:
        return self._call(lambda api: api.post_json(path, payload))

    def queue(self, prompt: Mapping[str, object], prompt_id: str | None = None) -> str:
        return self._call(lambda api: api.queue(prompt, prompt_id))

    def wait(self, prompt_id: str, timeout: float = 600.0, poll: float = 0.2) -> Finished:
        return self._call(lambda api: api.wait(prompt_id, timeout, poll))

    def run(self, prompt: Mapping[str, object], timeout: float = 600.0) -> Finished:
        return self._call(lambda api: api.run(prompt, timeout))

    def history(self, prompt_id: str, timeout: float | None = None) -> dict | None:
        return self._call(lambda api: api.history(prompt_id, timeout))

    def history_count(self) -> int:
        return self._call(lambda api: api.history_count())

    def queue_status(self, timeout: float | None = None) -> dict:
        return self._call(lambda api: api.queue_status(timeout))

    def object_info(self, node_class: str | None = None) -> dict:
        return self._call(lambda api: api.object_info(node_class))

    def view(self, item: Mapping[str, object]) -> bytes:
        return self._call(lambda api: api.view(item))

    def upload_image(self, name: str, data: bytes, overwrite: bool = True) -> str:
        return self._call(lambda api: api.upload_image(name, data, overwrite))


def execution_error(status: Mapping[str, object]) -> str:
    """The one-line exception message of a failed run, from its history status."""
    for event, data in status.get("messages", []) or []:
        if event in ("execution_error", "execution_interrupted") and isinstance(data, dict):
            return f"{data.get('node_type', '?')}: {data.get('exception_message', event)}".strip()
    return "unknown error"


def output_items(outputs: Mapping[str, object], kind: str | None = None) -> list[dict]:
    """Every file item (images, gifs, videos...) in a history ``outputs`` mapping, in node order."""
    items: list[dict] = []
    for node_out in outputs.values():
        if isinstance(node_out, Mapping):
            for key, vals in node_out.items():
                if (kind is None or key == kind) and isinstance(vals, list):
                    items += [v for v in vals if isinstance(v, dict) and "filename" in v]
    return items
