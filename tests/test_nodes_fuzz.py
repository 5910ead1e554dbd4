"""Issue 17 over every DTV_ node from the real server's /object_info: any hostile widget value (strings with ``../``,
absolute paths and NUL for combos and text, NaN, inf and out-of-range numbers) is refused at /prompt with an HTTP
400 whose ``node_errors`` name the input, and no input of any node reads a file outside ComfyUI's folders."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draw_to_video.cli.client import ComfyError

from graphs import link

WIDGETS = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")
HOSTILE = ["../../../../etc/passwd", "/etc/passwd", "a\x00b", "", "..\\..\\boot.ini", "./../x.json", "nope",
           "C:\\Windows\\win.ini", "%2e%2e/%2e%2e/etc/passwd"]
#: Nodes whose validator takes only some inputs on purpose (ComfyUI repeats a validator's message once per input it
#: takes, and their "model not found" message must be said once); their other inputs are checked when they run.
NARROW = {"DTV_DepthEstimator": {"model"}}
CASES_PER_PROMPT = 25


def _spec(entry: list) -> tuple[str, dict]:
    """(kind, options) of one /object_info input entry, V1 list combos and V3 "COMBO" alike."""
    kind, opts = entry[0], (entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {})
    if isinstance(kind, list):
        return "COMBO", {**opts, "options": kind}
    return str(kind), opts


@pytest.fixture(scope="module")
def dtv_nodes(comfy_server) -> dict[str, dict[str, tuple[str, dict, bool]]]:
    """node id -> input name -> (kind, options, required) of every widget input of every DTV_ node."""
    info = comfy_server.client().object_info()
    nodes: dict[str, dict[str, tuple[str, dict, bool]]] = {}
    for node_id, node in info.items():
        if not node_id.startswith("DTV_"):
            continue
        widgets = {}
        for section in ("required", "optional"):
            for name, entry in node["input"].get(section, {}).items():
                kind, opts = _spec(entry)
                if kind in WIDGETS:
                    widgets[name] = (kind, opts, section == "required")
        nodes[node_id] = widgets
    assert len(nodes) >= 40, sorted(nodes)
    return nodes


def _default(kind: str, opts: dict) -> object:
    if "default" in opts:
        return opts["default"]
    if kind == "COMBO":
        return (opts.get("options") or [""])[0]
    if kind in ("INT", "FLOAT"):
        return opts.get("min", 0)
    return False if kind == "BOOLEAN" else ""


def _bad(kind: str, opts: dict, draw) -> object:
    if kind == "COMBO":
        options = opts.get("options") or []
        return draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=24)).filter(lambda v: v not in options))
    if kind == "STRING":
        return draw(st.sampled_from(HOSTILE[:3] + [""])) + "\x00" + draw(st.text(max_size=12))
    lo, hi = opts.get("min"), opts.get("max")
    choices: list[object] = [float("nan"), float("inf"), -float("inf")]
    if hi is not None and math.isfinite(hi) and hi < 2**53:
        over = draw(st.integers(1, 10**6)) if kind == "INT" else draw(st.floats(1e-3, 1e6))
        choices.append(hi + over)
    if lo is not None and math.isfinite(lo) and lo > -(2**53):
        under = draw(st.integers(1, 10**6)) if kind == "INT" else draw(st.floats(1e-3, 1e6))
        choices.append(lo - under)
    return draw(st.sampled_from(choices))


def _all_details(errors: list[dict]) -> str:
    return " | ".join(f"{e.get('details', '')} [{e.get('extra_info', {}).get('input_name', '')}]" for e in errors)


def _targets(nodes: dict, node_id: str) -> list[str]:
    """The inputs of a node that a case may make hostile (booleans take any value)."""
    return sorted(n for n, (k, _, _) in nodes[node_id].items()
                  if k != "BOOLEAN" and (node_id not in NARROW or n in NARROW[node_id]))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_every_node_refuses_hostile_widget_values_at_prompt(comfy, dtv_nodes, data):
    """10 prompts x 25 cases = 250 cases: each case is one DTV_ node with every widget at its default but one,
    which gets a hostile value; each must come back in node_errors naming that input, each message one line."""
    graph: dict = {}
    expect: dict[str, tuple[str, str, object]] = {}
    for i in range(CASES_PER_PROMPT):
        candidates = sorted(n for n in dtv_nodes if _targets(dtv_nodes, n))
        node_id = data.draw(st.sampled_from(candidates))
        widgets = dtv_nodes[node_id]
        allowed = _targets(dtv_nodes, node_id)
        target = data.draw(st.sampled_from(sorted(allowed)))
        kind, opts, _ = widgets[target]
        inputs = {n: _default(k, o) for n, (k, o, req) in widgets.items() if req}
        inputs[target] = _bad(kind, opts, data.draw)
        graph[f"c{i}"] = {"class_type": node_id, "inputs": inputs}
        graph[f"p{i}"] = {"class_type": "PreviewAny", "inputs": {"source": link(f"c{i}")}}
        expect[f"c{i}"] = (node_id, target, inputs[target])
    client = comfy.client()
    with pytest.raises(ComfyError) as err:
        client.queue(graph)
    assert err.value.status == 400, str(err.value)
    node_errors = err.value.details["node_errors"]
    for case, (node_id, target, value) in expect.items():
        assert case in node_errors, (node_id, target, value)
        errors = node_errors[case]["errors"]
        text = _all_details(errors)
        assert target in text, (node_id, target, value, text)
        assert all("\n" not in str(e.get("details", "")) for e in errors), (node_id, text)
        assert "Traceback" not in json.dumps(errors)
    assert client.get_json("/system_stats")


SECRET = "TOPSECRET-17-deadbeef"


def _tree(root: Path) -> set[str]:
    skip = ("output", "temp", "custom_nodes")
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.parts[len(root.parts)] not in skip and not p.name.startswith("server-")}


def test_no_node_input_reads_a_file_outside_comfyui(comfy, dtv_nodes, tmp_path_factory):
    """A secret planted outside ComfyUI's folders, named by every combo and text input of every DTV_ node
    (absolute, ``../``-relative, with and without the folder's extension): its content never shows in any answer,
    history entry or output, and nothing is created outside output/."""
    outside = tmp_path_factory.mktemp("outside17")
    secret_files = []
    for ext in (".json", ".cube", ".txt", ".pth", ".png"):
        f = outside / f"secret{ext}"
        f.write_text(f'{{"version": 1, "canvas": "{SECRET}"}}\n{SECRET} 0 0\n')
        secret_files.append(f)
    names = []
    for f in secret_files:
        rel = os.path.relpath(f, comfy.base / "input")
        names += [str(f), rel, "../" * 12 + str(f).lstrip("/")]
    before = _tree(comfy.base)
    client = comfy.client()
    answers: list[str] = []
    for node_id, widgets in sorted(dtv_nodes.items()):
        texts = [n for n, (k, _, _) in widgets.items() if k in ("STRING", "COMBO")]
        for target in texts:
            graph: dict = {}
            for j, name in enumerate(names):
                inputs = {n: _default(k, o) for n, (k, o, req) in widgets.items() if req}
                inputs[target] = name
                graph[f"c{j}"] = {"class_type": node_id, "inputs": inputs}
                graph[f"p{j}"] = {"class_type": "PreviewAny", "inputs": {"source": link(f"c{j}")}}
            try:
                finished = client.run(graph, timeout=120)
                answers.append(json.dumps(finished.outputs) + json.dumps(finished.status))
            except ComfyError as exc:
                answers.append(str(exc) + json.dumps(exc.details))
    assert len(answers) >= 20
    leaks = [a[:300] for a in answers if SECRET in a]
    assert not leaks, leaks
    assert SECRET not in json.dumps(client.get_json("/history"))
    for f in (comfy.base / "output").rglob("*"):
        if f.is_file():
            assert SECRET not in f.read_text(errors="replace"), f
    assert _tree(comfy.base) - before == set(), _tree(comfy.base) - before
    assert {p.name for p in outside.iterdir()} == {f.name for f in secret_files}


@pytest.mark.parametrize("node_id, name, value, fragment", [
    ("DTV_FallbackDepth", "subject_size", float("nan"), "subject_size must be a finite number"),
    ("DTV_Interpolate", "source_fps", float("nan"), "source_fps must be a finite number"),
    ("DTV_Interpolate", "target_fps", float("inf"), "target_fps must be a finite number"),
    ("DTV_LoadTrajectory", "fps", float("nan"), "fps must be a finite number"),
    ("DTV_LoadTrajectory", "fov_deg", float("nan"), "fov_deg must be a finite number"),
    ("DTV_StrokeInput", "preset", "../../etc/passwd", "preset: '../../etc/passwd' is not one of: auto"),
    ("DTV_ExportCameraCtrl", "pose_size", "huge", "pose_size: 'huge' is not one of:"),
    ("DTV_CameraTrajectory", "width", 10**9, "width must be in ["),
])
def test_the_issue_repros_are_refused_at_prompt(comfy, dtv_nodes, node_id, name, value, fragment):
    widgets = dtv_nodes[node_id]
    inputs = {n: _default(k, o) for n, (k, o, req) in widgets.items() if req}
    inputs[name] = value
    with pytest.raises(ComfyError) as err:
        comfy.client().queue({"c": {"class_type": node_id, "inputs": inputs},
                              "p": {"class_type": "PreviewAny", "inputs": {"source": link("c")}}})
    assert err.value.status == 400
    text = _all_details(err.value.details["node_errors"]["c"]["errors"])
    assert fragment in text and "\n" not in text, text
