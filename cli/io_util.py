"""Small file helpers for the CLI: read text with one-line errors, write atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
        raise CLIError(f"{path}: is a directory") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not UTF-8 text") from None


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` completely or not at all (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
