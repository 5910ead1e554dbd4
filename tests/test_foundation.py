"""The pack as ComfyUI sees it: it loads, its schemas are stable, its JS is served and registers in the browser."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib

from comfy_harness import REPO

SNAPSHOT = REPO / "tests" / "snapshots" / "object_info.json"
PREFIX = "DTV_"
COMFY_TOP_LEVEL = {"nodes", "utils", "server", "app", "execution", "folder_paths", "comfy", "comfy_extras",
                   "comfy_api", "comfy_execution", "main", "latent_preview", "node_helpers", "protocol", "middleware",
                   "api_server", "comfy_config", "comfyui_version", "cuda_malloc", "new_updater"}


def _schema_view(info: dict) -> dict:
    """The part of /object_info that the snapshot pins: ids, input names and types, outputs."""
    view = {}
    for node_id, spec in sorted(info.items()):
        if not node_id.startswith(PREFIX):
            continue
        inputs = {}
        for section in ("required", "optional"):
            for name, val in (spec.get("input", {}).get(section) or {}).items():
                typ = val[0]
                inputs[name] = {"section": section, "type": typ if isinstance(typ, str) else "COMBO"}
        view[node_id] = {
            "category": spec.get("category"),
            "inputs": inputs,
            "outputs": list(zip(spec.get("output", []), spec.get("output_name", []))),
            "output_node": spec.get("output_node", False),
        }
    return json.loads(json.dumps(view))


def test_pack_loads_and_matches_schema_snapshot(comfy):
    info = comfy.client().get_json("/object_info")
    view = _schema_view(info)
    assert view, "no DTV_ node was registered: the pack failed to load (see the server log)"
    if os.environ.get("DTV_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(view, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert view == expected, ("node schemas changed; if on purpose, re-run with DTV_UPDATE_SNAPSHOT=1 and commit "
                              "tests/snapshots/object_info.json")
    log = comfy.log.read_text(encoding="utf-8")
    assert not [ln for ln in log.splitlines() if "Cannot import" in ln and "draw-to-video" in ln]


def test_every_node_has_description_and_every_input_a_tooltip(comfy):
    info = comfy.client().get_json("/object_info")
    ours = {k: v for k, v in info.items() if k.startswith(PREFIX)}
    assert ours
    for node_id, spec in ours.items():
        assert spec.get("description"), f"{node_id} has no description"
        for section in ("required", "optional"):
            for name, val in (spec.get("input", {}).get(section) or {}).items():
                opts = val[1] if len(val) > 1 else {}
                assert opts.get("tooltip"), f"{node_id}.{name} has no tooltip"


def test_js_is_served(comfy):
    client = comfy.client()
    listed = client.get_json("/extensions")
    ours = [p for p in listed if p.startswith("/extensions/draw-to-video/")]
    assert "/extensions/draw-to-video/draw_to_video.js" in ours
    status, body = client.request("GET", "/extensions/draw-to-video/draw_to_video.js")
    assert status == 200 and b"registerExtension" in body


def test_extension_registers_in_real_browser(app_page, output_dir):
    names = app_page.evaluate("() => window.app.extensions.map(e => e.name)")
    assert "DrawToVideo.Core" in names
    # a pack node can be created in the real frontend
    created = app_page.evaluate("""() => { const n = LiteGraph.createNode('DTV_PackInfo'); app.graph.add(n);
                                          return n ? n.type : null; }""")
    assert created == "DTV_PackInfo"
    app_page.screenshot(path=str(output_dir / "frontend_loaded.png"))
    assert not app_page.page_errors, app_page.page_errors


def test_root_init_exports_entrypoint_only():
    tree = ast.parse((REPO / "__init__.py").read_text(encoding="utf-8"))
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    funcs = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert "comfy_entrypoint" in funcs and "WEB_DIRECTORY" in names
    assert "NODE_CLASS_MAPPINGS" not in names, "NODE_CLASS_MAPPINGS would hide the V3 entrypoint"


def test_pure_libraries_never_import_comfyui():
    bad = re.compile(r"^\s*(import|from)\s+(comfy\w*|folder_paths|server|nodes|execution)\b", re.M)
    for lib in ("trajectory", "effects"):
        for py in (REPO / lib).rglob("*.py"):
            assert not bad.search(py.read_text(encoding="utf-8")), f"{py} imports ComfyUI"


def test_no_sys_path_edits_and_no_shadowing():
    for py in REPO.glob("*/**/*.py"):
        if any(part.startswith(".") for part in py.relative_to(REPO).parts):
            continue
        text = py.read_text(encoding="utf-8")
        assert not re.search(r"sys\.path\.(insert|append)|sys\.path\s*\+?=", text), f"{py} edits sys.path"
    top = {p.stem for p in REPO.iterdir() if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    # these folders are reached as draw_to_video.<name> only; none may share a name with ComfyUI's top level
    # except `nodes`, which the layout fixes and which is only ever imported relatively
    assert top & COMFY_TOP_LEVEL <= {"nodes"}, top & COMFY_TOP_LEVEL


def test_pyproject_packaging():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "draw-to-video" and meta["project"]["license"]
    assert not any(d.split("[")[0].strip().lower().startswith(("torch", "torchvision"))
                   for d in meta["project"]["dependencies"]), "never pin torch"
    comfy = meta["tool"]["comfy"]
    assert comfy["PublisherId"] and comfy["DisplayName"] and "0.3.75" in comfy["requires-comfyui"]
    assert meta["project"]["scripts"]["draw-to-video"] == "draw_to_video.cli:main"


def test_installed_import_name_does_not_put_repo_on_sys_path():
    code = ("import sys, draw_to_video.trajectory.conventions as c, draw_to_video.cli; "
            f"assert {str(REPO)!r} not in sys.path; print(c.CONVENTION)")
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "opencv"
    assert Path(__import__("draw_to_video").__file__).resolve() == REPO / "__init__.py"
