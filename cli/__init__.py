"""The ``draw-to-video`` command line.

Every subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``. Bad input
ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from .errors import CLIError

_COMMANDS = ("doctor", "demo", "analyze", "trajectory", "poses", "interpolate", "effects", "render", "fidelity", "batch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="draw-to-video",
        description="Draw a path on an image and get a cinematic camera-move video (a ComfyUI node pack).",
    )
    parser.add_argument("--version", action="version", version=f"draw-to-video {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import importlib

    for name in _COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    return parser




def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CLIError, ValueError, OSError) as exc:
        msg = " ".join(str(exc).split()) if not isinstance(exc, CLIError) else str(exc).strip()
        print(f"draw-to-video {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"draw-to-video {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
