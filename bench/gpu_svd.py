"""GPU benchmark of camera-guided SVD-XT against stock ComfyUI sampling, on a full-size random-weight checkpoint.

For a machine with a CUDA GPU: builds (once, cached in ``.cache/svd``) the full-size SVD-XT-layout checkpoint
(``scripts/make_test_svd.py --full``, channel_mult [1,2,4,4], about 4.5 GB), then at 576x1024 for 14 and 25 frames:

* stock KSampler vs camera-guided KSampler: median seconds per step, VAE decode time, peak GPU memory;
* the whole draw-to-video path (depth-warp render of the targets + target encode + guided sampling + decode) vs
  stock sampling + decode.

Stock and guided runs alternate in one process (child Python with the ComfyUI root as working directory). Results
are appended to BENCHMARKS.md via ``report.py``. Reference numbers (GUIDE §2, stock, one H200): 0.381 s/step at 14
frames, 0.648 s/step at 25 frames.

    .venv/bin/python bench/gpu_svd.py                # on a GPU machine
    .venv/bin/python bench/gpu_svd.py --smoke        # tiny CPU check that the script runs (small model, 64x64)
"""

from __future__ import annotations

import argparse
import json
import runpy
import subprocess
import sys
from pathlib import Path

from report import append_section

REPO = Path(__file__).resolve().parent.parent

CHILD = r'''
import json, statistics, sys
import torch
import comfy.cli_args
comfy.cli_args.args.cpu = not torch.cuda.is_available()
import comfy.model_management as mm
import comfy.sample, comfy.sd
from comfy_extras.nodes_video_model import SVD_img2vid_Conditioning
from draw_to_video.nodes.svd import guided_model, make_guidance

cfg = json.loads(sys.argv[1])
import runpy
_helpers = runpy.run_path(cfg["bench"] + "/gpu_child.py")  # loaded by path: no import path is touched
clock, decode, peak_gb, render, reset_peak, sample = (_helpers[k] for k in ("clock", "decode", "peak_gb", "render", "reset_peak", "sample"))

cuda = torch.cuda.is_available()
dev = mm.get_torch_device()

out = {"device": torch.cuda.get_device_name(0) if cuda else "cpu", "runs": []}
with torch.inference_mode():
    model, _, vae, clip_vision = comfy.sd.load_checkpoint_guess_config(cfg["ckpt"], output_clip=False,
                                                                       output_clipvision=True)
    h, w, steps = cfg["height"], cfg["width"], cfg["steps"]
    for frames in cfg["frames"]:
        t0 = clock()
        try:
            targets, vis = render("dolly-pan", frames, h, w, dev)
            render_note = "depth-warp render"
        except Exception as exc:  # the renderer is another module: report, do not hide the sampling numbers
            targets, vis = torch.rand(frames, h, w, 3), torch.ones(frames, h, w)
            render_note = f"render failed ({type(exc).__name__}: {exc}); random targets"
        t_render = clock() - t0
        pos, neg, lat = SVD_img2vid_Conditioning().encode(clip_vision, targets[:1], vae, w, h, frames, 127, 6, 0.0)
        t0 = clock()
        g = make_guidance(model, vae, targets, vis, 0.8, 0.0, 0.45, 1, 2)
        guided = guided_model(model, g)
        t_encode = clock() - t0
        lat = lat["samples"]
        noise = comfy.sample.prepare_noise(lat, 0)
        sample(model, noise, pos, neg, lat, 2, 0)  # warm-up (loads the model, kernels)
        sample(guided, noise, pos, neg, lat, 2, 0)
        rec = {"frames": frames, "render_s": t_render, "encode_targets_s": t_encode, "render_note": render_note,
               "stock": [], "guided": [], "stock_peak_gb": 0.0, "guided_peak_gb": 0.0,
               "stock_decode": [], "guided_decode": [], "decode_peak_gb": 0.0}
        for rep in range(cfg["reps"]):
            for name, m in (("stock", model), ("guided", guided)):
                reset_peak()
                samples, per_step, _ = sample(m, noise, pos, neg, lat, steps, rep)
                rec[name] += per_step
                rec[f"{name}_peak_gb"] = max(rec[f"{name}_peak_gb"], peak_gb())
                reset_peak()
                _, t_dec = decode(vae, samples)
                rec[f"{name}_decode"].append(t_dec)
                rec["decode_peak_gb"] = max(rec["decode_peak_gb"], peak_gb())
        for k in ("stock", "guided", "stock_decode", "guided_decode"):
            rec[k] = statistics.median(rec[k])
        out["runs"].append(rec)
print(json.dumps(out))
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny CPU run on the small test checkpoint (no report)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--frames", type=int, nargs="+", default=None)
    ns = ap.parse_args()
    if not ns.smoke:
        import torch

        if not torch.cuda.is_available():
            sys.stderr.write("gpu_svd.py: no CUDA GPU here; run it on a GPU machine, or use --smoke for a CPU check\n")
            return 2
    ensure = runpy.run_path(str(REPO / "tests" / "svd_checkpoint.py"))["ensure_test_checkpoint"]
    ckpt = ensure(full=not ns.smoke)
    cfg = {"bench": str(REPO / "bench"), "ckpt": str(ckpt), "height": 64 if ns.smoke else 576, "width": 64 if ns.smoke else 1024,
           "steps": ns.steps or (2 if ns.smoke else 25), "reps": 1 if ns.smoke else ns.reps,
           "frames": ns.frames or ([4] if ns.smoke else [14, 25])}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], cwd=REPO / ".comfyui",
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-6000:])
        return proc.returncode
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    rows, whole = [], []
    for r in res["runs"]:
        f, n = r["frames"], cfg["steps"]
        rows.append([f, "stock", f"{r['stock']:.4f}", "1.000", f"{r['stock'] * n:.2f}", f"{r['stock_decode']:.3f}",
                     f"{r['stock_peak_gb']:.2f}"])
        rows.append([f, "guided", f"{r['guided']:.4f}", f"{r['guided'] / r['stock']:.3f}", f"{r['guided'] * n:.2f}",
                     f"{r['guided_decode']:.3f}", f"{r['guided_peak_gb']:.2f}"])
        stock_total = r["stock"] * n + r["stock_decode"]
        dtv_total = r["render_s"] + r["encode_targets_s"] + r["guided"] * n + r["guided_decode"]
        whole.append([f, f"{r['render_s']:.3f}", f"{r['encode_targets_s']:.3f}", f"{stock_total:.2f}",
                      f"{dtv_total:.2f}", f"{dtv_total / stock_total:.3f}", r["render_note"]])
    header = ["frames", "path", "s/step (median)", "ratio", f"{cfg['steps']} steps s", "decode s", "peak GB"]
    whole_header = ["frames", "render s", "encode targets s", "stock sample+decode s", "draw-to-video s", "ratio",
                    "targets"]
    size = f"{cfg['height']}x{cfg['width']}"
    if ns.smoke:
        print(json.dumps({"cfg": cfg, "rows": rows, "whole": whole, "device": res["device"]}, indent=1))
        return 0
    ref = ("GUIDE §2 stock on one H200: 0.381 s/step (14 frames), 0.648 s/step (25 frames); stock in the same run "
           "is the reference for the ratios")
    notes = (f"Full-size random-weight SVD-XT layout (channel_mult [1,2,4,4]), {size}, euler/karras, cfg 2.5, "
             f"{cfg['steps']} steps, {cfg['reps']} interleaved runs each, device {res['device']}. Guidance: strength "
             f"0.8, start 0, end 0.45, erode 1, feather 2. Peak = torch.cuda.max_memory_allocated during sampling.")
    append_section(f"SVD camera guidance on GPU ({size})", header, rows, reference=ref, notes=notes)
    append_section(f"Draw-to-video SVD path vs stock sample + decode ({size})", whole_header, whole,
                   reference="stock KSampler sampling + VAE decode, same run",
                   notes="draw-to-video = depth-warp render + target VAE encode + guided sampling + decode.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
