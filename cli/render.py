"""``draw-to-video render``: an image + a stroke through a shipped workflow (default: the no-weights 2.5D one) in the
real ComfyUI executor, into a video or a folder of lossless PNG frames.

Overrides use node titles, exactly as batch jobs do: ``--set "Camera trajectory.strength=0.5"`` (the value is read as
JSON when it parses, else as text).

``--trajectory FILE`` (a RealEstate10K, MotionCtrl or pack trajectory file) replaces the workflow's "Camera trajectory"
node by ``DTV_FitTrajectory`` under the same title (fed by a ``DTV_LoadTrajectory`` titled "Trajectory file"), so the
film's camera move drives the render; ``--set "Camera trajectory.scale=0.5"`` and the other fit inputs then apply.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from . import COMMANDS
from .errors import CLIError
from .host import run_prompt
from .io_util import read_strokes, read_text
from .media import VIDEO_EXT
from .workflow import load_api_workflow, new_node_id, nodes_by_title, patch, use_depth_map

DEFAULT_WORKFLOW = "draw_to_video_2_5d"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help=COMMANDS["render"],
                       description="Render IMAGE along the stroke in STROKE.json through a shipped workflow in the "
                                   "real ComfyUI executor. A video path (.mp4) gets H.264; a directory gets lossless "
                                   "PNG frames. Without --depth the 2.5D workflow uses an approximate depth prior "
                                   "(it says so); give a depth map (bright = near) for real parallax.")
    p.add_argument("image", type=Path, help="the image to animate")
    p.add_argument("--stroke", type=Path, help="stroke JSON file (version 1); required unless --trajectory is given")
    p.add_argument("--trajectory", type=Path,
                   help="use this camera path instead of the stroke's: a RealEstate10K, MotionCtrl or pack trajectory "
                        "file, resampled to the frames and fps and scaled to the photo's depth (DTV_FitTrajectory)")
    p.add_argument("--depth", type=Path, help="depth map image, bright = near (as depth nodes write it)")
    p.add_argument("--preset", default=None, help="camera preset (default: the workflow's, auto = from the intent)")
    p.add_argument("--frames", type=int, default=None, help="number of frames (default: the workflow's)")
    p.add_argument("--size", type=int, default=None,
                   help="long side of the output in pixels (default: the workflow's); the image's aspect is kept")
    p.add_argument("--workflow", default=DEFAULT_WORKFLOW, help="shipped workflow name or API JSON file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="TITLE.INPUT=VALUE",
                   help="override any node input by node title (repeatable)")
    p.add_argument("--trajectory-out", type=Path, help="also write the camera trajectory JSON here")
    p.add_argument("--out", type=Path, required=True, help="output video (.mp4) or directory for PNG frames")
    p.add_argument("--verbose", action="store_true", help="show ComfyUI's log")
    p.add_argument("--server", default=os.environ.get("DTV_SERVER") or None, metavar="URL",
                   help="run on this running ComfyUI (with the pack installed; see `draw-to-video serve`) instead "
                        "of booting one: no start-up wait (default: $DTV_SERVER, else boot one)")
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, dict[str, object]]:
    """``["Title.input=value", ...]`` -> ``{"Title": {"input": value}}`` (value parsed as JSON when possible)."""
    out: dict[str, dict[str, object]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        title, dot, name = key.rpartition(".")
        if not sep or not dot or not title or not name:
            raise CLIError(f"--set expects TITLE.INPUT=VALUE, got {item!r}")
        try:
            value: object = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(title, {})[name] = value
    return out


def _source_of(graph: dict, class_type: str, input_name: str) -> list | None:
    for node in graph.values():
        if node["class_type"] == class_type and isinstance(node["inputs"].get(input_name), list):
            return node["inputs"][input_name]
    return None


def use_trajectory_file(graph: dict, text: str) -> dict:
    """A copy of ``graph`` whose "Camera trajectory" node is ``DTV_FitTrajectory`` (same id and title, so every link
    and override still finds it) fed by a new ``DTV_LoadTrajectory`` holding ``text`` (format detected)."""
    titles = nodes_by_title(graph)
    if "Camera trajectory" not in titles:
        raise CLIError("--trajectory needs a workflow with a node titled 'Camera trajectory'")
    out = json.loads(json.dumps(graph))
    node_id = titles["Camera trajectory"]
    old = out[node_id]["inputs"]
    load = new_node_id(out)
    out[load] = {"class_type": "DTV_LoadTrajectory", "_meta": {"title": "Trajectory file"},
                 "inputs": {"text": text, "format": "auto", "width": int(old.get("width", 1024)),
                            "height": int(old.get("height", 576)), "fps": float(old.get("fps", 24.0)),
                            "fov_deg": float(old.get("fov_deg", 50.0))}}
    fit = {"trajectory": [load, 0], "frames": old.get("frames", 49), "fps": old.get("fps", 24.0),
           "width": old.get("width", 1024), "height": old.get("height", 576), "timing": "source_clock",
           "scaling": "travel", "scale": 0.25, "keep_intrinsics": True, "fov_deg": old.get("fov_deg", 50.0),
           "strength_mode": "auto", "coverage_budget": old.get("coverage_budget", 0.03)}  # the workflow's budget
    if isinstance(old.get("depth"), list):
        fit["depth"] = old["depth"]
    out[node_id] = {"class_type": "DTV_FitTrajectory", "_meta": {"title": "Camera trajectory"}, "inputs": fit}
    return out


def run(args: argparse.Namespace) -> int:
    from PIL import Image


    if not args.image.is_file():
        raise CLIError(f"{args.image}: no such file")
    if args.depth is not None and not args.depth.is_file():
        raise CLIError(f"{args.depth}: no such file")
    if args.stroke is None and args.trajectory is None:
        raise CLIError("give --stroke (a drawn path) or --trajectory (a camera path file)")
    if args.trajectory is not None and args.preset is not None:
        raise CLIError("--preset shapes a stroke's camera; it does not apply to --trajectory")
    strokes = read_strokes(args.stroke) if args.stroke is not None else None
    try:
        with Image.open(args.image) as im:
            iw, ih = im.size
    except OSError:
        raise CLIError(f"{args.image}: not an image") from None
    graph = load_api_workflow(args.workflow)
    if args.trajectory is not None:
        graph = use_trajectory_file(graph, read_text(args.trajectory))
        if strokes is None:  # the preview would draw the workflow's sample stroke
            for node in graph.values():
                if node["class_type"] == "DTV_TrajectoryPreview":
                    node["inputs"].pop("strokes", None)
    titles = nodes_by_title(graph)
    over: dict[str, dict[str, object]] = {"Image": {"image": "input" + args.image.suffix.lower()}}
    if strokes is not None:
        over["Stroke"] = {"strokes": strokes.to_json()}
    traj = over.setdefault("Camera trajectory", {})
    if args.preset is not None:
        traj["preset"] = args.preset
    if args.frames is not None:
        traj["frames"] = args.frames
    if "Camera trajectory" in titles:
        node = graph[titles["Camera trajectory"]]["inputs"]
        side = args.size or max(int(node["width"]), int(node["height"]))
        scale = side / max(iw, ih)
        traj["width"], traj["height"] = (max(16, round(iw * scale / 8) * 8), max(16, round(ih * scale / 8) * 8))
        if "size" in node:  # the CLI sizes the frame itself (the photo's aspect at --size)
            traj["size"] = "width x height"
    for title, values in parse_overrides(args.overrides).items():
        over.setdefault(title, {}).update(values)
    graph = patch(graph, {t: v for t, v in over.items() if v})
    inputs = {"input" + args.image.suffix.lower(): args.image}
    if args.depth is not None:
        inputs["depth" + args.depth.suffix.lower()] = args.depth
        graph = use_depth_map(graph, "depth" + args.depth.suffix.lower())
    frames_src = _source_of(graph, "CreateVideo", "images")
    to_dir = args.out.suffix.lower() not in VIDEO_EXT
    if to_dir:
        if frames_src is None:
            raise CLIError("the workflow has no CreateVideo node to take frames from")
        graph = {k: v for k, v in graph.items() if v["class_type"] not in ("CreateVideo", "SaveVideo")}
        graph[new_node_id(graph)] = {"class_type": "SaveImage", "_meta": {"title": "Frames"},
                                 "inputs": {"images": frames_src, "filename_prefix": "draw-to-video/frame"}}
    if args.trajectory_out is not None:
        if "Camera trajectory" not in titles:
            raise CLIError("--trajectory-out needs a node titled 'Camera trajectory'")
        graph[new_node_id(graph)] = {"class_type": "DTV_SaveTrajectory", "_meta": {"title": "Trajectory file"},
                                 "inputs": {"trajectory": [titles["Camera trajectory"], 0], "format": "json",
                                            "filename_prefix": "draw-to-video/trajectory"}}
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp:
        files = run_prompt(graph, out_dir=Path(tmp), inputs=inputs, verbose=args.verbose, server=args.server).files
        pngs = sorted(f for f in files if f.suffix == ".png" and f.name.startswith("frame"))
        videos = [f for f in files if f.suffix == ".mp4"]
        trajs = [f for f in files if f.name.startswith("trajectory") and f.suffix == ".json"]
        if to_dir:
            if not pngs:
                raise CLIError("the workflow produced no frames")
            staging = Path(tmp) / "frames"
            staging.mkdir()
            for i, f in enumerate(pngs):
                f.replace(staging / f"{i:06d}.png")
            if out.exists():
                shutil.rmtree(out) if out.is_dir() else out.unlink()
            staging.replace(out)
        else:
            if not videos:
                raise CLIError("the workflow produced no video")
            videos[0].replace(out)
        if args.trajectory_out is not None:
            args.trajectory_out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(trajs[0], args.trajectory_out)
    print(out)
    return 0
