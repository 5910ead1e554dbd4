"""``draw-to-video demo``: render the bundled real photograph along the bundled stroke into an mp4.

It runs the no-weights pipeline (``assets/demo_workflow.json``: stroke -> intent -> camera trajectory -> depth-warp
render -> core CreateVideo/SaveVideo, the shipped 2.5D workflow with the photo's real depth in place of the prior) through the real ComfyUI executor. The scene is the
Middlebury motorcycle with its ground-truth depth, so the parallax is real; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from . import COMMANDS
from .errors import CLIError
from .host import PACK_ROOT, run_prompt
from .workflow import load_api_workflow, patch

ASSETS = PACK_ROOT / "assets"
WORKFLOW = ASSETS / "demo_workflow.json"  # written by scripts/workflow_specs.py


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help=COMMANDS["demo"],
                       description="Render the bundled real photograph (with its real depth) along the bundled "
                                   "stroke through the real ComfyUI executor into an mp4, and print the mp4's path.")
    p.add_argument("--out", type=Path, default=Path("out/demo.mp4"), help="where to write the mp4 (default: %(default)s)")
    p.add_argument("--preset", default="auto", help="camera preset (default: auto = from the stroke's intent)")
    p.add_argument("--frames", type=int, default=49, help="number of frames (default: %(default)s)")
    p.add_argument("--verbose", action="store_true", help="show ComfyUI's log")
    p.add_argument("--server", default=os.environ.get("DTV_SERVER") or None, metavar="URL",
                   help="run on this running ComfyUI (with the pack installed; see `draw-to-video serve`) instead "
                        "of booting one: no start-up wait (default: $DTV_SERVER, else boot one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.frames < 2 or args.frames > 241:
        raise ValueError(f"--frames must be in 2..241, got {args.frames}")
    # the workflow already holds the bundled stroke and the save prefix (scripts/workflow_specs.py writes it)
    graph = patch(load_api_workflow(str(WORKFLOW)), {"Camera trajectory": {"preset": args.preset,
                                                                           "frames": args.frames}})
    out: Path = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dtv-demo-", dir=out.parent) as tmp:
        result = run_prompt(graph, out_dir=Path(tmp), verbose=args.verbose, server=args.server,
                            inputs={"motorcycle.jpg": ASSETS / "motorcycle.jpg",
                                    "motorcycle_depth.png": ASSETS / "motorcycle_depth.png"})
        videos = [f for f in result.files if f.suffix == ".mp4"]
        if not videos:
            raise CLIError("the workflow produced no mp4")
        videos[0].replace(out)  # same folder: atomic
    print(out)
    return 0
