"""Shipped API-format workflows: find them by name and patch their inputs by node title.

An override is ``{"<node title>": {"<input name>": value}}``; titles are the ``_meta.title`` of the API graph
(what the UI shows on the node). Unknown titles or inputs are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path

from .errors import CLIError
from .host import PACK_ROOT

API_DIR = PACK_ROOT / "workflows" / "api"


def workflow_names() -> list[str]:
    return sorted(p.stem for p in API_DIR.glob("*.json"))


def load_api_workflow(name_or_path: str) -> dict:
    """A shipped API workflow by name (``workflows/api/<name>.json``) or any API-format JSON file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = API_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise CLIError(f"no workflow {name_or_path!r}; shipped: {', '.join(workflow_names()) or 'none'}")
    try:
        graph = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CLIError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(graph, dict) or not all(isinstance(v, dict) and "class_type" in v for v in graph.values()):
        raise CLIError(f"{path}: not an API-format workflow (export it with 'Export (API)' in ComfyUI)")
    return graph


def nodes_by_title(graph: Mapping[str, Mapping]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for node_id, node in graph.items():
        title = node.get("_meta", {}).get("title") or node["class_type"]
        titles.setdefault(title, node_id)
    return titles


def patch(graph: Mapping[str, Mapping], overrides: Mapping[str, Mapping[str, object]]) -> dict:
    """A copy of ``graph`` with ``overrides`` applied by node title (see module docstring)."""
    out = copy.deepcopy(dict(graph))
    titles = nodes_by_title(out)
    for title, values in overrides.items():
        if title not in titles:
            raise CLIError(f"no node titled {title!r} in the workflow; titles: {', '.join(sorted(titles))}")
        inputs = out[titles[title]]["inputs"]
        for key, value in values.items():
            if key not in inputs:
                raise CLIError(f"node {title!r} has no input {key!r}; inputs: {', '.join(sorted(inputs))}")
            if isinstance(inputs[key], list) and not isinstance(value, list):
                raise CLIError(f"input {title}.{key} is a link; it cannot be overridden with a value")
            inputs[key] = value
    return out


def new_node_id(graph: Mapping[str, object]) -> str:
    """An id no node of ``graph`` has (one past the largest numeric id)."""
    return str(max((int(k) for k in graph if k.isdigit()), default=0) + 1)


def use_depth_map(graph: Mapping[str, Mapping], filename: str = "depth.png") -> dict:
    """A copy of ``graph`` that reads depth from an image file: a node titled "Depth map" gets ``filename``; a
    workflow with only an approximate "Depth" node (the prior) gets it replaced by DTV_DepthFromImage fed by a new
    LoadImage titled "Depth map" (bright = near, as depth nodes write it)."""
    out = copy.deepcopy(dict(graph))
    titles = nodes_by_title(out)
    if "Depth map" in titles:
        out[titles["Depth map"]]["inputs"]["image"] = filename
        return out
    if "Depth" not in titles:
        raise CLIError("a depth map needs a workflow with a node titled 'Depth map' or 'Depth'")
    load = new_node_id(out)
    out[load] = {"class_type": "LoadImage", "inputs": {"image": filename}, "_meta": {"title": "Depth map"}}
    out[titles["Depth"]] = {"class_type": "DTV_DepthFromImage", "_meta": {"title": "Depth"},
                            "inputs": {"image": [load, 0], "kind": "inverse_depth", "near": 0.5, "far": 10.0}}
    return out
