"""The Depth Anything estimator node through the real ComfyUI server, with a tiny random model saved offline.

The reference the node is compared with is computed here, in-process, with transformers' own DPT image processor
(PIL resize + ImageNet normalisation) and the pure ``depth_from_map``; the node does its preprocessing in torch.
"""

from __future__ import annotations

import io as _io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from draw_to_video.cli.client import ComfyError, output_items
from draw_to_video.trajectory.render.depth import depth_from_map

from graphs import CLEAR_ERRORS, error_type, link, preview_text

H, W = 384, 512  # the astronaut photo, cropped: not square, so the aspect handling shows
NEAR, FAR = 0.5, 10.0
PROC = (518, 686)  # shorter side 518; 512 * 518 / 384 = 690.7 -> nearest multiple of 14


def _tiny_depth_anything():
    """A randomly initialised Depth Anything with a 4-layer, 32-wide DINOv2 backbone (160k parameters)."""
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, mlp_ratio=2, patch_size=14,
                            image_size=518, out_indices=[1, 2, 3, 4], reshape_hidden_states=False,
                            initializer_range=0.1)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16, 16, 32],
                                 fusion_hidden_size=16, head_hidden_size=8, initializer_range=0.1)
    torch.manual_seed(0)
    model = DepthAnythingForDepthEstimation(config).eval()
    with torch.no_grad():
        model.head.conv3.bias.fill_(1.0)  # keep the final ReLU mostly open: a varied, positive prediction
    return model


@pytest.fixture(scope="module")
def tiny_model(comfy_server):
    """The tiny model, saved as a Hugging Face folder in the server's models/depth/tiny-da (after start-up)."""
    model = _tiny_depth_anything()
    model.save_pretrained(comfy_server.base / "models" / "depth" / "tiny-da")
    return model


@pytest.fixture(scope="module")
def photo(comfy_server) -> str:
    import skimage.data

    buf = _io.BytesIO()
    Image.fromarray(skimage.data.astronaut()[:H, :W]).save(buf, format="PNG")
    return comfy_server.client().upload_image("dtv_depth_astronaut.png", buf.getvalue())


def _estimator(image: list, **kw) -> dict:
    inputs = {"image": image, "model": "tiny-da", "resolution": 518, "near": NEAR, "far": FAR, "precision": "auto"}
    return {"class_type": "DTV_DepthEstimator", "inputs": {**inputs, **kw}}


def _reference_preview(model) -> np.ndarray:
    """Preview (normalised inverse depth, bright = near) computed independently of the node's preprocessing."""
    import skimage.data
    from transformers import DPTImageProcessor

    proc = DPTImageProcessor(size={"height": PROC[0], "width": PROC[1]}, keep_aspect_ratio=False, resample=3,
                             image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    pixels = proc(images=skimage.data.astronaut()[:H, :W], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        pred = model(pixel_values=pixels).predicted_depth
    pred = F.interpolate(pred[:, None], size=(H, W), mode="bilinear", align_corners=False)[:, 0]
    inv = 1.0 / depth_from_map(pred, "inverse_depth", near=NEAR, far=FAR)[0].numpy()
    return (inv - inv.min()) / (inv.max() - inv.min())


def _saved(client, out: dict, node: str) -> list[np.ndarray]:
    return [np.asarray(Image.open(_io.BytesIO(client.view(i))).convert("L"), dtype=np.float64) / 255.0
            for i in output_items({node: out[node]})]


def _depth_range(info: str) -> tuple[float, float]:
    lo, hi = info.rsplit(" ", 1)[-1].split("..")
    return float(lo), float(hi)


def test_listing_picks_up_a_model_copied_in_after_start(comfy, tiny_model):
    options = comfy.client().object_info("DTV_DepthEstimator")["DTV_DepthEstimator"]["input"]["required"]["model"]
    assert "tiny-da" in json.dumps(options)


def test_batch_of_two_matches_the_reference_at_the_image_size(comfy, tiny_model, photo, output_dir):
    g = {"l": {"class_type": "LoadImage", "inputs": {"image": photo}},
         "r": {"class_type": "RepeatImageBatch", "inputs": {"image": link("l"), "amount": 2}},
         "d": _estimator(link("r")),
         "i": {"class_type": "PreviewAny", "inputs": {"source": link("d", 2)}},
         "m": {"class_type": "MaskToImage", "inputs": {"mask": link("d", 1)}},
         "s": {"class_type": "SaveImage", "inputs": {"images": link("m"), "filename_prefix": "dtv/depth_est"}}}
    client = comfy.client()
    out = client.run(g, timeout=300).outputs
    info = preview_text(out, "i")
    assert "float32 on cpu" in info and "inverse depth model" in info
    assert f"processed at {PROC[0]}x{PROC[1]}" in info and f"depth 2 x {H}x{W}" in info
    lo, hi = _depth_range(info)
    assert np.isfinite([lo, hi]).all() and NEAR - 1e-4 <= lo < 1.0 < hi <= FAR + 1e-3  # positive, in range, varied
    previews = _saved(client, out, "s")
    assert len(previews) == 2 and previews[0].shape == (H, W)
    assert np.array_equal(previews[0], previews[1])  # batch items are independent of their neighbours
    ref = _reference_preview(tiny_model)
    Image.fromarray((ref * 255).astype(np.uint8)).save(output_dir / "depth_estimator_reference.png")
    Image.fromarray((previews[0] * 255).astype(np.uint8)).save(output_dir / "depth_estimator_node.png")
    assert ref.std() > 0.05  # the tiny model's prediction has structure to compare
    assert np.corrcoef(previews[0].ravel(), ref.ravel())[0, 1] > 0.995
    assert np.abs(previews[0] - ref).mean() < 0.012


def test_precision_on_the_cpu(comfy, tiny_model, photo):
    g = {"l": {"class_type": "LoadImage", "inputs": {"image": photo}},
         "s": {"class_type": "ImageScale", "inputs": {"image": link("l"), "upscale_method": "area", "width": 128,
                                                      "height": 96, "crop": "disabled"}}}
    for p in ("fp32", "fp16", "bf16"):
        g[p] = _estimator(link("s"), precision=p, resolution=140)
        g[f"i{p}"] = {"class_type": "PreviewAny", "inputs": {"source": link(p, 2)}}
        g[f"m{p}"] = {"class_type": "MaskToImage", "inputs": {"mask": link(p, 1)}}
        g[f"s{p}"] = {"class_type": "SaveImage", "inputs": {"images": link(f"m{p}"), "filename_prefix": f"dtv/de_{p}"}}
    client = comfy.client()
    out = client.run(g, timeout=300).outputs
    assert "float32 on cpu" in preview_text(out, "ifp32")
    assert "float32 on cpu" in preview_text(out, "ifp16")  # fp16 is only used on CUDA
    assert "bfloat16 on cpu" in preview_text(out, "ibf16")
    assert "processed at 140x182" in preview_text(out, "ifp32")  # 128 * 140 / 96 = 186.7 -> 182 (multiple of 14)
    a, b, c = (_saved(client, out, f"s{p}")[0] for p in ("fp32", "fp16", "bf16"))
    assert a.shape == (96, 128) and np.array_equal(a, b)
    assert np.corrcoef(a.ravel(), c.ravel())[0, 1] > 0.9  # bf16 agrees with fp32 up to its precision
    for p in ("fp32", "bf16"):
        lo, hi = _depth_range(preview_text(out, f"i{p}"))
        assert NEAR - 1e-4 <= lo < hi <= FAR + 1e-3


def _rejection(comfy, model: str) -> str:
    g = {"l": {"class_type": "LoadImage", "inputs": {"image": "dtv_depth_astronaut.png"}},
         "d": _estimator(link("l"), model=model),
         "i": {"class_type": "PreviewAny", "inputs": {"source": link("d", 2)}}}
    with pytest.raises(ComfyError) as err:
        comfy.client().queue(g)
    assert err.value.status == 400
    errors = err.value.details["node_errors"]["d"]["errors"]
    assert all("\n" not in e["details"] for e in errors)
    return " ".join(e["details"] for e in errors)


def test_missing_model_rejected_at_validation_with_where_to_put_it(comfy, tiny_model, photo):
    where = str(Path(comfy.base) / "models" / "depth")
    msg = _rejection(comfy, "nothere")
    assert "'nothere' not found" in msg and where in msg and "Depth-Anything-V2-Small-hf" in msg
    folder = comfy.base / "models" / "depth"
    hidden = comfy.base / "models" / ".depth_hidden"
    shutil.move(folder, hidden)  # no model at all: the combo holds a placeholder, validation says where to put one
    try:
        options = comfy.client().object_info("DTV_DepthEstimator")["DTV_DepthEstimator"]["input"]["required"]["model"]
        placeholder = options[0][0] if isinstance(options[0], list) else options[1]["options"][0]
        assert "tiny-da" not in json.dumps(options)
        msg = _rejection(comfy, placeholder)
        assert msg.count("no depth model found: put a Depth Anything model folder") == 1 and where in msg
    finally:
        shutil.move(hidden, folder)


def test_a_folder_that_is_not_depth_anything_fails_with_one_line(comfy, tiny_model, photo):
    bad = comfy.base / "models" / "depth" / "not-da"
    bad.mkdir(parents=True, exist_ok=True)
    (bad / "config.json").write_text(json.dumps({"model_type": "bert"}), encoding="utf-8")
    g = {"l": {"class_type": "LoadImage", "inputs": {"image": photo}},
         "d": _estimator(link("l"), model="not-da"),
         "i": {"class_type": "PreviewAny", "inputs": {"source": link("d", 2)}}}
    with pytest.raises(ComfyError) as err:
        comfy.client().run(g, timeout=120)
    assert "not a Depth Anything model" in str(err.value) and "\n" not in str(err.value)
    assert error_type(err.value.details) in CLEAR_ERRORS
