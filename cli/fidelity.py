"""``draw-to-video fidelity``: score a clip's actual camera motion against a trajectory file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import COMMANDS
from .io_util import read_text
from .media import read_clip


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fidelity", help=COMMANDS["fidelity"],
                       description="Estimate the camera motion of VIDEO (or a folder of frames) and compare it with "
                                   "TRAJECTORY.json: prints JSON with rot_err_deg, trans_dir_err_deg, focal_err (means; "
                                   "null when not measurable), n_frames and the degenerate frames.")
    p.add_argument("clip", type=Path, metavar="VIDEO|DIR", help="video file or directory of frames")
    p.add_argument("trajectory", type=Path, metavar="TRAJECTORY.json", help="the pack's trajectory JSON")
    p.add_argument("--per-frame", action="store_true", help="include the per-frame arrays")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..trajectory.camera.model import CameraTrajectory
    from ..trajectory.fidelity.report import score_clip, summary

    traj = CameraTrajectory.from_json(read_text(args.trajectory))
    frames, _ = read_clip(args.clip)
    report = score_clip(frames, traj)
    print(json.dumps(summary(report, per_frame=args.per_frame), allow_nan=False))
    return 0
