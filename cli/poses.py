"""``draw-to-video poses``: convert pose files between the pack's JSON, RealEstate10K text and MotionCtrl RT."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..trajectory.poses.text import FORMATS, READ_FORMATS, trajectory_from_text, trajectory_to_text
from . import COMMANDS
from .io_util import read_text, write_atomic


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("poses", help=COMMANDS["poses"],
                       description="Convert a camera path between the pack's trajectory JSON, RealEstate10K pose "
                                   "text (CameraCtrl; intrinsics normalised as in the file) and MotionCtrl's RT list. "
                                   "Nothing the input holds is dropped: poses stay in the file's world, and the "
                                   "timestamps, URL line and file name ride along in the trajectory JSON's meta. "
                                   "--width/--height/--fps/--fov fill in what the input format does not store.")
    p.add_argument("input", type=Path, metavar="IN", help="input pose file")
    p.add_argument("--from", dest="src", required=True, choices=READ_FORMATS,
                   help="input format (auto: a JSON object is the pack's JSON, a JSON list MotionCtrl, else re10k)")
    p.add_argument("--to", dest="dst", required=True, choices=FORMATS, help="output format")
    p.add_argument("--out", type=Path, required=True, help="output file")
    p.add_argument("--width", type=int, default=1024, help="frame width for re10k/motionctrl input (default: %(default)s)")
    p.add_argument("--height", type=int, default=576, help="frame height for re10k/motionctrl input (default: %(default)s)")
    p.add_argument("--fps", type=float, default=24.0,
                   help="frames per second if the input has no timestamps (default: %(default)s)")
    p.add_argument("--fov", type=float, default=50.0, help="vertical FOV for motionctrl input (default: %(default)s)")
    p.add_argument("--rebase", action="store_true",
                   help="re-express the poses relative to the first frame (the file's world is kept in meta)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    traj = trajectory_from_text(read_text(args.input), args.src, width=args.width, height=args.height,
                                fps=args.fps, fov_deg=args.fov, rebase=args.rebase, name=args.input.name)
    write_atomic(args.out, trajectory_to_text(traj, args.dst))
    print(args.out)
    return 0
