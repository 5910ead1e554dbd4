"""Run one API-format prompt through the real ComfyUI executor, in this process, without an HTTP server.

This file is executed as a script by :func:`draw_to_video.cli.host.run_prompt` in a child Python whose working
directory is the ComfyUI root (so ComfyUI's own top-level modules resolve exactly as when ComfyUI runs itself). It
is never imported as part of the pack: ComfyUI loads the pack from ``<base>/custom_nodes/draw-to-video``, so each
module of the pack exists once in the process ("one import name per process").

Protocol: reads a JSON job ``{"prompt": API_GRAPH, "outputs": [node ids] | null}`` from the file given by
``--job``; writes one JSON line per event to stdout (``{"event": "progress", ...}``), and a last line
``{"event": "result", "ok": bool, "outputs": {...}, "error": str | null}``. ComfyUI's own logging goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

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

    for root in ns.model_root:
        for name in ("checkpoints", "vae", "clip_vision", "upscale_models", "depth", "interpolation", "luts"):
            folder_paths.add_model_folder_path(name, f"{root}/{name}")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ps = server.PromptServer(loop)

    def send_sync(event, data, sid=None):
        if event in ("progress", "executing", "execution_error", "execution_interrupted", "executed"):
            if isinstance(data, dict):
                _emit(event, **{k: v for k, v in data.items() if k in ("value", "max", "node", "exception_message",
                                                                      "node_type", "exception_type")})

    ps.send_sync = send_sync  # type: ignore[method-assign]
    loop.run_until_complete(nodes.init_extra_nodes(init_custom_nodes=True, init_api_nodes=False))
    comfy_main.hijack_progress(ps)

    with open(ns.job, encoding="utf-8") as fh:
        job = json.load(fh)
    prompt = job["prompt"]
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


if __name__ == "__main__":
    sys.exit(main())
