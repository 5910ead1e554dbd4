"""``draw-to-video interpolate``: make in-between frames of a video or an image sequence (RIFE or optical flow).

Input: a video file (read with imageio-ffmpeg) or a directory of image files (sorted by name). Output: a video file
(``.mp4``/``.mov``/``.mkv``/``.avi``/``.webm``, H.264 at high quality, ``x`` times the input frame rate) or a
directory of lossless PNG frames ``000000.png ...`` in order, the originals at every ``x``-th position. The clip is
processed in overlapping chunks, so long videos never sit in memory whole. It runs the pack's effects library
directly (no ComfyUI needed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import COMMANDS
from .errors import CLIError
from .media import FrameWriter, read_frames

#: Input frames per chunk (the last frame of a chunk starts the next one).
CHUNK = 16


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("interpolate", help=COMMANDS["interpolate"],
                       description="Interpolate a video or a folder of frames: --x 2 doubles the frame rate. RIFE "
                                   "with your weights (--rife-weights), else weight-free optical flow. Scene cuts are "
                                   "held, never blended.")
    p.add_argument("input", type=Path, help="video file or directory of image files (sorted by name)")
    p.add_argument("--x", type=int, default=2, help="frame-rate multiplier, 2..16 (default: %(default)s)")
    p.add_argument("--mode", choices=("auto", "rife", "flow"), default="auto",
                   help="auto = rife when --rife-weights is given, else flow (default: %(default)s)")
    p.add_argument("--rife-weights", type=Path, default=None, help="RIFE weights file (flownet.pkl, rife4xx.pth)")
    p.add_argument("--out", type=Path, required=True, help="output video file, or a directory for PNG frames")
    p.add_argument("--fps", type=float, default=None, help="input frame rate for a folder (default 24) or to override")
    p.add_argument("--scene-cut", type=float, default=None, help="scene-cut threshold 0..1 (above 1 = off)")
    p.add_argument("--scale", type=float, default=1.0, help="RIFE flow scale: 0.5 for high resolution (default 1.0)")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..effects.interpolation.frames import SCENE_CUT_THRESHOLD
    from ..effects.interpolation.rife import load_rife

    src: Path = args.input
    if not 1 <= args.x <= 16:
        raise CLIError(f"--x must be an integer in 1..16, got {args.x}")
    if args.mode == "rife" and args.rife_weights is None:
        raise CLIError("--mode rife needs --rife-weights FILE (flownet.pkl or rife*.pth); or use --mode flow")
    if args.fps is not None and not 0 < args.fps <= 1000:
        raise CLIError(f"--fps must be in (0, 1000], got {args.fps}")
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    rife = None
    if args.rife_weights is not None and args.mode != "flow":
        rife = load_rife(args.rife_weights, device)
    frames, fps = read_frames(src)
    fps = args.fps or fps or 24.0
    opts = {"mode": args.mode, "rife": rife, "scale": args.scale, "device": device,
            "scene_cut_threshold": SCENE_CUT_THRESHOLD if args.scene_cut is None else args.scene_cut}
    writer = FrameWriter(args.out, fps * args.x)
    n_in, prev = 0, None
    try:
        chunk: list[np.ndarray] = []
        for frame in frames:
            n_in += 1
            chunk.append(frame)
            if len(chunk) == CHUNK:
                prev = _flush(chunk, prev, writer, args.x, opts)
                chunk = []
        if chunk or prev is not None:
            _flush(chunk, prev, writer, args.x, opts, last=True)
        if n_in == 0:
            raise CLIError(f"{src}: no frames")
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    print(f"{n_in} frames -> {writer.count} frames ({'rife: ' + rife.spec.name if rife else 'flow'}) at {fps * args.x:g} "
          f"fps: {args.out}", file=sys.stderr)
    return 0


def _flush(chunk: list[np.ndarray], prev: np.ndarray | None, writer: FrameWriter, x: int, opts: dict,
           last: bool = False) -> np.ndarray | None:
    """Interpolate ``prev + chunk`` and write all but its last frame (which starts the next chunk) unless ``last``."""
    import torch

    from ..effects.interpolation.frames import interpolate

    seq = ([prev] if prev is not None else []) + chunk
    if not seq:
        return None
    clip = torch.from_numpy(np.stack(seq)).float().div_(255.0)
    out = interpolate(clip, x, **opts) if len(seq) > 1 else clip
    keep = out if last else out[:-1]
    data = (keep * 255.0).round_().clamp_(0, 255).to(torch.uint8).numpy()
    data[::x] = np.stack(seq)[: len(data[::x])]  # the originals, byte for byte
    for f in data:
        writer.write(f)
    return seq[-1]
