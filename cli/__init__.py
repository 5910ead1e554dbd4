"""The ``draw-to-video`` command line.

Every subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``. Only the
chosen subcommand's module is imported (several pull in torch), so ``--help`` and ``--version`` start at once: the
top-level parser lists :data:`COMMANDS`, and the chosen module then adds its own parser. Bad input ends with one
line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from .errors import CLIError, Terminated, os_error_text, stop_signals_raise

#: subcommand -> its one-line help (the subcommand's own parser uses the same line)
COMMANDS = {
    "doctor": "report the ComfyUI, torch, device and optional models in use",
    "demo": "render the bundled photo along a drawn path into an mp4 and print its path",
    "analyze": "classify stroke files (straight, arc, circle, spiral, zigzag, freeform)",
    "trajectory": "turn a stroke file into a camera trajectory file",
    "poses": "convert pose files between json, re10k and motionctrl",
    "interpolate": "make in-between frames of a video or image folder (RIFE or optical flow)",
    "effects": "apply a cinematic look or effect to a video or image folder",
    "render": "render an image along a drawn stroke through a workflow (default: 2.5D)",
    "fidelity": "score a clip's camera motion against a trajectory",
    "batch": "run a JSON Lines file of jobs across ComfyUI servers (resumable)",
    "serve": "keep a ComfyUI with this pack running, for render/demo --server (no boot per render)",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser for ``command`` (its module imported); every other subcommand is only listed."""
    parser = argparse.ArgumentParser(
        prog="draw-to-video",
        description="Draw a path on an image and get a cinematic camera-move video (a ComfyUI node pack).",
    )
    parser.add_argument("--version", action="version", version=f"draw-to-video {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, help_line in COMMANDS.items():
        if name == command:
            importlib.import_module(f".{name}", __name__).add_parser(sub)
        else:
            sub.add_parser(name, help=help_line)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option; the top level has no valued ones)."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(chosen_command(argv)).parse_args(argv)
    try:
        with stop_signals_raise():
            return int(args.func(args) or 0)
    except (CLIError, ValueError, OSError) as exc:
        if isinstance(exc, CLIError):
            msg = str(exc).strip()
        else:
            msg = os_error_text(exc) if isinstance(exc, OSError) else " ".join(str(exc).split())
        print(f"draw-to-video {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except Terminated as exc:
        print(f"draw-to-video {args.command}: stopped by {exc}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"draw-to-video {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
