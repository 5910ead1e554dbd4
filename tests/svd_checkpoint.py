"""The random-weight SVD-XT-layout test checkpoint: built once by ``scripts/make_test_svd.py`` into a git-ignored
cache (``.cache/svd/``, about 1.8 GB) and reused; plus a check of how ComfyUI itself loads it (in a subprocess whose
working directory is the ComfyUI root, so ComfyUI's modules resolve as when it runs)."""

from __future__ import annotations

import fcntl
import json
import runpy
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMFY = REPO / ".comfyui"
SCRIPT = REPO / "scripts" / "make_test_svd.py"
CACHE = REPO / ".cache" / "svd"
RUN_SCRIPT = "import runpy,sys; runpy.run_path(sys.argv[1], run_name='__main__')"


def generator_version() -> str:
    """``VERSION`` of the generator (its top level imports nothing of ComfyUI)."""
    return str(runpy.run_path(str(SCRIPT), run_name="dtv_make_test_svd")["VERSION"])


def ensure_test_checkpoint(seed: int = 0, full: bool = False) -> Path:
    """Path of the cached checkpoint for ``seed``, building it first if needed (file-locked, atomic)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"svd_xt_test_v{generator_version()}_{'full' if full else 'small'}_s{seed}.safetensors"
    path = CACHE / name
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            cmd = [sys.executable, "-c", RUN_SCRIPT, str(SCRIPT), "--out", str(path), "--seed", str(seed)]
            if full:
                cmd.append("--full")
            proc = subprocess.run(cmd, cwd=COMFY, capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0 or not path.exists():
                raise RuntimeError(f"make_test_svd.py failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return path


#: Loads the checkpoint the way ImageOnlyCheckpointLoader does and reports what ComfyUI saw, as one JSON line.
CHECK_CODE = r'''
import json, logging, sys, types
import comfy.cli_args
comfy.cli_args.args.cpu = True
records = []
class Grab(logging.Handler):
    def emit(self, r):
        records.append(r.getMessage())
logging.getLogger().addHandler(Grab())
logging.getLogger().setLevel(logging.DEBUG)
import torch
import comfy.clip_vision, comfy.sd, comfy.supported_models, comfy.utils
from draw_to_video.nodes.svd import require_svd

WARNINGS = ("missing clip vision", "unet missing", "unet unexpected", "missing vae keys", "left over keys",
            "clip missing")
path = sys.argv[1]
prefix = "conditioner.embedders.0.open_clip.model.visual."
from safetensors import safe_open
with safe_open(path, "pt") as fh:
    sd = {k: fh.get_tensor(k) for k in fh.keys() if k.startswith(prefix)}
k_file = sd[prefix + "transformer.resblocks.3.attn.in_proj_weight"][1280:2560].clone()
proj_file = sd[prefix + "proj"].clone()
clip_sd = comfy.clip_vision.convert_to_transformers(sd, prefix)
with torch.inference_mode():
    model, _, vae, clip_vision = comfy.sd.load_checkpoint_guess_config(path, output_vae=True, output_clip=False,
                                                                       output_clipvision=True)
    missing, unexpected = clip_vision.model.load_state_dict(clip_sd, strict=False)
    loaded = clip_vision.model.state_dict()
    k_ok = torch.equal(loaded["vision_model.encoder.layers.3.self_attn.k_proj.weight"].half(), k_file)
    proj_ok = torch.equal(loaded["visual_projection.weight"].half(), proj_file.t())
try:
    require_svd(model)
    svd_ok = "ok"
except ValueError as e:
    svd_ok = str(e)
sd15 = comfy.supported_models.SD15(dict(comfy.supported_models.SD15.unet_config))
fake = types.SimpleNamespace(model=types.SimpleNamespace(model_config=sd15, latent_format=sd15.latent_format))
try:
    require_svd(fake)
    sd15_err = None
except ValueError as e:
    sd15_err = str(e)
print(json.dumps({
    "model_config": type(model.model.model_config).__name__,
    "vae_model": type(vae.first_stage_model.decoder).__name__,
    "clip_missing": list(missing), "clip_unexpected": list(unexpected),
    "warnings": [r for r in records if r.lower().startswith(WARNINGS)],
    "k_roundtrip": k_ok, "proj_roundtrip": proj_ok, "svd_ok": svd_ok, "sd15_error": sd15_err,
}))
'''


def check_checkpoint(path: Path) -> dict:
    """What ComfyUI reports when it loads ``path`` (see :data:`CHECK_CODE`)."""
    proc = subprocess.run([sys.executable, "-c", CHECK_CODE, str(path)], cwd=COMFY, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"checkpoint check failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
