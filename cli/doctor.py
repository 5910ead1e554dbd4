"""``draw-to-video doctor``: which ComfyUI, torch and device are used, and which optional models are present."""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from .. import __version__
from . import COMMANDS
from .host import PACK_ROOT, comfyui_version, find_comfyui

#: Model folders the pack reads (ComfyUI's ``models/<folder>``) and what it looks for in each.
MODEL_FOLDERS = {
    "checkpoints": "Stable Video Diffusion checkpoints (svd*.safetensors) for the camera-guided sampler",
    "depth": "Depth Anything models in Hugging Face format (one folder each)",
    "interpolation": "RIFE weights (flownet.pkl / rife*.pth)",
    "luts": ".cube colour LUTs",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help=COMMANDS["doctor"],
                       description="Report which ComfyUI the CLI uses (and its version), torch and the device, and "
                                   "which optional models it finds in ComfyUI's model folders.")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def _models(models_root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in MODEL_FOLDERS:
        d = models_root / folder
        names = sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []
        if folder == "checkpoints":
            names = [n for n in names if "svd" in n.lower()]
        found[folder] = names
    return found


def report() -> dict:
    root = find_comfyui()
    info: dict = {"draw_to_video": __version__, "pack": str(PACK_ROOT), "comfyui": str(root),
                  "comfyui_version": comfyui_version(root), "python": platform.python_version()}
    try:
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["device"] = f"cuda: {torch.cuda.get_device_name(0)}"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            info["device"] = "mps"
        else:
            info["device"] = "cpu"
    except ImportError:
        info["torch"] = None
        info["device"] = "none (torch is not installed)"
    info["models"] = _models(root / "models")
    return info


def run(args: argparse.Namespace) -> int:
    info = report()
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"draw-to-video {info['draw_to_video']} ({info['pack']})")
    print(f"ComfyUI {info['comfyui_version']} at {info['comfyui']}")
    print(f"Python {info['python']}, torch {info['torch']}, device {info['device']}")
    for folder, names in info["models"].items():
        shown = ", ".join(names) if names else "none"
        print(f"models/{folder}: {shown}  ({MODEL_FOLDERS[folder]})")
    return 0
