"""The CLI's error types: a user-facing error (one line, exit status 2) and a termination signal turned into an
exception, so that every ``finally`` and ``with`` on the way out runs (the ComfyUI child is stopped, temporary and
staging folders are removed) exactly as for Ctrl-C."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class CLIError(ValueError):
    """A user-facing error: bad input, a missing file, a failed run."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C (a KeyboardInterrupt) and exits with 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: The signals that stop a command cleanly, besides SIGINT (which Python already raises as KeyboardInterrupt).
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    for s in STOP_SIGNALS:  # a second signal must not interrupt the clean-up the first one started
        signal.signal(s, signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """While inside: SIGTERM and SIGHUP raise :class:`Terminated` in the main thread (no-op elsewhere)."""
    try:
        old = {s: signal.signal(s, _raise_terminated) for s in STOP_SIGNALS}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def os_error_text(exc: OSError) -> str:
    """One line for an OSError a user caused, naming the path and what to change instead of ``[Errno N]``."""
    path = exc.filename2 if exc.filename2 is not None else exc.filename
    if isinstance(exc, IsADirectoryError) and path is not None:
        return f"{path}: is a directory; give a file name there (or remove the directory)"
    if isinstance(exc, NotADirectoryError) and path is not None:
        return f"{path}: a part of the path is a file, not a directory"
    if isinstance(exc, PermissionError) and path is not None:
        return f"{path}: permission denied"
    if isinstance(exc, FileNotFoundError) and path is not None:
        return f"{path}: no such file or directory"
    if exc.strerror and path is not None:
        return f"{path}: {exc.strerror}"
    return " ".join(str(exc).split())
