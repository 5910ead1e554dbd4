"""Small file helpers for the CLI: read text and stroke files with one-line errors, write atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..trajectory.stroke.format import StrokeError, StrokeSet, parse_strokes
from .errors import CLIError

MAX_TEXT_BYTES = 64 * 1024 * 1024


def read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise CLIError(f"{path}: larger than {MAX_TEXT_BYTES // (1024 * 1024)} MB")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not UTF-8 text") from None


def relabel(message: str, where: str) -> str:
    """A stroke parser message (``"body: what"`` or ``"strokes[0]: what"``) said of ``where`` instead of the
    parser's generic ``body``."""
    return f"{where}: {message.removeprefix('body: ')}" if message.startswith("body: ") else f"{where}: {message}"


def read_strokes(path: Path) -> StrokeSet:
    """The stroke set of a stroke JSON file; a bad file raises CLIError naming the file once."""
    try:
        return parse_strokes(read_text(path))
    except StrokeError as exc:
        raise CLIError(relabel(str(exc), str(path))) from None


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` completely or not at all (temp file in the same folder, then rename). The file
    gets the mode any new file would (0666 less the umask), not mkstemp's private 0600."""
    if path.is_dir():
        raise CLIError(f"{path}: is a directory; give a file name (e.g. {path / 'out.json'})")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
