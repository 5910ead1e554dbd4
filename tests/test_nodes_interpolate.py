"""The interpolation nodes through the real ComfyUI server: flow and RIFE interpolation, retiming, missing weights."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from draw_to_video.cli.client import ComfyError

from graphs import link, preview_text
from rife_weights import ensure_clips, ensure_rife_weights, read_clip


def _frames_graph(comfy, n: int = 3) -> dict:
    """LoadImage x n + ImageBatch chain of real frames (carphone, 176x144); the batch is node 'b{n-1}'."""
    import cv2

    frames = (read_clip(ensure_clips()["carphone"], 74, n) * 255).round().numpy().astype(np.uint8)
    graph: dict = {}
    for i, f in enumerate(frames):
        cv2.imwrite(str(comfy.base / "input" / f"dtv_interp_{i}.png"), f[..., ::-1])
        graph[f"l{i}"] = {"class_type": "LoadImage", "inputs": {"image": f"dtv_interp_{i}.png"}}
    graph["b0"] = {"class_type": "ImageBatch", "inputs": {"image1": link("l0"), "image2": link("l1")}}
    for i in range(2, n):
        graph[f"b{i - 1}"] = {"class_type": "ImageBatch", "inputs": {"image1": link(f"b{i - 2}"),
                                                                      "image2": link(f"l{i}")}}
    return graph


def _size(graph: dict, src: str, key: str) -> None:
    graph[f"s{key}"] = {"class_type": "GetImageSize", "inputs": {"image": link(src)}}
    graph[f"p{key}"] = {"class_type": "PreviewAny", "inputs": {"source": link(f"s{key}", 2)}}


def test_interpolate_and_retime_nodes(comfy):
    g = _frames_graph(comfy, 3)
    common = {"mode": "flow", "scene_cut_threshold": 0.25, "scale": "1.0", "ensemble": False, "fast": False}
    g["i"] = {"class_type": "DTV_Interpolate", "inputs": {"images": link("b1"), "multiplier": 3, "source_fps": 30.0,
                                                          "target_fps": 0.0, **common}}
    g["f"] = {"class_type": "PreviewAny", "inputs": {"source": link("i", 1)}}
    g["r"] = {"class_type": "DTV_Retime", "inputs": {"images": link("b1"), "curve": "0:0.5, 1:0.5", "fps": 30.0,
                                                     "strength": 1.0, **common}}
    _size(g, "i", "i")
    _size(g, "r", "r")
    out = comfy.client().run(g, timeout=300).outputs
    assert preview_text(out, "pi") == "7" and float(preview_text(out, "f")) == 90.0
    assert preview_text(out, "pr") == "6"


def test_rife_loader_and_auto_mode(comfy):
    dest = comfy.base / "models" / "interpolation"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ensure_rife_weights()["hdv3"], dest / "flownet.pkl")
    g = _frames_graph(comfy, 2)
    g["m"] = {"class_type": "DTV_RIFELoader", "inputs": {"model_name": "flownet.pkl", "precision": "auto"}}
    g["v"] = {"class_type": "PreviewAny", "inputs": {"source": link("m", 1)}}
    g["i"] = {"class_type": "DTV_Interpolate", "inputs": {
        "images": link("b0"), "multiplier": 4, "source_fps": 24.0, "target_fps": 0.0, "mode": "auto",
        "scene_cut_threshold": 0.25, "scale": "1.0", "ensemble": False, "fast": False, "rife_model": link("m")}}
    _size(g, "i", "i")
    out = comfy.client().run(g, timeout=300).outputs
    assert preview_text(out, "v") == "RIFE HDv3" and preview_text(out, "pi") == "5"


@pytest.mark.parametrize("name, fragment", [("nothere.pth", "models"), ("flownet.pkl", "precision")])
def test_missing_weights_rejected_at_validation(comfy, name, fragment):
    precision = "auto" if fragment == "models" else "fp8"
    g = {"m": {"class_type": "DTV_RIFELoader", "inputs": {"model_name": name, "precision": precision}},
         "v": {"class_type": "PreviewAny", "inputs": {"source": link("m", 1)}}}
    with pytest.raises(ComfyError) as err:
        comfy.client().queue(g)
    assert err.value.status == 400
    details = json.dumps(err.value.details)
    assert fragment in details
    if fragment == "models":
        assert "interpolation" in details  # says where to put the weights
    assert all("\n" not in e["details"] for e in err.value.details["node_errors"]["m"]["errors"])
