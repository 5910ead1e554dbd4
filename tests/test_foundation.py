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


# -- wiring: nothing registers on import; the load hooks register once; no import cycles in nodes/ ----------------------
#: Imports every module of nodes/ in a fresh ComfyUI process (no pack loaded), then runs the pack's load hooks the
#: way ComfyUI 0.3.75 does (get_node_list only), the way later versions do (on_load first) and a second load.
REGISTER_CODE = r'''
import asyncio, importlib, json, pkgutil
import comfy.cli_args
comfy.cli_args.args.cpu = True
import utils.install_util  # noqa: F401  (before anything imports `nodes`)
import folder_paths, server
from aiohttp import web

class Instance:  # what the pack reads of PromptServer.instance
    routes = web.RouteTableDef()

server.PromptServer.instance = Instance()
def folders():
    return {k: [sorted(v[0]), sorted(v[1])] for k, v in folder_paths.folder_names_and_paths.items()}
def ours():
    return [[r.method, r.path] for r in Instance.routes if isinstance(r, web.RouteDef) and "draw_to_video" in r.path]
before = folders()
import draw_to_video.nodes as pack
names = sorted(m.name for m in pkgutil.iter_modules(pack.__path__))
for name in names:
    importlib.import_module(f"draw_to_video.nodes.{name}")
report = {"modules": names, "import_added": sorted(set(folders()) - set(before)),
          "import_changed": sorted(k for k in before if folders()[k] != before[k]), "import_routes": ours()}
asyncio.run(pack.DrawToVideoExtension().get_node_list())
report["after_get_node_list"] = ours()
ext = pack.DrawToVideoExtension()
asyncio.run(ext.on_load()); asyncio.run(ext.get_node_list())
report["after_reload"] = ours()
report["folders"] = {k: v for k, v in folders().items() if k in ("interpolation", "depth", "luts")}
report["models_dir"] = folder_paths.models_dir
print(json.dumps(report))
'''


def test_importing_nodes_registers_nothing_and_load_hooks_register_once():
    proc = subprocess.run([sys.executable, "-c", REGISTER_CODE], cwd=REPO / ".comfyui", capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"base", "routes", "strokes", "interpolate", "depth_estimator", "effects"} <= set(rep["modules"])
    assert rep["import_added"] == [] and rep["import_changed"] == [], "a nodes/ module registers a folder on import"
    assert rep["import_routes"] == [], "a nodes/ module registers a route on import"
    route = [["POST", "/draw_to_video/analyze"]]
    assert rep["after_get_node_list"] == route  # ComfyUI 0.3.75 calls get_node_list only
    assert rep["after_reload"] == route  # on_load + get_node_list again: still once
    models = rep["models_dir"]
    assert rep["folders"]["interpolation"][0] == [os.path.join(models, "interpolation")]
    assert {".pkl", ".pth", ".safetensors"} <= set(rep["folders"]["interpolation"][1])
    assert rep["folders"]["depth"] == [[os.path.join(models, "depth")], []]
    assert rep["folders"]["luts"] == [[os.path.join(models, "luts")], [".cube"]]


#: Modules of nodes/ that every node module may import: the shared glue. All others are node modules (a NODES list).
SHARED_NODE_MODULES = {"base", "inputs", "models", "rendering"}


def _node_imports() -> dict[str, set[str]]:
    """``module -> nodes/ modules it imports`` (relative imports ``from . import x`` / ``from .x import y``)."""
    graph: dict[str, set[str]] = {}
    names = {p.stem for p in (REPO / "nodes").glob("*.py")}
    for py in (REPO / "nodes").glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps |= {a.name for a in node.names}
        graph[py.stem] = deps & names
    return graph


def test_nodes_have_no_import_cycles_and_node_modules_import_only_shared_glue():
    graph = _node_imports()
    state: dict[str, int] = {}

    def visit(m: str, path: tuple[str, ...]) -> None:
        if state.get(m) == 1:
            raise AssertionError(f"import cycle in nodes/: {' -> '.join((*path, m))}")
        if state.get(m) != 2:
            state[m] = 1
            for d in sorted(graph[m]):
                visit(d, (*path, m))
            state[m] = 2

    for m in sorted(graph):
        visit(m, ())
    # the wiring (__init__) imports node modules; the shared glue imports only shared glue; node modules likewise
    bad = {(m, d) for m, deps in graph.items() if m != "__init__" for d in deps if d not in SHARED_NODE_MODULES}
    assert not bad, f"node modules importing other node modules: {sorted(bad)}"
