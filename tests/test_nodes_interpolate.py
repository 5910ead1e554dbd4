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


#: The shared model cache (nodes/models.py) in a fresh ComfyUI process on the CPU: same object twice, one entry per
#: dtype, and after a node run ComfyUI's model management holds the model and offloads it to its offload device.
CACHE_CODE = r'''
import json, os, sys
import comfy.cli_args
comfy.cli_args.args.cpu = True
import utils.install_util  # noqa: F401
import torch
import comfy.model_management as mm
import folder_paths
from draw_to_video.nodes import interpolate, models, register

register()
folder_paths.add_model_folder_path("interpolation", os.path.dirname(sys.argv[1]))
name = os.path.basename(sys.argv[1])
loads = []
real_load = mm.load_models_gpu
mm.load_models_gpu = lambda ms, *a, **k: (loads.append(ms), real_load(ms, *a, **k))[1]
rep = {}
a = interpolate.load_cached(name, "auto")
rep["same_twice"] = interpolate.load_cached(name, "fp32") is a  # auto is fp32 on the CPU: one entry
path = folder_paths.get_full_path("interpolation", name)
b = models.cached("rife", path, torch.bfloat16, torch.device("cpu"), os.path.getmtime(path),
                  lambda: interpolate._load_rife(path, torch.bfloat16, torch.device("cpu")))
rep["bf16_other_entry"] = b is not a and b.value.dtype == torch.bfloat16 and a.value.dtype == torch.float32
rep["entries"] = len(models._CACHE)
managed = interpolate.RIFELoader.execute(name, "auto").args[0]
rep["loader_gives_cached"] = managed is a
rep["loaded_before_run"] = any(lm.model is a.patcher for lm in mm.current_loaded_models)
with torch.inference_mode():
    out = interpolate.Interpolate.execute(torch.rand(2, 64, 96, 3), 2, 24.0, 0.0, "rife", 1.01, rife_model=managed)
rep["frames"] = out.args[0].shape[0]
rep["use_called"] = [m is a.patcher for ms in loads for m in ms]
rep["held_after_run"] = any(lm.model is a.patcher for lm in mm.current_loaded_models)
rep["loaded_bytes"] = a.patcher.loaded_size()
rep["offload_is_comfy_offload"] = a.patcher.offload_device == mm.unet_offload_device()
mm.unload_all_models()  # what ComfyUI does when memory is needed elsewhere ("Unload models", POST /free)
rep["held_after_unload"] = any(lm.model is a.patcher for lm in mm.current_loaded_models)
rep["loaded_bytes_after_unload"] = a.patcher.loaded_size()
rep["param_devices"] = sorted({str(p.device) for p in a.value.net.parameters()})
rep["offload_device"] = str(a.patcher.offload_device)
rep["rule"] = {f"{p}@{d}": str(models.resolve_dtype(p, torch.device(d))).removeprefix("torch.")
               for p in models.PRECISIONS for d in ("cpu", "cuda", "mps")}
print(json.dumps(rep))
'''


def test_model_cache_one_entry_per_dtype_and_comfy_offloads_after_use():
    import subprocess
    import sys

    from comfy_harness import REPO

    proc = subprocess.run([sys.executable, "-c", CACHE_CODE, str(ensure_rife_weights()["hdv3"])],
                          cwd=REPO / ".comfyui", capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rep["same_twice"] and rep["loader_gives_cached"], rep
    assert rep["bf16_other_entry"] and rep["entries"] == 2, rep
    assert rep["frames"] == 3 and rep["use_called"] == [True], rep  # the run went through load_models_gpu
    assert rep["held_after_run"] and rep["loaded_bytes"] > 0 and rep["offload_is_comfy_offload"], rep
    assert not rep["held_after_unload"] and rep["loaded_bytes_after_unload"] == 0, rep
    assert rep["param_devices"] == [rep["offload_device"]], rep
    # the one precision rule: auto = fp16 on CUDA, fp32 elsewhere; fp16 only on CUDA (fp32 elsewhere); bf16 anywhere
    half = {"auto@cuda": "float16", "fp16@cuda": "float16"} | {f"bf16@{d}": "bfloat16" for d in ("cpu", "cuda", "mps")}
    assert rep["rule"] == {k: half.get(k, "float32") for k in rep["rule"]}, rep["rule"]
