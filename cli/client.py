"""A small client for ComfyUI's HTTP API (stdlib only): queue a prompt, follow it, fetch its outputs.

Used by the tests and the batch runner. ``/prompt`` answers 400 with ``node_errors`` for a bad graph;
``/history/<id>`` holds the outputs and status once the run is over.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass


class ComfyError(RuntimeError):
    """The server refused or failed a prompt; ``details`` holds the server's JSON answer when there was one."""

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


class ComfyClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.client_id = uuid.uuid4().hex

    # -- plumbing ---------------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:  # noqa: S310 (own server)
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def get_json(self, path: str) -> object:
        status, data = self.request("GET", path)
        if status != 200:
            raise ComfyError(f"GET {path}: HTTP {status}", data.decode("utf-8", "replace"), status)
        return json.loads(data)

    def post_json(self, path: str, payload: object) -> tuple[int, object]:
        status, data = self.request("POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        try:
            return status, json.loads(data) if data else None
        except json.JSONDecodeError:
            return status, data.decode("utf-8", "replace")

    # -- API --------------------------------------------------------------------------------------------------------
    def queue(self, prompt: Mapping[str, object]) -> str:
        status, answer = self.post_json("/prompt", {"prompt": prompt, "client_id": self.client_id})
        if status != 200 or not isinstance(answer, dict) or "prompt_id" not in answer:
            raise ComfyError(f"/prompt refused the workflow (HTTP {status})", answer, status)
        return str(answer["prompt_id"])

    def wait(self, prompt_id: str, timeout: float = 600.0, poll: float = 0.2) -> Finished:
        t0 = time.monotonic()
        while True:
            hist = self.get_json(f"/history/{urllib.parse.quote(prompt_id)}")
            if isinstance(hist, dict) and prompt_id in hist:
                entry = hist[prompt_id]
                status = entry.get("status", {})
                if status.get("completed") or status.get("status_str") in ("success", "error"):
                    fin = Finished(prompt_id, entry.get("outputs", {}), status, time.monotonic() - t0)
                    if status.get("status_str") == "error":
                        raise ComfyError(f"prompt {prompt_id} failed: {execution_error(status)}", status)
                    return fin
            if time.monotonic() - t0 > timeout:
                raise ComfyError(f"prompt {prompt_id} did not finish within {timeout:.0f} s")
            time.sleep(poll)

    def run(self, prompt: Mapping[str, object], timeout: float = 600.0) -> Finished:
        return self.wait(self.queue(prompt), timeout=timeout)

    def queue_as(self, prompt: Mapping[str, object], prompt_id: str) -> str:
        """Queue ``prompt`` under a caller-chosen ``prompt_id`` (so a websocket listener can expect its events)."""
        status, answer = self.post_json("/prompt", {"prompt": prompt, "client_id": self.client_id,
                                                    "prompt_id": prompt_id})
        if status != 200 or not isinstance(answer, dict) or "prompt_id" not in answer:
            raise ComfyError(f"/prompt refused the workflow (HTTP {status})", answer, status)
        return str(answer["prompt_id"])

    def history(self, prompt_id: str, timeout: float | None = None) -> dict | None:
        """The ``/history`` entry of one prompt, or ``None`` while it is queued, running or unknown."""
        status, data = self.request("GET", f"/history/{urllib.parse.quote(prompt_id)}", timeout=timeout)
        if status != 200:
            raise ComfyError(f"GET /history/{prompt_id}: HTTP {status}", data.decode("utf-8", "replace"), status)
        entry = json.loads(data).get(prompt_id)
        return entry if isinstance(entry, dict) else None

    def history_count(self) -> int:
        """How many finished prompts the server remembers."""
        hist = self.get_json("/history")
        return len(hist) if isinstance(hist, dict) else 0

    def queue_status(self, timeout: float | None = None) -> dict:
        """``/queue``: ``{"queue_running": [...], "queue_pending": [...]}``; items are ``[number, prompt_id, prompt,
        extra_data, outputs_to_execute]``."""
        status, data = self.request("GET", "/queue", timeout=timeout)
        if status != 200:
            raise ComfyError(f"GET /queue: HTTP {status}", status=status)
        answer = json.loads(data)
        return answer if isinstance(answer, dict) else {}

    def system_stats(self, timeout: float | None = None) -> dict:
        """``/system_stats``: the server's versions and devices."""
        status, data = self.request("GET", "/system_stats", timeout=timeout)
        if status != 200:
            raise ComfyError(f"GET /system_stats: HTTP {status}", status=status)
        answer = json.loads(data)
        return answer if isinstance(answer, dict) else {}

    def object_info(self, node_class: str | None = None) -> dict:
        """``/object_info`` (every node class) or ``/object_info/<class>`` (``{}`` when the class is unknown)."""
        path = "/object_info" + (f"/{urllib.parse.quote(node_class)}" if node_class else "")
        answer = self.get_json(path)
        return answer if isinstance(answer, dict) else {}

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Interrupt ``prompt_id`` if it is the one running (or whatever runs, when ``None``)."""
        self.post_json("/interrupt", {"prompt_id": prompt_id} if prompt_id else {})

    def delete_from_queue(self, prompt_ids: list[str] | str) -> None:
        """Drop pending prompts from the server's queue (a running one is left alone: see :meth:`interrupt`)."""
        self.post_json("/queue", {"delete": [prompt_ids] if isinstance(prompt_ids, str) else list(prompt_ids)})

    def view(self, item: Mapping[str, object]) -> bytes:
        q = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                    "type": item.get("type", "output")})
        status, data = self.request("GET", f"/view?{q}")
        if status != 200:
            raise ComfyError(f"/view {item.get('filename')}: HTTP {status}", status=status)
        return data

    def upload_image(self, name: str, data: bytes, overwrite: bool = True) -> str:
        boundary = uuid.uuid4().hex
        parts = [
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n",
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\n{str(overwrite).lower()}\r\n"
            .encode(),
            f"--{boundary}--\r\n".encode(),
        ]
        status, answer = self.request("POST", "/upload/image", b"".join(parts),
                                      {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if status != 200:
            raise ComfyError(f"/upload/image {name}: HTTP {status}", answer.decode("utf-8", "replace"), status)
        return str(json.loads(answer)["name"])


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
