"""Generate the node reference from the live schemas (GET /object_info), so it cannot drift from the code:

* ``web/docs/<node_id>.md``: the help page the ComfyUI frontend shows for each node;
* the table between the ``<!-- nodes:begin -->`` / ``<!-- nodes:end -->`` markers in ``README.md``.

``.venv/bin/python scripts/node_docs.py`` starts a test server, reads /object_info and writes both;
``tests/test_docs.py`` fails when either is stale.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "web" / "docs"
README = REPO / "README.md"
BEGIN, END = "<!-- nodes:begin -->", "<!-- nodes:end -->"
PREFIX = "DTV_"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _inputs(spec: dict) -> list[tuple[str, str, str, object, str]]:
    rows = []
    for section in ("required", "optional"):
        for name, val in (spec.get("input", {}).get(section) or {}).items():
            typ = val[0] if isinstance(val[0], str) else "COMBO"
            opts = val[1] if len(val) > 1 and isinstance(val[1], dict) else {}
            rows.append((name, typ, section, opts.get("default", ""), opts.get("tooltip", "")))
    return rows


def help_page(node_id: str, spec: dict) -> str:
    lines = [f"# {spec.get('display_name') or node_id}", "", f"`{node_id}` · category `{spec.get('category')}`", "",
             spec.get("description", ""), "", "## Inputs", "", "| input | type | default | what it is |",
             "|---|---|---|---|"]
    for name, typ, section, default, tip in _inputs(spec):
        opt = " (optional)" if section == "optional" else ""
        shown = default if typ not in ("STRING",) or len(str(default)) < 40 else "(see the node)"
        lines.append(f"| `{name}`{opt} | {typ} | {_cell(shown)} | {_cell(tip)} |")
    lines += ["", "## Outputs", "", "| output | type |", "|---|---|"]
    for typ, name in zip(spec.get("output", []), spec.get("output_name", [])):
        lines.append(f"| `{name}` | {typ} |")
    return "\n".join(lines) + "\n"


def readme_table(info: dict) -> str:
    lines = [BEGIN, "", "| node | id | what it does |", "|---|---|---|"]
    for node_id, spec in sorted(info.items(), key=lambda kv: (kv[1].get("category", ""), kv[0])):
        desc = spec.get("description", "").split(". ")[0].rstrip(".") + "."
        lines.append(f"| {_cell(spec.get('display_name') or node_id)} | `{node_id}` | {_cell(desc)} |")
    return "\n".join(lines + ["", END])


def ours(info: dict) -> dict:
    return {k: v for k, v in info.items() if k.startswith(PREFIX)}


def expected_files(info: dict) -> dict[Path, str]:
    """Every generated file and its content; README gets its table spliced in."""
    info = ours(info)
    files = {DOCS / f"{k}.md": help_page(k, v) for k, v in info.items()}
    text = README.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        files[README] = head + readme_table(info) + tail
    return files


def main() -> None:
    spec = importlib.util.spec_from_file_location("comfy_harness", REPO / "tests" / "comfy_harness.py")
    harness = importlib.util.module_from_spec(spec)
    sys.modules["comfy_harness"] = harness
    spec.loader.exec_module(harness)  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as tmp:
        srv = harness.start_server(Path(tmp))
        try:
            info = srv.client().get_json("/object_info")
        finally:
            srv.stop()
    DOCS.mkdir(parents=True, exist_ok=True)
    for stale in DOCS.glob(f"{PREFIX}*.md"):
        stale.unlink()
    for path, content in expected_files(info).items():
        path.write_text(content, encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
