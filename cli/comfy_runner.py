"""Run one API-format prompt through the real ComfyUI executor, in this process, without an HTTP server.

This file is executed as a script by :func:`draw_to_video.cli.host.run_prompt` in a child Python whose working
directory is the ComfyUI root (so ComfyUI's own top-level modules resolve exactly as when ComfyUI runs itself). It
is never imported as part of the pack: ComfyUI loads the pack from ``<base>/custom_nodes/draw-to-video``, so each
module of the pack exists once in the process ("one import name per process").

Protocol: reads a JSON job ``{"prompt": API_GRAPH, "model_folders": [names], "outputs": [node ids] | null}`` from the file given by
``--job``; writes one JSON line per event to stdout (``{"event": "progress", ...}``), and a last line
``{"event": "result", "ok": bool, "outputs": {...}, "error": str | null}``. ComfyUI's own logging goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

_stdout = sys.stdout


def _emit(event: str, **data: object) -> None:
    _stdout.write(json.dumps({"event": event, **data}, default=str) + "\n")
    _stdout.flush()


def _error_text(err: object) -> str:
    if isinstance(err, dict):
        parts = [str(err.get("message", "")), str(err.get("details", ""))]
        return ": ".join(p for p in parts if p)
    return str(err)


def _node_errors_text(node_errors: dict) -> str:
    msgs = []
    for node_id, info in node_errors.items():
        for e in info.get("errors", []):
            msgs.append(f"node {node_id} ({info.get('class_type', '?')}): {e.get('message', '')}: {e.get('details', '')}")
    return "; ".join(msgs)


def _exit_with_parent(interval: float = 0.5) -> None:
    """A daemon thread that ends this process when the CLI that started it is gone (killed with SIGKILL, so it
    could not stop us): no ComfyUI is ever left running, reparented to PID 1."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="dtv-parent-watch", daemon=True).start()


def _extras_defining(class_types: set[str], extras_dir: Path) -> list[Path]:
    """The files of ``comfy_extras/`` whose text names one of ``class_types`` as a string literal (a V1 mapping key
    or a V3 ``node_id``): a cheap over-estimate of the core extras a prompt needs, found without importing any."""
    found = []
    for path in sorted(extras_dir.glob("nodes_*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(f'"{c}"' in text or f"'{c}'" in text for c in class_types):
            found.append(path)
    return found


async def _load_nodes(nodes, prompt: dict) -> None:
    """Load the node classes ``prompt`` uses, in ComfyUI's order (core extras, then custom nodes): only the core
    extras files that define its class types, instead of all ~90 (most of start-up after the imports). If a class
    is still missing, every extra is loaded as ComfyUI itself does, so validation reports exactly what it would."""
    await nodes.init_public_apis()
    wanted = {str(n.get("class_type")) for n in prompt.values() if isinstance(n, dict)}
    extras = Path(nodes.__file__).resolve().parent / "comfy_extras"
    for path in _extras_defining(wanted - set(nodes.NODE_CLASS_MAPPINGS), extras):
        await nodes.load_custom_node(str(path), module_parent="comfy_extras")
    await nodes.init_external_custom_nodes()
    if wanted - set(nodes.NODE_CLASS_MAPPINGS):
        await nodes.init_builtin_extra_nodes()


def main() -> int:
    _exit_with_parent()
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", required=True)
    ap.add_argument("--base-directory", required=True)
    ap.add_argument("--model-root", action="append", default=[], help="extra ComfyUI models/ folder to search")
    ap.add_argument("--cpu", action="store_true")
    ns = ap.parse_args()

    # ComfyUI parses sys.argv on import; give it exactly the flags it should see.
    sys.argv = [sys.argv[0], "--base-directory", ns.base_directory, "--disable-api-nodes",
                "--database-url", "sqlite:///:memory:", "--dont-print-server"]
    if ns.cpu:
        sys.argv.append("--cpu")
    sys.stdout = sys.stderr  # keep our JSON protocol alone on the real stdout

    import asyncio

    # isort: off
    # ComfyUI's main module first: it parses the flags above and sets up folder paths and logging exactly as
    # ComfyUI does; only then may torch-using modules be imported.
    import main as comfy_main
    import execution
    import folder_paths
    import nodes
    import server
    # isort: on

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ps = server.PromptServer(loop)

    def send_sync(event, data, sid=None):
        if event in ("progress", "executing", "execution_error", "execution_interrupted", "executed"):
            if isinstance(data, dict):
                _emit(event, **{k: v for k, v in data.items() if k in ("value", "max", "node", "exception_message",
                                                                      "node_type", "exception_type")})

    ps.send_sync = send_sync  # type: ignore[method-assign]
    with open(ns.job, encoding="utf-8") as fh:
        job = json.load(fh)
    prompt = job["prompt"]
    for root in ns.model_root:
        for name in job.get("model_folders", []):
            folder_paths.add_model_folder_path(name, f"{root}/{name}")
    loop.run_until_complete(_load_nodes(nodes, prompt))
    comfy_main.hijack_progress(ps)

    prompt_id = str(uuid.uuid4())
    valid = loop.run_until_complete(execution.validate_prompt(prompt_id, prompt, job.get("outputs")))
    if not valid[0]:
        text = _error_text(valid[1])
        if valid[3]:
            text += ": " + _node_errors_text(valid[3])
        _emit("result", ok=False, outputs={}, error=f"invalid workflow: {text}")
        return 1
    executor = execution.PromptExecutor(ps, cache_type=execution.CacheType.NONE, cache_args={"lru": 0, "ram": 0})
    executor.execute(prompt, prompt_id, {"client_id": "draw-to-video-cli"}, valid[2])
    error = None
    if not executor.success:
        for event, data in executor.status_messages:
            if event in ("execution_error", "execution_interrupted"):
                error = f"{data.get('node_type', '?')}: {data.get('exception_message', event)}".strip()
        error = error or "execution failed"
    outputs = executor.history_result.get("outputs", {}) if executor.success else {}
    _emit("result", ok=executor.success, outputs=outputs, error=error,
          output_dir=folder_paths.get_output_directory())
    return 0 if executor.success else 1


def _exit_now(code: int) -> None:
    """End without Python's finalisation, which tears down torch and ComfyUI's ~3000 modules for 1-2 s after the
    result is out. Nothing is left to save: the output nodes have closed their files, and the protocol and the log
    are flushed here."""
    import logging
    import os

    logging.shutdown()
    sys.stderr.flush()
    _stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
