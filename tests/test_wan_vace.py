"""Wan 2.1 VACE controls: the pure rules (4n+1 frames, multiple-of-16 crop, mask growth), the node through the real
server, and its outputs fed to ComfyUI core's own ``WanVaceToVideo`` with a tiny random Wan VAE and VACE model in
the real key layout (built from core's classes, in a subprocess whose working directory is the ComfyUI root):
core's mask handling checked against ours, then a two-step toy sampling and decode. The one part not run for real
is the text encoder (UMT5-XXL, 5.7B parameters, has no small form core would load): the conditioning is a random
tensor of its shape."""

from __future__ import annotations

import fcntl
import io as _io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from draw_to_video.cli.client import output_items
from draw_to_video.trajectory.render.vace import (
    GREY,
    crop16,
    frame_indices,
    grow_mask,
    latent_frames,
    vace_controls,
    wan_length,
)

from comfy_harness import COMFY, REPO
from graphs import link, preview_text, upload_astronaut

TINY = REPO / ".cache" / "wan_tiny"
TINY_VERSION = 1

#: Runs inside the pinned ComfyUI (cwd = its root). Builds (once, cached) a tiny random Wan 2.1 VAE (dim 8) and
#: tiny VACE and I2V (ATI) diffusion models (dim 128, 2 blocks) from core's own classes, saved in the real key
#: layout and loaded the way VAELoader / UNETLoader load files; then runs one job with core's nodes.
CORE = r'''
import json, os, sys
import numpy as np, torch
import comfy.cli_args
comfy.cli_args.args.cpu = True
import safetensors.torch
import comfy.ldm.wan.model, comfy.ldm.wan.vae, comfy.ops, comfy.sd, comfy.utils
import nodes
from comfy_extras import nodes_wan as core

job = json.load(open(sys.argv[1]))
out = {}


def init_(module, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("gamma") or (".norm" in name and name.endswith("weight")):
                p.fill_(1.0)
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return module


def build(path, make):
    if not os.path.exists(path):
        sd = {k: v.contiguous() for k, v in make().state_dict().items()}
        safetensors.torch.save_file(sd, path + ".tmp")
        os.replace(path + ".tmp", path)
    return path


ops = comfy.ops.disable_weight_init
vae_path = build(os.path.join(job["cache"], "wan21_vae_dim8.safetensors"), lambda: init_(comfy.ldm.wan.vae.WanVAE(
    dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[], temperal_downsample=[False, True, True],
    dropout=0.0), 0))
dit = dict(dim=128, ffn_dim=256, num_layers=2, num_heads=1, freq_dim=256, text_dim=4096, out_dim=16,
           operations=ops)
vace_path = build(os.path.join(job["cache"], "wan21_vace_dim128.safetensors"), lambda: init_(
    comfy.ldm.wan.model.VaceWanModel(in_dim=16, vace_layers=1, vace_in_dim=96, **dit), 1))
ati_path = build(os.path.join(job["cache"], "wan21_i2v_dim128.safetensors"), lambda: init_(
    comfy.ldm.wan.model.WanModel(model_type="i2v", in_dim=36, **dit), 2))
vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(vae_path))
out["vae_latent_channels"] = vae.latent_channels

g = torch.Generator().manual_seed(3)
def cond():  # in place of CLIPTextEncode: UMT5-XXL's [1, tokens, 4096]
    return [[torch.randn(1, 6, 4096, generator=g), {}]]


class Recording:
    """The VAE, noting what core hands its encode."""
    def __init__(self, vae):
        self.vae, self.calls = vae, []
    def encode(self, x):
        self.calls.append(x.clone())
        return self.vae.encode(x)


def sample(model_path, positive, negative, latent):
    model = comfy.sd.load_diffusion_model(model_path)
    out["model_config"] = type(model.model.model_config).__name__
    return nodes.common_ksampler(model, 0, 2, 2.0, "euler", "simple", positive, negative, latent, denoise=1.0)[0]


if job["task"] == "vace":
    data = torch.load(job["inputs"])
    rec = Recording(vae)
    pos, neg, latent, trim = core.WanVaceToVideo.execute(
        cond(), cond(), rec, job["width"], job["height"], job["length"], 1, 1.0,
        control_video=data["video"], control_masks=data["masks"]).result
    extra = pos[0][1]
    res = {"inactive": rec.calls[0], "reactive": rec.calls[1], "vace_mask": extra["vace_mask"][0],
           "vace_frames": extra["vace_frames"][0], "latent": latent["samples"]}
    out["trim"] = int(trim)
    if job.get("sample"):
        samples = sample(vace_path, pos, neg, latent)
        samples = core.TrimVideoLatent.execute(samples, trim).result[0]
        res["decoded"] = nodes.VAEDecode().decode(vae, samples)[0]
    torch.save(res, job["result"])
elif job["task"] == "tracks":
    tracks = core.parse_json_tracks(job["tracks"])
    arr = np.stack([core.pad_pts(t) for t in tracks], axis=0)
    processed = core.process_tracks(arr, (job["width"], job["height"]), job["length"] - 1)
    res = {"parsed": arr, "processed": processed}
    if job.get("start"):
        start = torch.load(job["start"])
        pos, neg, latent = core.WanTrackToVideo.execute(
            cond(), cond(), vae, job["tracks"], job["width"], job["height"], job["length"], 1, 220.0, 2,
            start_image=start).result
        res["concat_mask"] = pos[0][1]["concat_mask"]
        res["concat_latent_image"] = pos[0][1]["concat_latent_image"]
        res["latent"] = latent["samples"]
        if job.get("sample"):
            samples = sample(ati_path, pos, neg, latent)
            res["decoded"] = nodes.VAEDecode().decode(vae, samples)[0]
    torch.save(res, job["result"])
print(json.dumps(out))
'''


def run_core(job: dict, tmp_path: Path) -> tuple[dict, dict]:
    """Run :data:`CORE` on ``job`` (file-locked: the tiny weights are built once); -> (its JSON line, its result)."""
    cache = TINY / f"v{TINY_VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    job = {**job, "cache": str(cache), "result": str(tmp_path / "result.pt")}
    (tmp_path / "job.json").write_text(json.dumps(job))
    with (TINY / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = subprocess.run([sys.executable, "-c", "import sys; exec(sys.argv.pop(1))", CORE,
                              str(tmp_path / "job.json")], cwd=COMFY, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1]), torch.load(tmp_path / "result.pt", weights_only=False)


# -- the pure rules ----------------------------------------------------------------------------------------------


def test_wan_length_is_the_nearest_4n_plus_1():
    assert [wan_length(f) for f in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 48, 49, 50, 81)] == \
        [1, 1, 5, 5, 5, 5, 9, 9, 9, 9, 49, 49, 49, 81]
    for f in range(1, 300):
        n = wan_length(f)
        assert n % 4 == 1 and abs(n - f) <= 2
    with pytest.raises(ValueError, match="frames must be"):
        wan_length(0)


def test_frame_indices_keep_the_ends_and_pass_4n_plus_1_unchanged():
    assert frame_indices(81, 81).tolist() == list(range(81))
    assert frame_indices(10, 9).tolist() == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert frame_indices(2, 1).tolist() == [0]  # 2 frames: the nearest 4n+1 is 1
    for f in range(3, 60):
        idx = frame_indices(f, wan_length(f))
        assert idx[0] == 0 and idx[-1] == f - 1 and (np.diff(idx) >= 0).all()


def test_crop16_is_centred_and_never_resamples():
    assert crop16(832, 480) == (0, 0, 832, 480)
    assert crop16(168, 104) == (4, 4, 160, 96)
    assert crop16(1023, 577) == (7, 0, 1008, 576)
    with pytest.raises(ValueError, match="at least 16x16"):
        crop16(15, 64)


def test_mask_grows_by_dilate_and_feathers_outwards():
    holes = np.zeros((2, 40, 40), dtype=bool)
    holes[0, 20, 20] = True
    mask, core = grow_mask(holes, 3, 4)
    assert mask[1].max() == 0 and not core[1].any()  # a frame without holes keeps everything
    assert mask[0][holes[0]].min() == 1.0
    d = np.hypot(*np.meshgrid(np.arange(40) - 20, np.arange(40) - 20))
    assert (mask[0][d <= 3] == 1).all() and (core[0] == (d <= 3)).all()
    assert (mask[0][d >= 3 + 5] == 0).all()
    band = (d > 3) & (d < 3 + 5)
    assert (mask[0][band] > 0).all() and (mask[0][band] < 1).all()
    hard, _ = grow_mask(holes, 0, 0)
    assert np.array_equal(hard, holes.astype(np.float32))


def test_controls_on_a_synthetic_render():
    f, h, w = 10, 104, 168
    frames = torch.rand(f, h, w, 3)
    visible = torch.ones(f, h, w)
    visible[3:, 40:60, 80:100] = 0
    out = vace_controls(frames, visible, dilate=0, feather=0, hole_content="grey")
    assert (out.width, out.height, out.length) == (160, 96, 9)
    assert out.video.shape == (9, 96, 160, 3) and out.masks.shape == (9, 96, 160)
    idx = out.indices
    want = 1.0 - visible[idx][:, 4:100, 4:164]
    assert torch.equal(out.masks, want)
    keep = want == 0
    assert torch.equal(out.video[keep], frames[idx][:, 4:100, 4:164][keep])
    assert (out.video[want == 1] == GREY).all()
    hint = vace_controls(frames, visible, dilate=2, feather=3, hole_content="render")
    assert torch.equal(hint.video, frames[idx][:, 4:100, 4:164])
    assert (hint.masks >= out.masks).all() and (hint.masks[out.masks == 1] == 1).all()


_bad = st.one_of(
    st.tuples(st.sampled_from([(4, 32, 32, 3)]), st.sampled_from([(3, 32, 32), (4, 32, 16), (4, 32, 32, 1)])),
    st.tuples(st.sampled_from([(4, 32, 32), (4, 32, 32, 2), (0, 32, 32, 3), (2, 8, 40, 3), (2, 40, 15, 3)]),
              st.just((1, 32, 32))),
    st.tuples(st.just("nan"), st.just((4, 32, 32))),
)


@settings(max_examples=60, deadline=None)
@given(case=_bad, dilate=st.integers(-3, 300), feather=st.integers(-3, 300),
       hole=st.sampled_from(["grey", "render", "gray", "", "../x"]))
def test_bad_inputs_give_one_clear_line(case, dilate, feather, hole):
    fshape, vshape = case
    frames = torch.full((4, 32, 32, 3), float("nan")) if fshape == "nan" else torch.rand(fshape)
    visible = torch.ones(vshape)
    ok_shapes = fshape == (4, 32, 32, 3) and vshape in ((4, 32, 32), (1, 32, 32))
    ok = ok_shapes and 0 <= dilate <= 256 and 0 <= feather <= 256 and hole in ("grey", "render")
    if ok:
        assert vace_controls(frames, visible, dilate, feather, hole).length == 5
        return
    with pytest.raises(ValueError) as err:
        vace_controls(frames, visible, dilate, feather, hole)
    assert "\n" not in str(err.value) and str(err.value)


# -- through the real server, then core's WanVaceToVideo ---------------------------------------------------------


@pytest.fixture(scope="module")
def photo(comfy_server) -> str:
    """A real photograph (scikit-image's astronaut) uploaded to the test server."""
    return upload_astronaut(comfy_server.client(), 168)


def _graph(photo: str, **vace) -> dict:
    traj = {"preset": "truck_right", "frames": 10, "fps": 24.0, "width": 168, "height": 104, "strength": 1.0,
            "easing": "ease_in_out", "fov_deg": 50.0, "shake": 0.0, "seed": 0, "strength_mode": "manual",
            "size": "width x height"}
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "2": {"class_type": "DTV_FallbackDepth", "inputs": {"image": link("1"), "horizon": 0.45,
                                                              "subject_size": 0.3}},
        "3": {"class_type": "DTV_CameraTrajectory", "inputs": {**traj, "depth": link("2")}},
        "4": {"class_type": "DTV_Render25D", "inputs": {"image": link("1"), "depth": link("2"),
                                                          "trajectory": link("3"), "fill": "background", "chunk": 4}},
        "5": {"class_type": "DTV_VaceControls", "inputs": {"frames": link("4"), "visible": link("4", 1), **vace}},
        "6": {"class_type": "SaveImage", "inputs": {"images": link("5"), "filename_prefix": "dtv/vace_video"}},
        "7": {"class_type": "MaskToImage", "inputs": {"mask": link("5", 1)}},
        "8": {"class_type": "SaveImage", "inputs": {"images": link("7"), "filename_prefix": "dtv/vace_mask"}},
        "9": {"class_type": "SaveImage", "inputs": {"images": link("4"), "filename_prefix": "dtv/vace_render"}},
        "10": {"class_type": "MaskToImage", "inputs": {"mask": link("4", 1)}},
        "11": {"class_type": "SaveImage", "inputs": {"images": link("10"), "filename_prefix": "dtv/vace_visible"}},
        "12": {"class_type": "PreviewAny", "inputs": {"source": link("5", 2)}},
        "13": {"class_type": "PreviewAny", "inputs": {"source": link("5", 3)}},
        "14": {"class_type": "PreviewAny", "inputs": {"source": link("5", 4)}},
        "15": {"class_type": "PreviewAny", "inputs": {"source": link("5", 5)}},
    }


def _frames(client, outputs: dict, node: str) -> np.ndarray:
    return np.stack([np.asarray(Image.open(_io.BytesIO(client.view(i))).convert("RGB"))
                     for i in output_items({node: outputs[node]})])


def _run(comfy, photo: str, **vace) -> tuple[dict, dict]:
    client = comfy.client()
    out = client.run(_graph(photo, **vace), timeout=600).outputs
    got = {k: _frames(client, out, n) for k, n in (("video", "6"), ("mask", "8"), ("render", "9"),
                                                     ("visible", "11"))}
    got.update(width=int(preview_text(out, "12")), height=int(preview_text(out, "13")),
               length=int(preview_text(out, "14")), note=preview_text(out, "15"))
    return got, out


def test_node_through_the_server_mask_is_one_minus_visible(comfy, photo):
    got, _ = _run(comfy, photo, dilate=0, feather=0, hole_content="grey")
    assert (got["width"], got["height"], got["length"]) == (160, 96, 9)
    assert got["video"].shape == (9, 96, 160, 3) and got["mask"].shape == (9, 96, 160, 3)
    assert got["render"].shape == (10, 104, 168, 3)
    assert "resampled from 10" in got["note"] and "centre crop of 168x104" in got["note"]
    idx = [0, 1, 2, 3, 5, 6, 7, 8, 9]  # nearest frames of 10 spread over 9
    vis = got["visible"][idx][:, 4:100, 4:164, 0]
    mask = got["mask"][..., 0]
    assert set(np.unique(mask)) <= {0, 255} and set(np.unique(vis)) <= {0, 255}
    assert np.array_equal(mask, 255 - vis)  # 1 = regenerate = what the photo never showed
    assert mask[0].max() == 0 and mask[1:].max() == 255  # frame 0 is the photo; the truck uncovers some
    keep = mask == 0
    assert np.array_equal(got["video"][keep], got["render"][idx][:, 4:100, 4:164][keep])
    assert (got["video"][mask == 255] == 127).all()  # grey 0.5 as SaveImage writes it


def test_core_wan_vace_to_video_reads_our_mask_as_regenerate(comfy, photo, tmp_path):
    """Our outputs through core's WanVaceToVideo with a real (tiny) Wan VAE: the part of the video core keeps
    (inactive) is the render where our mask is 0, the part it regenerates (reactive) is where it is 1; core's
    latent mask is our mask's 8x8 blocks; then two sampling steps of a tiny VACE model and a decode."""
    got, _ = _run(comfy, photo, dilate=2, feather=2, hole_content="grey")
    video = torch.from_numpy(got["video"]).float() / 255.0
    masks = torch.from_numpy(got["mask"][..., 0]).float() / 255.0
    torch.save({"video": video, "masks": masks}, tmp_path / "in.pt")
    info, res = run_core({"task": "vace", "inputs": str(tmp_path / "in.pt"), "width": got["width"],
                          "height": got["height"], "length": got["length"], "sample": True}, tmp_path)
    assert info["vae_latent_channels"] == 16 and info["model_config"] == "WAN21_Vace" and info["trim"] == 0
    m = masks[..., None]
    assert torch.allclose(res["inactive"], (video - 0.5) * (1 - m) + 0.5, atol=1e-6)
    assert torch.allclose(res["reactive"], (video - 0.5) * m + 0.5, atol=1e-6)
    hole, kept = masks == 1, masks == 0
    assert hole.any() and kept.any()
    assert (res["inactive"][hole] == 0.5).all()  # nothing of a hole is kept
    assert torch.allclose(res["inactive"][kept], video[kept], atol=1e-6)  # the photo's part is kept as it is
    assert (res["reactive"][kept] == 0.5).all()
    L, H, W = got["length"], got["height"], got["width"]
    lat = latent_frames(L)
    blocks = masks.view(L, H // 8, 8, W // 8, 8).permute(2, 4, 0, 1, 3).reshape(64, L, H // 8, W // 8)
    want = torch.nn.functional.interpolate(blocks[None], size=(lat, H // 8, W // 8), mode="nearest-exact")
    assert torch.equal(res["vace_mask"], want)
    assert res["vace_frames"].shape == (1, 32, lat, H // 8, W // 8)
    assert res["latent"].shape == (1, 16, lat, H // 8, W // 8)
    decoded = res["decoded"]
    assert decoded.shape == (L, H, W, 3) and torch.isfinite(decoded).all()


def test_vace_node_refuses_mismatched_inputs_with_one_line(comfy, photo):
    from draw_to_video.cli.client import ComfyError

    g = _graph(photo, dilate=0, feather=0, hole_content="grey")
    g["20"] = {"class_type": "ImageScale", "inputs": {"image": link("4"), "upscale_method": "nearest-exact",
                                                      "width": 64, "height": 64, "crop": "disabled"}}
    g["5"]["inputs"]["frames"] = link("20")
    with pytest.raises(ComfyError) as err:
        comfy.client().run({k: g[k] for k in ("1", "2", "3", "4", "5", "12", "20")}, timeout=300)
    msg = str(err.value)
    assert "visible is 168x104 px but frames are 64x64 px" in msg and "\n" not in msg
