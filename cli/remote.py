"""Run one API prompt on a ComfyUI server that is already up (``--server URL``): the warm executor.

A render through :func:`draw_to_video.cli.host.run_prompt` boots ComfyUI in a child process first (torch and
ComfyUI's imports: most of its start-up). A running server has paid that once, so ``render`` and ``demo`` with
``--server`` reach their first frame in well under a second. The server is any ComfyUI with this pack installed:
the user's own, or ``draw-to-video serve``.

Inputs are uploaded under names made from their bytes (``dtv-<sha256>.png``), so clients sharing one server never
overwrite each other's files; outputs are downloaded from ``/view`` into ``out_dir``. Ctrl-C or a stop signal takes
the prompt off the server (dropped while queued, interrupted while running).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from .batch_servers import refusal
from .client import ComfyAPI, ComfyError, execution_error, network_error, output_items
from .errors import CLIError

DONE = ("execution_success", "execution_error", "execution_interrupted")


def upload_name(name: str, data: bytes) -> str:
    """The server-side name of an input: its content hash, keeping the suffix (the loaders look at it)."""
    return f"dtv-{hashlib.sha256(data).hexdigest()[:24]}{Path(name).suffix.lower()}"


def rename_inputs(prompt: Mapping[str, object], names: Mapping[str, str]) -> dict:
    """A copy of ``prompt`` whose string inputs equal to a key of ``names`` are replaced by its value."""
    out = json.loads(json.dumps(prompt))
    for node in out.values():
        for key, value in node.get("inputs", {}).items():
            if isinstance(value, str) and value in names:
                node["inputs"][key] = names[value]
    return out


async def _follow(api: ComfyAPI, ws, prompt_id: str, progress) -> None:
    """Print the prompt's progress from the websocket until it ends (or the socket goes quiet: then /history)."""
    state: dict = {}
    while True:
        try:
            msg = await ws.receive(timeout=2.0)
        except TimeoutError:
            if await api.history(prompt_id) is not None:
                return
            continue
        if msg.type.name != "TEXT":
            if msg.type.name in ("CLOSE", "CLOSED", "ERROR"):
                return
            continue  # binary previews
        event = json.loads(msg.data)
        kind, data = event.get("type"), event.get("data") or {}
        if data.get("prompt_id") not in (None, prompt_id):
            continue
        if kind in DONE:
            return
        if kind == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
            return
        if kind in ("executing", "progress"):
            progress({"event": kind, **data}, state)


async def _run(url: str, prompt: Mapping[str, object], out_dir: Path, inputs: Mapping[str, Path], progress,
               timeout: float) -> tuple[dict, list[Path]]:
    prompt_id = uuid.uuid4().hex
    async with ComfyAPI(url, timeout=30.0, client_id=uuid.uuid4().hex) as api:
        names = {}
        for name, path in inputs.items():
            data = path.read_bytes()
            names[name] = await api.upload_image(upload_name(name, data), data, overwrite=True)
        ws = await api.websocket(timeout=10.0)
        try:
            await api.queue(rename_inputs(prompt, names), prompt_id)
            try:
                await asyncio.wait_for(_follow(api, ws, prompt_id, progress), timeout)
                entry = await api.wait(prompt_id, timeout=timeout)  # the socket may have dropped: keep polling
            except BaseException:
                with contextlib.suppress(Exception):
                    await asyncio.shield(_take_off(api, prompt_id))
                raise
        finally:
            await ws.close()
        out_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for item in output_items(entry.outputs):
            if item.get("type") == "output":
                files.append(out_dir / Path(str(item["filename"])).name)
                files[-1].write_bytes(await api.view(item))
        return entry.outputs, files


async def _take_off(api: ComfyAPI, prompt_id: str) -> None:
    await api.delete_from_queue(prompt_id)
    await api.interrupt(prompt_id)


def run_on_server(url: str, prompt: Mapping[str, object], *, out_dir: Path, inputs: Mapping[str, Path] | None,
                  progress, timeout: float = 24 * 3600.0) -> tuple[dict, list[Path]]:
    """Run ``prompt`` on the server at ``url``; write its output files into ``out_dir``; return its outputs and
    the files written."""
    t0 = time.monotonic()
    try:
        result = asyncio.run(_run(url.rstrip("/"), prompt, out_dir, inputs or {}, progress, timeout))
    except ComfyError as exc:
        if exc.status == 400:  # /prompt refused the graph: each node error, by node title
            raise CLIError(f"{url}: {refusal(exc.details, prompt)}") from None
        status = exc.details if isinstance(exc.details, Mapping) else {}
        raise CLIError(f"{url}: {execution_error(status) if status else exc}") from None
    except (OSError, TimeoutError) as exc:
        raise CLIError(f"{url}: {network_error(exc)}") from None
    sys.stderr.write(f"\n{url}: done in {time.monotonic() - t0:.1f} s\n")
    return result

