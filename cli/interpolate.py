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
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import CLIError

VIDEO_EXT = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
#: Input frames per chunk (the last frame of a chunk starts the next one).
CHUNK = 16


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("interpolate", help="make in-between frames of a video or image folder (RIFE or optical flow)",
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


def _read_dir(path: Path) -> tuple[Iterator[np.ndarray], int, float | None]:
    import cv2

    files = sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_EXT and f.is_file())
    if not files:
        raise CLIError(f"{path}: no image files ({', '.join(sorted(IMAGE_EXT))}) in the directory")
    first = cv2.imread(str(files[0]), cv2.IMREAD_COLOR)
    if first is None:
        raise CLIError(f"{files[0]}: not a readable image")
    shape = first.shape

    def frames() -> Iterator[np.ndarray]:
        for f in files:
            img = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if img is None:
                raise CLIError(f"{f}: not a readable image")
            if img.shape != shape:
                raise CLIError(f"{f}: size {img.shape[1]}x{img.shape[0]} differs from the first frame's "
                               f"{shape[1]}x{shape[0]}")
            yield cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    return frames(), len(files), None


def _read_video(path: Path) -> tuple[Iterator[np.ndarray], int, float | None]:
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise CLIError(f"{path}: not a readable video ({' '.join(str(exc).split())[:160]})") from None
    w, h = meta["size"]

    def frames() -> Iterator[np.ndarray]:
        try:
            for buf in reader:
                yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
        finally:
            reader.close()

    return frames(), -1, float(meta.get("fps") or 0) or None


class _Writer:
    """PNG frames into a directory, or an H.264 video through imageio-ffmpeg."""

    def __init__(self, out: Path, fps: float) -> None:
        self.out, self.fps, self.count, self._gen = out, fps, 0, None
        self.video = out.suffix.lower() in VIDEO_EXT
        if self.video:
            out.parent.mkdir(parents=True, exist_ok=True)
        else:
            if out.exists() and not out.is_dir():
                raise CLIError(f"{out}: exists and is not a directory (give a video name like out.mp4 or a folder)")
            out.mkdir(parents=True, exist_ok=True)

    def write(self, frame: np.ndarray) -> None:
        if self.video:
            if self._gen is None:
                import imageio_ffmpeg

                h, w = frame.shape[:2]
                self._gen = imageio_ffmpeg.write_frames(str(self.out), (w, h), fps=self.fps, codec="libx264",
                                                        quality=9, macro_block_size=2, ffmpeg_log_level="error")
                self._gen.send(None)
            self._gen.send(np.ascontiguousarray(frame))
        else:
            import cv2

            if not cv2.imwrite(str(self.out / f"{self.count:06d}.png"), frame[..., ::-1]):
                raise CLIError(f"{self.out}: cannot write PNG frames there")
        self.count += 1

    def close(self) -> None:
        if self._gen is not None:
            self._gen.close()


def run(args: argparse.Namespace) -> int:
    import torch

    from ..effects.interpolate import SCENE_CUT_THRESHOLD
    from ..effects.rife import load_rife

    src: Path = args.input
    if not src.exists():
        raise CLIError(f"{src}: no such file or directory")
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
    frames, _, fps = _read_dir(src) if src.is_dir() else _read_video(src)
    fps = args.fps or fps or 24.0
    opts = {"mode": args.mode, "rife": rife, "scale": args.scale, "device": device,
            "scene_cut_threshold": SCENE_CUT_THRESHOLD if args.scene_cut is None else args.scene_cut}
    writer = _Writer(args.out, fps * args.x)
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
    finally:
        writer.close()
    if n_in == 0:
        raise CLIError(f"{src}: no frames")
    print(f"{n_in} frames -> {writer.count} frames ({'rife: ' + rife.spec.name if rife else 'flow'}) at {fps * args.x:g} "
          f"fps: {args.out}", file=sys.stderr)
    return 0


def _flush(chunk: list[np.ndarray], prev: np.ndarray | None, writer: _Writer, x: int, opts: dict,
           last: bool = False) -> np.ndarray | None:
    """Interpolate ``prev + chunk`` and write all but its last frame (which starts the next chunk) unless ``last``."""
    import torch

    from ..effects.interpolate import interpolate

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
