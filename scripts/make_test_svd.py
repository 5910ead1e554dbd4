"""Write a randomly initialised checkpoint in the key layout of ``svd_xt.safetensors`` (Stable Video Diffusion XT).

The architecture comes from ComfyUI's own classes (built on the ``meta`` device, so nothing is allocated twice), so
ComfyUI's detector sees ``SVD_img2vid`` and every key it reads is present:

* ``model.diffusion_model.*``: ``UNetModel`` with the SVD-XT config (model_channels 320, in_channels 8, context 1024,
  adm 768, linear transformers, depth [1,1,1,1,1,1,0,0], temporal blocks). ``channel_mult`` is ``[1,1,1,1]`` for the
  small test variant (about 212M parameters) and the real ``[1,2,4,4]`` with ``--full`` (about 1.5G).
* ``first_stage_model.*``: the temporal VAE (``AutoencodingEngine`` with a ``VideoDecoder``).
* ``conditioner.embedders.0.open_clip.model.visual.*``: the CLIP-H vision tower under OpenCLIP names (the inverse of
  ``comfy/utils.py: transformers_convert``: q/k/v concatenated into ``in_proj_*``, ``proj`` transposed).

Weights are fp16 from one seeded ``torch.Generator`` walked in sorted key order, so a seed always gives the same
bytes. The file is written to a temporary name beside the output and renamed into place.

It needs ComfyUI's modules importable; run it with the ComfyUI root as working directory and that root on the path::

    cd .comfyui && ../.venv/bin/python -c "import runpy,sys; runpy.run_path(sys.argv[1], run_name='__main__')" \\
        ../scripts/make_test_svd.py --out /tmp/svd_xt.safetensors
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import time
from pathlib import Path

#: Bump when the bytes written for a given seed change (tests key their cache on it).
VERSION = "1"

CLIP_PREFIX = "conditioner.embedders.0.open_clip.model.visual."
UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_LAYERS = 32


def unet_config(full: bool) -> dict:
    """The UNet kwargs ComfyUI derives from the real SVD-XT checkpoint (``channel_mult`` shrunk unless ``full``)."""
    return {
        "use_checkpoint": False, "image_size": 32, "use_spatial_transformer": True, "legacy": False,
        "num_classes": "sequential", "adm_in_channels": 768, "in_channels": 8, "out_channels": 4,
        "model_channels": 320, "num_res_blocks": [2, 2, 2, 2],
        "channel_mult": [1, 2, 4, 4] if full else [1, 1, 1, 1],
        "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0],
        "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
        "transformer_depth_middle": 1, "use_linear_in_transformer": True, "context_dim": 1024,
        "extra_ff_mix_layer": True, "use_spatial_context": True, "merge_strategy": "learned_with_images",
        "merge_factor": 0.0, "video_kernel_size": [3, 1, 1], "use_temporal_resblock": True,
        "use_temporal_attention": True, "disable_temporal_crossattention": False,
        "num_heads": -1, "num_head_channels": 64,
    }


def _shapes(module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def architecture(full: bool) -> dict[str, dict[str, tuple[int, ...]]]:
    """Key -> shape of the three parts, under ComfyUI's internal names (CLIP in transformers naming)."""
    import comfy.ops
    import torch
    from comfy.clip_model import CLIPVisionModelProjection
    from comfy.ldm.models.autoencoder import AutoencodingEngine
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    ops = comfy.ops.disable_weight_init
    with torch.device("meta"):
        unet = UNetModel(**unet_config(full), dtype=torch.float16, operations=ops)
        enc = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128,
               "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}
        dec = {**enc, "video_kernel_size": [3, 1, 1], "alpha": 0.0}
        vae = AutoencodingEngine(
            regularizer_config={"target": "comfy.ldm.models.autoencoder.DiagonalGaussianRegularizer"},
            encoder_config={"target": "comfy.ldm.modules.diffusionmodules.model.Encoder", "params": enc},
            decoder_config={"target": "comfy.ldm.modules.temporal_ae.VideoDecoder", "params": dec})
        clip_cfg = {"hidden_act": "gelu", "hidden_size": 1280, "image_size": 224, "intermediate_size": 5120,
                    "model_type": "clip_vision_model", "num_attention_heads": 16, "num_channels": 3,
                    "num_hidden_layers": CLIP_LAYERS, "patch_size": 14, "projection_dim": 1024}
        clip = CLIPVisionModelProjection(clip_cfg, torch.float16, None, ops)
    return {"unet": _shapes(unet), "vae": _shapes(vae), "clip": _shapes(clip)}


def init_tensor(name: str, shape: tuple[int, ...], gen):
    """A deterministic, numerically tame fp16 initialisation chosen from the parameter's name and shape."""
    import torch

    leaf = name.rsplit(".", 1)[-1]
    numel = math.prod(shape)
    if numel == 1 or "mix_factor" in name:  # learned merge factors: 0 -> sigmoid 0.5, as a fresh SVD
        return torch.zeros(shape, dtype=torch.float16)
    if leaf == "bias" or leaf.startswith("in_proj_bias"):
        return torch.zeros(shape, dtype=torch.float16)
    if leaf in ("class_embedding", "positional_embedding") or "position_embedding" in name:
        return (torch.randn(shape, generator=gen) * 0.02).half()
    if len(shape) == 1:  # norm scales
        return torch.ones(shape, dtype=torch.float16)
    fan_in = shape[0] if name.endswith(".visual.proj") else numel // shape[0]  # OpenCLIP's proj is x @ proj
    return (torch.randn(shape, generator=gen) * (0.5 / math.sqrt(fan_in))).half()


def to_openclip(sd: dict, prefix: str = CLIP_PREFIX, layers: int = CLIP_LAYERS) -> dict:
    """ComfyUI/transformers CLIP-vision names -> OpenCLIP ``visual.*`` names (inverse of ``transformers_convert``).

    Works on real or ``meta`` tensors: q/k/v are concatenated into ``in_proj_*`` and ``proj`` is transposed.
    """
    import torch

    out = {}
    simple = {
        "vision_model.embeddings.class_embedding": "class_embedding",
        "vision_model.embeddings.patch_embedding.weight": "conv1.weight",
        "vision_model.embeddings.position_embedding.weight": "positional_embedding",
        "vision_model.pre_layrnorm.weight": "ln_pre.weight", "vision_model.pre_layrnorm.bias": "ln_pre.bias",
        "vision_model.post_layernorm.weight": "ln_post.weight", "vision_model.post_layernorm.bias": "ln_post.bias",
    }
    rename = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj",
              "self_attn.out_proj": "attn.out_proj"}
    rest = dict(sd)
    for src, dst in simple.items():
        out[prefix + dst] = rest.pop(src)
    out[prefix + "proj"] = rest.pop("visual_projection.weight").t().contiguous()
    for i in range(layers):
        src_l, dst_l = f"vision_model.encoder.layers.{i}.", f"{prefix}transformer.resblocks.{i}."
        for a, b in rename.items():
            for y in ("weight", "bias"):
                out[f"{dst_l}{b}.{y}"] = rest.pop(f"{src_l}{a}.{y}")
        for y in ("weight", "bias"):
            qkv = [rest.pop(f"{src_l}self_attn.{p}_proj.{y}") for p in ("q", "k", "v")]
            out[f"{dst_l}attn.in_proj_{y}"] = torch.cat(qkv, 0)
    if rest:
        raise ValueError(f"CLIP keys without an OpenCLIP name: {sorted(rest)[:5]}")
    return out


def layout(full: bool) -> list[tuple[str, tuple[int, ...]]]:
    """Every (key, shape) of the checkpoint in file order (sorted keys), in the svd_xt naming."""
    import torch

    arch = architecture(full)
    keys = {UNET_PREFIX + k: s for k, s in arch["unet"].items()}
    keys.update({VAE_PREFIX + k: s for k, s in arch["vae"].items()})
    meta_clip = {k: torch.empty(s, device="meta") for k, s in arch["clip"].items()}
    keys.update({k: tuple(v.shape) for k, v in to_openclip(meta_clip).items()})
    return sorted(keys.items())


def write(out: Path, seed: int, full: bool) -> Path:
    """Stream the checkpoint into a safetensors file: one tensor in memory at a time, written to a temporary file in
    the same folder and renamed into place. Tensors are drawn in file (sorted key) order from one seeded generator."""
    import torch

    items = layout(full)
    header: dict[str, object] = {"__metadata__": {
        "dtv_test_svd_version": VERSION, "seed": str(seed), "variant": "full" if full else "small",
        "modelspec.architecture": "stable-video-diffusion-img2vid-v1"}}
    offset = 0
    for key, shape in items:
        nbytes = 2 * math.prod(shape)
        header[key] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    gen = torch.Generator().manual_seed(seed)
    try:
        with tmp.open("wb") as fh:
            fh.write(struct.pack("<Q", len(head)))
            fh.write(head)
            for key, shape in items:
                t = init_tensor(key, shape, gen).contiguous()
                fh.write(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def _prepare_comfy() -> None:
    """ComfyUI picks its device at import; without a GPU it must be told to use the CPU first."""
    import comfy.cli_args
    import torch

    if not torch.cuda.is_available():
        comfy.cli_args.args.cpu = True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="where to write the .safetensors file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--full", action="store_true", help="real SVD-XT channel_mult [1,2,4,4] (about 4.5 GB)")
    if argv is None:  # ``python -c "runpy.run_path(sys.argv[1], ...)" make_test_svd.py ...`` leaves the path first
        argv = sys.argv[1:]
        if argv and argv[0].endswith("make_test_svd.py"):
            argv = argv[1:]
    ns = ap.parse_args(argv)
    _prepare_comfy()
    t0 = time.monotonic()
    path = write(ns.out, ns.seed, ns.full)
    size = path.stat().st_size / 2**30
    sys.stderr.write(f"wrote {path} ({size:.2f} GiB, seed {ns.seed}) in {time.monotonic() - t0:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
