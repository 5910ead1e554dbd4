"""Camera-guided SVD through the real ComfyUI server, on a random-weight checkpoint in the real svd_xt layout.

64x64 px, 8 frames, 2 euler steps (karras): a sampling run is a few seconds on CPU. All runs of the main graph
share one prompt (loader and conditioning run once); the suite makes 8 sampling runs in all.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from draw_to_video.cli.client import ComfyError, output_items

from graphs import link, preview_text
from svd_checkpoint import COMFY, check_checkpoint, ensure_test_checkpoint

pytestmark = pytest.mark.server

SIZE, FRAMES, SEED = 64, 8, 42


# -- inputs -----------------------------------------------------------------------------------------------------------
def pattern_frames(frames: int) -> np.ndarray:
    """A recognisable test card panning 2 px per frame to the left: [F,64,64,3] uint8."""
    y, x = np.mgrid[0:SIZE, 0:SIZE * 3]
    card = np.stack([(x // 8) % 2 * 200 + 30, (y // 16) % 2 * 180 + 40, 255 - (x * 2) % 256], -1)
    card[(x - 40) ** 2 + (y - 32) ** 2 < 12**2] = (250, 220, 20)
    return np.stack([card[:, 2 * f:2 * f + SIZE] for f in range(frames)]).astype(np.uint8)


def visibility_frames(frames: int) -> np.ndarray:
    """1 = visible; the right edge is a growing hole (what a pan reveals): [F,64,64] float."""
    vis = np.ones((frames, SIZE, SIZE), np.float32)
    for f in range(frames):
        vis[f, :, SIZE - 16 - 2 * f:] = 0
    return vis


def apng(frames: np.ndarray) -> bytes:
    imgs = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    imgs[0].save(buf, format="PNG", save_all=True, append_images=imgs[1:], duration=100, loop=0)
    return buf.getvalue()


def latent_visibility(vis: np.ndarray) -> torch.Tensor:
    """Fully visible 8x8 cells: [F,1,8,8] bool."""
    v = torch.from_numpy(vis)
    return (v.view(v.shape[0], SIZE // 8, 8, SIZE // 8, 8).amin(dim=(2, 4)) >= 1)[:, None]


@pytest.fixture(scope="module")
def svd(comfy_server):
    """The server with the test checkpoint as models/checkpoints/svd_xt.safetensors and the test clips uploaded."""
    ckpt = ensure_test_checkpoint()
    link_path = comfy_server.base / "models" / "checkpoints" / "svd_xt.safetensors"
    if not link_path.exists():
        link_path.symlink_to(ckpt)
    client = comfy_server.client()
    for n in (FRAMES, 20):
        client.upload_image(f"dtv_targets_{n}.png", apng(pattern_frames(n)))
        vis = (visibility_frames(n) * 255).astype(np.uint8)
        client.upload_image(f"dtv_vis_{n}.png", apng(np.repeat(vis[..., None], 3, -1)))
    yield comfy_server
    client.post_json("/free", {"unload_models": True, "free_memory": True})


def base_graph(frames: int = FRAMES, width: int = SIZE, height: int = SIZE) -> dict:
    return {
        "ckpt": {"class_type": "ImageOnlyCheckpointLoader", "inputs": {"ckpt_name": "svd_xt.safetensors"}},
        "targets": {"class_type": "LoadImage", "inputs": {"image": f"dtv_targets_{frames}.png"}},
        "visimg": {"class_type": "LoadImage", "inputs": {"image": f"dtv_vis_{frames}.png"}},
        "vis": {"class_type": "ImageToMask", "inputs": {"image": link("visimg"), "channel": "red"}},
        "init": {"class_type": "ImageFromBatch", "inputs": {"image": link("targets"), "batch_index": 0, "length": 1}},
        "cond": {"class_type": "SVD_img2vid_Conditioning", "inputs": {
            "clip_vision": link("ckpt", 1), "init_image": link("init"), "vae": link("ckpt", 2), "width": width,
            "height": height, "video_frames": FRAMES, "motion_bucket_id": 127, "fps": 6, "augmentation_level": 0.0}},
        "lincfg": {"class_type": "VideoLinearCFGGuidance", "inputs": {"model": link("ckpt"), "min_cfg": 1.0}},
    }


def guidance(strength: float, **kw) -> dict:
    return {"class_type": "DTV_CameraGuidance", "inputs": {
        "model": link("lincfg"), "vae": link("ckpt", 2), "targets": link("targets"), "visibility": link("vis"),
        "strength": strength, "start": 0.0, "end": 1.0, "mask_erode": 0, "mask_feather": 0} | kw}


def ksampler(model: list, latent: list | None = None, denoise: float | list = 1.0) -> dict:
    return {"class_type": "KSampler", "inputs": {
        "model": model, "seed": SEED, "steps": 2, "cfg": 2.5, "sampler_name": "euler", "scheduler": "karras",
        "positive": link("cond", 0), "negative": link("cond", 1), "latent_image": latent or link("cond", 2),
        "denoise": denoise}}


def save_latent(src: list, prefix: str) -> dict:
    return {"class_type": "SaveLatent", "inputs": {"samples": src, "filename_prefix": f"latents/{prefix}"}}


def save_video(src: str, prefix: str) -> dict:
    return {"class_type": "SaveImage", "inputs": {"images": link(src), "filename_prefix": prefix}}


def read_latent(server, outputs: dict, node: str) -> torch.Tensor:
    item = outputs[node]["latents"][0]
    return load_file(str(server.base / "output" / item["subfolder"] / item["filename"]))["latent_tensor"]


def read_pngs(server, outputs: dict, node: str) -> list[bytes]:
    return [(server.base / "output" / it["subfolder"] / it["filename"]).read_bytes()
            for it in output_items({node: outputs[node]}, "images")]


def visible_mse(lat: torch.Tensor, target: torch.Tensor, keep: torch.Tensor) -> float:
    keep = keep.expand_as(lat)
    return float(((lat - target)[keep] ** 2).mean())


# -- the checkpoint -----------------------------------------------------------------------------------------------------
def test_test_checkpoint_loads_as_svd_with_no_missing_keys():
    rep = check_checkpoint(ensure_test_checkpoint())
    assert rep["model_config"] == "SVD_img2vid" and rep["vae_model"] == "VideoDecoder"
    assert rep["clip_missing"] == [] and rep["clip_unexpected"] == []
    assert rep["warnings"] == []  # no missing/unexpected/left-over keys anywhere (UNet, VAE, CLIP vision)
    assert rep["k_roundtrip"] and rep["proj_roundtrip"]  # OpenCLIP in_proj / proj land on the right weights
    assert rep["svd_ok"] == "ok"
    assert rep["sd15_error"].startswith("camera guidance needs a Stable Video Diffusion model") and \
        "SD15" in rep["sd15_error"]


def test_generator_is_deterministic_for_a_seed():
    """The file is the documented function of the seed: the first tensors, re-drawn from one generator walked in
    sorted key order, equal the file's bytes; another seed differs. (A full rebuild takes about a minute.)"""
    import runpy

    from safetensors import safe_open

    from svd_checkpoint import SCRIPT

    gen = runpy.run_path(str(SCRIPT), run_name="dtv_make_test_svd")
    ckpt = ensure_test_checkpoint()
    with ckpt.open("rb") as fh:
        header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    meta = header.pop("__metadata__")
    assert meta["seed"] == "0" and meta["dtv_test_svd_version"] == gen["VERSION"]
    keys = list(header)
    assert keys == sorted(keys) and all(v["dtype"] == "F16" for v in header.values())
    assert "conditioner.embedders.0.open_clip.model.visual.transformer.resblocks.31.attn.in_proj_weight" in header
    assert header["model.diffusion_model.input_blocks.0.0.weight"]["shape"] == [320, 8, 3, 3]
    for seed, same in ((0, True), (1, False)):
        g = torch.Generator().manual_seed(seed)
        with safe_open(str(ckpt), "pt") as fh:
            equal = [torch.equal(gen["init_tensor"](k, tuple(header[k]["shape"]), g), fh.get_tensor(k))
                     for k in keys[:60]]
        assert all(equal) if same else not all(equal)


#: torch.compile path in a child with the ComfyUI root as cwd. ``eager`` backend: dynamo's tracing and guards are the
#: same as inductor's, without the code generation. PyTorch attention as on GPUs (ComfyUI's CPU attention queries
#: free memory inside the UNet, which breaks graphs).
COMPILE_CODE = r'''
import json, sys
import torch
import comfy.cli_args
comfy.cli_args.args.cpu = True
comfy.cli_args.args.use_pytorch_cross_attention = True
import comfy.sample, comfy.sd
from draw_to_video.nodes.svd import compile_count, guided_model, make_guidance, with_compiled_model

with torch.inference_mode():
    model, _, vae, _ = comfy.sd.load_checkpoint_guess_config(sys.argv[1], output_clip=False)
    g = torch.Generator().manual_seed(0)
    t1, t2, vis = torch.rand(8, 64, 64, 3, generator=g), torch.rand(8, 64, 64, 3, generator=g), torch.ones(8, 64, 64)
    extra = {"motion_bucket_id": 127, "fps": 6, "augmentation_level": 0.0}
    lat = torch.zeros(8, 4, 8, 8)  # SVD_img2vid_Conditioning's layout, without the CLIP-H encode (not what is tested)
    pos = [[torch.randn(1, 1, 1024, generator=g), extra | {"concat_latent_image": torch.randn(1, 4, 8, 8, generator=g)}]]
    neg = [[torch.zeros(1, 1, 1024), extra | {"concat_latent_image": torch.zeros(1, 4, 8, 8)}]]
    def run(m, seed):
        noise = comfy.sample.prepare_noise(lat, seed)
        out = comfy.sample.sample(m, noise, 1, 2.5, "euler", "karras", pos, neg, lat, seed=seed, disable_pbar=True)
        return out, compile_count()
    counts = [compile_count()]
    m1 = guided_model(with_compiled_model(model, "eager"), make_guidance(model, vae, t1, vis, 0.8, 0.0, 1.0, 0, 0))
    a, c = run(m1, 0); counts.append(c)
    _, c = run(m1, 1); counts.append(c)  # new seed
    m2 = guided_model(with_compiled_model(model, "eager"), make_guidance(model, vae, t2, vis * 0.5, 0.3, 0.0, 0.5, 1, 2))
    _, c = run(m2, 2); counts.append(c)  # new stroke (targets), strength, mask; node re-run (new clone)
    ref, c = run(guided_model(model, make_guidance(model, vae, t1, vis, 0.8, 0.0, 1.0, 0, 0)), 0)
    print(json.dumps({"counts": counts, "max_diff": float((a - ref).abs().max())}))
'''


def test_compiled_unet_is_reused_across_seed_stroke_and_strength():
    proc = subprocess.run([sys.executable, "-c", COMPILE_CODE, str(ensure_test_checkpoint())], cwd=COMFY,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    first, after_first, new_seed, new_stroke = rep["counts"]
    assert after_first > first  # it compiled
    assert new_seed == after_first and new_stroke == after_first  # ...once: no recompiles
    assert rep["max_diff"] < 1e-4  # same result as the plain model


# -- guided sampling ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def main_run(svd):
    """One prompt: stock, guided, strength-0, guider (SamplerCustomAdvanced) and SDEdit start, sharing the loader."""
    g = base_graph()
    g |= {
        "guided_model": guidance(1.0), "zero_model": guidance(0.0),
        "stock": ksampler(link("lincfg")), "guided": ksampler(link("guided_model")),
        "zero": ksampler(link("zero_model")),
        "guider": {"class_type": "DTV_CameraGuider", "inputs": {
            "model": link("lincfg"), "positive": link("cond", 0), "negative": link("cond", 1), "cfg": 2.5,
            "vae": link("ckpt", 2), "targets": link("targets"), "visibility": link("vis"), "strength": 1.0,
            "start": 0.0, "end": 1.0, "mask_erode": 0, "mask_feather": 0}},
        "noise": {"class_type": "RandomNoise", "inputs": {"noise_seed": SEED}},
        "sampler": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "sigmas": {"class_type": "BasicScheduler", "inputs": {"model": link("lincfg"), "scheduler": "karras",
                                                              "steps": 2, "denoise": 1.0}},
        "custom": {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": link("noise"), "guider": link("guider"), "sampler": link("sampler"), "sigmas": link("sigmas"),
            "latent_image": link("cond", 2)}},
        "sdinit": {"class_type": "DTV_GuidedInitLatent", "inputs": {"vae": link("ckpt", 2), "targets": link("targets"),
                                                                     "steps": 2, "denoise": 0.2}},
        "sdedit": ksampler(link("lincfg"), link("sdinit"), link("sdinit", 1)),
        "start_step": {"class_type": "PreviewAny", "inputs": {"source": link("sdinit", 2)}},
        "encoded": {"class_type": "VAEEncode", "inputs": {"pixels": link("targets"), "vae": link("ckpt", 2)}},
        "dec_stock": {"class_type": "VAEDecode", "inputs": {"samples": link("stock"), "vae": link("ckpt", 2)}},
        "dec_zero": {"class_type": "VAEDecode", "inputs": {"samples": link("zero"), "vae": link("ckpt", 2)}},
        "dec_guided": {"class_type": "VAEDecode", "inputs": {"samples": link("guided"), "vae": link("ckpt", 2)}},
        "png_stock": save_video("dec_stock", "dtv_svd_stock"), "png_zero": save_video("dec_zero", "dtv_svd_zero"),
        "png_guided": save_video("dec_guided", "dtv_svd_guided"),
    }
    for name in ("stock", "guided", "zero", "custom", "sdedit", "sdinit", "encoded"):
        g[f"lat_{name}"] = save_latent(link(name), f"dtv_{name}")
    out = svd.client().run(g, timeout=900).outputs
    lat = {n: read_latent(svd, out, f"lat_{n}") for n in ("stock", "guided", "zero", "custom", "sdedit", "sdinit",
                                                           "encoded")}
    return svd, out, lat


def test_guided_ksampler_follows_targets_on_visible_cells(main_run):
    _, _, lat = main_run
    keep = latent_visibility(visibility_frames(FRAMES))
    assert lat["guided"].shape == (FRAMES, 4, SIZE // 8, SIZE // 8)
    assert torch.isfinite(lat["guided"]).all() and torch.isfinite(lat["stock"]).all()
    guided = visible_mse(lat["guided"], lat["encoded"], keep)
    stock = visible_mse(lat["stock"], lat["encoded"], keep)
    assert guided < 0.01 * stock, (guided, stock)
    # hidden cells are left to the model: there the guided result is no closer than the stock one
    hidden = visible_mse(lat["guided"], lat["encoded"], ~keep)
    assert hidden > 10 * guided


def test_strength_zero_is_exactly_stock(main_run):
    server, out, lat = main_run
    assert torch.equal(lat["zero"], lat["stock"])
    stock_png, zero_png = read_pngs(server, out, "png_stock"), read_pngs(server, out, "png_zero")
    assert len(stock_png) == FRAMES and stock_png == zero_png  # byte-identical PNGs
    assert read_pngs(server, out, "png_guided") != stock_png


def test_camera_guider_with_sampler_custom_advanced_matches_the_model_patch(main_run):
    _, _, lat = main_run
    assert lat["custom"].shape == lat["guided"].shape
    assert torch.allclose(lat["custom"], lat["guided"], atol=1e-5)
    assert not torch.allclose(lat["custom"], lat["stock"], atol=1e-2)


def test_guided_init_latent_is_the_encoded_targets_and_sdedit_stays_closer(main_run):
    _, out, lat = main_run
    assert torch.allclose(lat["sdinit"], lat["encoded"], atol=1e-6)
    assert preview_text(out, "start_step") == "2"  # round(2 steps * (1 - 0.2))
    # KSampler with denoise 0.2 adds noise for the last 20% of the schedule only and samples from the warped frames
    everywhere = torch.ones(FRAMES, 1, SIZE // 8, SIZE // 8, dtype=torch.bool)
    sdedit = visible_mse(lat["sdedit"], lat["encoded"], everywhere)
    assert sdedit < 0.1 * visible_mse(lat["stock"], lat["encoded"], everywhere)
    assert not torch.equal(lat["sdedit"], lat["encoded"])  # it did sample


# -- bad inputs ------------------------------------------------------------------------------------------------------------
def _run_error(server, graph: dict) -> str:
    with pytest.raises(ComfyError) as err:
        server.client().run(graph, timeout=600)
    return str(err.value)


def _guided_graph(**kw) -> dict:
    """The main graph's loader and conditioning (cached by the server) with one guided KSampler."""
    g = base_graph()
    g |= {"gm": guidance(1.0, **kw), "ks": ksampler(link("gm")), "lat": save_latent(link("ks"), "dtv_bad")}
    return g


def _scaled(src: str, w: int, h: int) -> dict:
    return {"class_type": "ImageScale", "inputs": {"image": link(src), "upscale_method": "nearest-exact", "width": w,
                                                   "height": h, "crop": "disabled"}}


def test_mismatched_targets_fail_before_sampling_with_one_line(svd):
    g = _guided_graph(targets=link("six"))
    g["six"] = {"class_type": "ImageFromBatch", "inputs": {"image": link("targets"), "batch_index": 0, "length": 6}}
    del g["gm"]["inputs"]["visibility"]
    msg = _run_error(svd, g)
    assert "6 target frames but the video latent has 8 frames" in msg and "\n" not in msg
    g = _guided_graph(targets=link("wide"))
    g["wide"] = _scaled("targets", 72, 64)
    del g["gm"]["inputs"]["visibility"]
    msg = _run_error(svd, g)
    assert "targets are 72x64 px" in msg and "video latent is 64x64 px" in msg and "\n" not in msg


def test_bad_target_size_and_mask_size_are_reported(svd):
    g = _guided_graph(targets=link("small"))
    g["small"] = _scaled("targets", 60, 60)
    msg = _run_error(svd, g)
    assert "multiples of 8" in msg and "\n" not in msg
    g = _guided_graph(visibility=link("smallmask"))
    g |= {"smallvis": _scaled("visimg", 56, 56),
          "smallmask": {"class_type": "ImageToMask", "inputs": {"image": link("smallvis"), "channel": "red"}}}
    msg = _run_error(svd, g)
    assert "visibility mask is 56x56 px but the target frames are 64x64 px" in msg


def test_start_after_end_is_rejected_at_validation(svd):
    g = _guided_graph(start=0.8, end=0.2)
    with pytest.raises(ComfyError) as err:
        svd.client().queue(g)
    assert err.value.status == 400
    assert "must not be after end" in json.dumps(err.value.details)


# -- long videos (last: its prompt evicts the cached 8-frame conditioning the tests above reuse) -------------
def test_windowed_sampler_makes_20_frames_from_windows_of_8(svd):
    g = base_graph(frames=20)
    g |= {
        "win": {"class_type": "DTV_WindowedGuidedSampler", "inputs": {
            "model": link("lincfg"), "clip_vision": link("ckpt", 1), "vae": link("ckpt", 2), "targets": link("targets"),
            "visibility": link("vis"), "strength": 1.0, "start": 0.0, "end": 1.0, "mask_erode": 0, "mask_feather": 0,
            "window_size": 8, "overlap": 2, "seed": SEED, "steps": 2, "cfg": 2.5, "sampler_name": "euler",
            "scheduler": "karras", "motion_bucket_id": 127, "fps": 6, "augmentation_level": 0.0}},
        "encoded": {"class_type": "VAEEncode", "inputs": {"pixels": link("targets"), "vae": link("ckpt", 2)}},
        "lat_win": save_latent(link("win"), "dtv_win"), "lat_enc": save_latent(link("encoded"), "dtv_win_enc"),
        "dec": {"class_type": "VAEDecode", "inputs": {"samples": link("win"), "vae": link("ckpt", 2)}},
        "png": save_video("dec", "dtv_svd_windows"),
    }
    del g["cond"], g["init"]
    out = svd.client().run(g, timeout=900).outputs
    win, enc = read_latent(svd, out, "lat_win"), read_latent(svd, out, "lat_enc")
    assert win.shape == (20, 4, SIZE // 8, SIZE // 8) and torch.isfinite(win).all()
    assert len(read_pngs(svd, out, "png")) == 20
    keep = latent_visibility(visibility_frames(20))
    for s, e in ((0, 6), (8, 12), (14, 20)):  # frames only one window made: guided onto the targets
        assert visible_mse(win[s:e], enc[s:e], keep[s:e]) < 1e-3
