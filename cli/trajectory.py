"""``draw-to-video trajectory``: a stroke file (+ preset, optional depth) -> a trajectory file."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..trajectory.camera.build import ShotOptions, build_trajectory
from ..trajectory.camera.motion import EASINGS
from ..trajectory.camera.presets import PRESET_NAMES
from ..trajectory.poses.text import FORMATS, trajectory_to_text
from . import COMMANDS
from .errors import CLIError
from .io_util import read_strokes, write_atomic


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trajectory", help=COMMANDS["trajectory"],
                       description="Build the camera trajectory for a stroke file and write it as the pack's JSON, "
                                   "RealEstate10K pose text (CameraCtrl) or a MotionCtrl RT list.")
    p.add_argument("stroke", type=Path, metavar="STROKE.json", help="stroke JSON file (version 1)")
    p.add_argument("--preset", default="auto", choices=PRESET_NAMES, metavar="P",
                   help="camera preset; auto = from the stroke's intent (choices: %(choices)s)")
    p.add_argument("--frames", type=int, default=49, help="number of frames (default: %(default)s)")
    p.add_argument("--fps", type=float, default=24.0, help="frames per second (default: %(default)s)")
    p.add_argument("--width", type=int, default=1024, help="frame width in pixels (default: %(default)s)")
    p.add_argument("--height", type=int, default=576, help="frame height in pixels (default: %(default)s)")
    p.add_argument("--strength", type=float, default=1.0, help="amount of motion (default: %(default)s)")
    p.add_argument("--easing", default="ease_in_out", choices=list(EASINGS), help="timing curve")
    p.add_argument("--fov", type=float, default=50.0, help="vertical field of view in degrees (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of any shake (default: %(default)s)")
    p.add_argument("--depth", type=Path, help="depth map image (bright = near, as depth nodes write it)")
    p.add_argument("--depth-kind", default="inverse_depth", choices=["inverse_depth", "depth"],
                   help="inverse_depth: bright = near (default); depth: bright = far")
    p.add_argument("--format", default="json", choices=FORMATS, help="output format (default: %(default)s)")
    p.add_argument("--out", type=Path, required=True, help="output file")
    p.set_defaults(func=run)


def load_depth_image(path: Path, kind: str) -> np.ndarray:
    """A depth map image file -> depth ``[H,W]`` float64 in scene units (subject near 1)."""
    import cv2

    from ..trajectory.render.depth import depth_from_map  # torch: imported only when a depth map is given

    if not path.is_file():
        raise CLIError(f"{path}: no such file")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise CLIError(f"{path}: not an image OpenCV can read")
    if img.ndim == 3:
        img = img[..., :3].mean(axis=2)
    return depth_from_map(np.asarray(img, dtype=np.float32), kind)[0].numpy().astype(np.float64)


def run(args: argparse.Namespace) -> int:
    strokes = read_strokes(args.stroke)
    depth = load_depth_image(args.depth, args.depth_kind) if args.depth else None
    traj = build_trajectory(strokes,
                            ShotOptions(preset=args.preset, frames=args.frames, fps=args.fps, width=args.width,
                                        height=args.height, strength=args.strength, easing=args.easing,
                                        fov_deg=args.fov, seed=args.seed),
                            depth=depth)
    write_atomic(args.out, trajectory_to_text(traj, args.format))
    print(args.out)
    return 0
