"""The node reference (help pages and README table) is generated from the live schemas and must not be stale."""

from __future__ import annotations

import runpy

from comfy_harness import REPO

DOCS = runpy.run_path(str(REPO / "scripts" / "node_docs.py"))


def test_help_pages_and_readme_table_match_live_schemas(comfy):
    info = comfy.client().get_json("/object_info")
    expected = DOCS["expected_files"](info)
    ours = DOCS["ours"](info)
    assert len(expected) == len(ours) + 1  # one page per node, plus README
    stale = [str(p.relative_to(REPO)) for p, text in expected.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"run .venv/bin/python scripts/node_docs.py; stale: {stale}"
    pages = {p.stem for p in (REPO / "web" / "docs").glob("DTV_*.md")}
    assert pages == set(ours), "help pages for nodes that no longer exist"


def test_help_page_is_served_where_the_frontend_looks(comfy):
    client = comfy.client()
    info = client.get_json("/object_info")["DTV_CameraTrajectory"]
    assert info["python_module"] == "custom_nodes.draw-to-video"
    status, body = client.request("GET", "/extensions/draw-to-video/docs/DTV_CameraTrajectory.md")
    assert status == 200 and body.startswith(b"# Draw to Video: camera trajectory")
