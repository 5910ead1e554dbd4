"""Shared helper for benchmark scripts: print a table and append it to BENCHMARKS.md.

Every benchmark states its reference; figures are given as a ratio against it where one exists.
Usage from a script in ``bench/``::

    from report import append_section  # scripts are run as ``python bench/<name>.py``
    append_section("Intent accuracy", ["class", "n", "accuracy"], rows, reference="...", notes="...")
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections.abc import Sequence
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine() -> str:
    """One line naming the machine the figures were measured on."""
    try:
        import torch

        dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
        tv = f"torch {torch.__version__}, {dev}"
    except ImportError:  # pragma: no cover - torch is a hard dependency of the pack
        tv = "no torch"
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, {tv}"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def append_section(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    reference: str,
    notes: str = "",
    path: Path = BENCHMARKS_MD,
) -> str:
    """Print the table and append it, dated and with the machine named, to BENCHMARKS.md."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"\n## {title} ({stamp})\n\nMachine: {machine()}.  \nReference: {reference}\n\n{table(header, rows)}\n"
    if notes:
        text += f"\n{notes}\n"
    print(text)
    if not path.exists():
        path.write_text("# Benchmarks\n\nAppended by the scripts in `bench/`; newest last. Ratios are against the reference "
                        "named in each section, measured in the same run.\n")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
    return text
