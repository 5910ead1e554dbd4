"""``draw-to-video serve``: keep one ComfyUI with this pack running, so that ``render``/``demo --server URL`` skip
the boot (torch and ComfyUI's imports) and start rendering at once.

It runs ComfyUI's own ``main.py`` (the ComfyUI the CLI uses, see :mod:`draw_to_video.cli.host`) in the foreground
with a base folder holding only this pack, as ``render`` does, and that ComfyUI's ``models/`` folders. Stop it with
Ctrl-C. It listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from . import COMMANDS
from .host import MODEL_FOLDERS, PACK_DIR_NAME, PACK_ROOT, _cuda_available, find_comfyui, stop_child


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help=COMMANDS["serve"],
                       description="Run ComfyUI with this pack until Ctrl-C; then `render`/`demo --server URL` (or "
                                   "DTV_SERVER=URL) use it without booting ComfyUI each time.")
    p.add_argument("--port", type=int, default=8188, help="port to listen on (default: %(default)s)")
    p.add_argument("--listen", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--base-directory", type=Path, default=None,
                   help="ComfyUI base folder for input/ and output/ (default: a temporary one, removed on exit; "
                        "clients download their outputs as each render ends)")
    p.set_defaults(func=run)


def model_paths_yaml(root: Path) -> str:
    """An ``extra_model_paths.yaml`` naming ``root/models/<folder>`` for each of :data:`MODEL_FOLDERS`."""
    lines = ["draw_to_video:", f"  base_path: {root / 'models'}"] + [f"  {f}: {f}" for f in MODEL_FOLDERS]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port must be in 1..65535, got {args.port}")
    root = find_comfyui()
    with tempfile.TemporaryDirectory(prefix="dtv-serve-") as tmp:
        base = (args.base_directory or Path(tmp)).resolve()
        (base / "custom_nodes").mkdir(parents=True, exist_ok=True)
        link = base / "custom_nodes" / PACK_DIR_NAME
        if not link.exists():
            link.symlink_to(PACK_ROOT, target_is_directory=True)
        paths = Path(tmp) / "extra_model_paths.yaml"
        paths.write_text(model_paths_yaml(root), encoding="utf-8")
        cmd = [sys.executable, str(root / "main.py"), "--listen", args.listen, "--port", str(args.port),
               "--base-directory", str(base), "--extra-model-paths-config", str(paths), "--disable-api-nodes",
               "--database-url", "sqlite:///:memory:"] + ([] if _cuda_available() else ["--cpu"])
        print(f"draw-to-video serve: http://{args.listen}:{args.port} (Ctrl-C stops it)", file=sys.stderr)
        proc = subprocess.Popen(cmd, cwd=root)
        try:
            return proc.wait()
        finally:
            stop_child(proc)
