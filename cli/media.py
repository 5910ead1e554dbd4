"""Frames in and out for the CLI: a video file or a folder of images in; an H.264 video or lossless PNG frames out.

Outputs are written completely or not at all: a video goes to a temporary file that is renamed into place, PNG frames
go to a temporary folder whose files are moved into the target folder, only when :meth:`FrameWriter.commit` runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import CLIError

VIDEO_EXT = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def read_dir(path: Path) -> tuple[Iterator[np.ndarray], float | None]:
    """Frames (RGB uint8) of the image files in ``path``, sorted by name; all must share one size."""
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

    return frames(), None


def ffmpeg_reason(exc: BaseException, path: Path) -> str:
    """The one line of an ffmpeg failure that says why (its last stderr line, without the path), not its banner."""
    text = str(exc)
    lines = [ln.strip() for ln in text.split("=== stderr ===", 1)[-1].splitlines() if ln.strip()]
    banner = ("ffmpeg version", "built with", "configuration:", "lib", "Copyright")
    useful = [ln for ln in lines if not ln.startswith(banner)]
    reason = useful[-1] if useful and "=== stderr ===" in text else " ".join(text.split("=== stderr ===")[0].split())
    for prefix in (f"{path}:", f"{path.name}:"):
        reason = reason.removeprefix(prefix).strip()
    return reason[:160] or "ffmpeg could not open it"


def read_video(path: Path) -> tuple[Iterator[np.ndarray], float | None]:
    """Frames (RGB uint8) of a video file, streamed, and its frame rate when the file states one."""
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise CLIError(f"{path}: not a readable video ({ffmpeg_reason(exc, path)}); give a video file or a folder "
                       "of images") from None
    w, h = meta["size"]

    def frames() -> Iterator[np.ndarray]:
        try:
            for buf in reader:
                yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
        finally:
            reader.close()

    return frames(), float(meta.get("fps") or 0) or None


def read_frames(path: Path) -> tuple[Iterator[np.ndarray], float | None]:
    """A video file or a folder of images (see :func:`read_video`, :func:`read_dir`)."""
    if not path.exists():
        raise CLIError(f"{path}: no such file or directory")
    return read_dir(path) if path.is_dir() else read_video(path)


#: The most frames a whole-clip command (effects, fidelity) loads at once.
MAX_CLIP_FRAMES = 2000


def read_clip(path: Path, max_frames: int = MAX_CLIP_FRAMES) -> tuple[np.ndarray, float | None]:
    """The whole clip as ``uint8 [F,H,W,3]`` (for commands that need every frame at once) and its frame rate."""
    frames, fps = read_frames(path)
    stack = []
    for f in frames:
        stack.append(f)
        if len(stack) > max_frames:
            raise CLIError(f"{path}: more than {max_frames} frames; split the clip first")
    if not stack:
        raise CLIError(f"{path}: no frames")
    return np.stack(stack), fps


class FrameWriter:
    """PNG frames ``000000.png ...`` into a directory, or an H.264 video; atomic (see the module docstring)."""

    def __init__(self, out: Path, fps: float) -> None:
        self.out, self.fps, self.count, self._gen = out, fps, 0, None
        self.video = out.suffix.lower() in VIDEO_EXT
        if not self.video and out.exists() and not out.is_dir():
            raise CLIError(f"{out}: exists and is not a directory (give a video name like out.mp4 or a folder)")
        parent = out.parent if self.video else out.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))

    def write(self, frame: np.ndarray) -> None:
        if self.video:
            if self._gen is None:
                import imageio_ffmpeg

                h, w = frame.shape[:2]
                self._gen = imageio_ffmpeg.write_frames(str(self._tmp / f"video{self.out.suffix}"), (w, h),
                                                        fps=self.fps, codec="libx264", quality=9, macro_block_size=2,
                                                        ffmpeg_log_level="error")
                self._gen.send(None)
            self._gen.send(np.ascontiguousarray(frame))
        else:
            import cv2

            if not cv2.imwrite(str(self._tmp / f"{self.count:06d}.png"), frame[..., ::-1]):
                raise CLIError(f"{self.out}: cannot write PNG frames there")
        self.count += 1

    def commit(self) -> None:
        """Finish and move the result into place."""
        if self._gen is not None:
            self._gen.close()
            self._gen = None
        if self.video:
            os.replace(self._tmp / f"video{self.out.suffix}", self.out)
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            for f in sorted(self._tmp.iterdir()):
                os.replace(f, self.out / f.name)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def abort(self) -> None:
        """Drop everything written so far."""
        if self._gen is not None:
            try:
                self._gen.close()
            except Exception:  # noqa: BLE001  (ffmpeg may already be gone)
                pass
            self._gen = None
        shutil.rmtree(self._tmp, ignore_errors=True)
