"""``draw-to-video effects``: apply a director look or one effect to a video or a folder of frames."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import COMMANDS
from .errors import CLIError
from .media import FrameWriter, read_clip


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..effects.registry import EFFECTS, LOOKS

    p = sub.add_parser("effects", help=COMMANDS["effects"],
                       description="Apply a director look (--look) or one effect (--effect with --param name=value "
                                   "pairs) to a video or a folder of frames. A video output is H.264; a folder gets "
                                   "lossless PNG frames. The same parameters as the effect nodes.")
    p.add_argument("input", type=Path, help="video file or directory of image files (sorted by name)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--look", choices=sorted(LOOKS), help="director look")
    what.add_argument("--effect", choices=sorted(EFFECTS), metavar="NAME",
                      help="one effect: " + ", ".join(sorted(EFFECTS)))
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="effect parameter (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of any randomness (default: %(default)s)")
    p.add_argument("--fps", type=float, default=None, help="frame rate for a folder input (default 24)")
    p.add_argument("--out", type=Path, required=True, help="output video file, or a directory for PNG frames")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..effects.params_text import parse_param_text
    from ..effects.registry import apply_effect, apply_look

    if args.look and args.param:
        raise CLIError("--param goes with --effect, not with --look")
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}")
    params = parse_param_text(args.effect, args.param) if args.effect else {}
    stack, fps = read_clip(args.input)
    clip = torch.from_numpy(stack).float().div_(255.0)
    out = apply_look(args.look, clip, args.seed) if args.look else apply_effect(args.effect, clip, params, args.seed)
    data = (out[..., :3] * 255.0).round_().clamp_(0, 255).to(torch.uint8).numpy()
    writer = FrameWriter(args.out, args.fps or fps or 24.0)
    try:
        for f in data:
            writer.write(f)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    print(args.out)
    return 0
