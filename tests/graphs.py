"""Build small API-format graphs for the server tests."""

from __future__ import annotations

import json
from collections.abc import Mapping


def link(node: str, output: int = 0) -> list:
    return [node, output]


def preview_text(finished_outputs: Mapping[str, object], node: str) -> str:
    """The text a core PreviewAny node showed."""
    return "".join(finished_outputs[node]["text"])  # type: ignore[index]


def preview_json(finished_outputs: Mapping[str, object], node: str) -> object:
    return json.loads(preview_text(finished_outputs, node))
