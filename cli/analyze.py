"""``draw-to-video analyze``: the intent of stroke files, one JSON line each."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..trajectory.stroke.intent import analyze
from . import COMMANDS
from .errors import CLIError
from .io_util import read_strokes


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help=COMMANDS["analyze"],
                       description="Print one JSON line per stroke file: {\"file\", \"intent\", \"confidence\", "
                                   "...attributes}. A bad file prints a one-line error on stderr; the exit status "
                                   "is 2 if any file was bad.")
    p.add_argument("files", nargs="+", type=Path, metavar="STROKE.json", help="stroke JSON files (version 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            intent = analyze(read_strokes(path))
        except ValueError as exc:  # CLIError naming the file (read_strokes), or an analysis error
            msg = str(exc) if isinstance(exc, CLIError) else f"{path}: {exc}"
            print(f"draw-to-video analyze: error: {msg}", file=sys.stderr)
            status = 2
            continue
        print(json.dumps({"file": str(path), **intent.to_dict()}), flush=True)
    return status
