"""Camera guidance overhead on CPU: per-step time of the stock KSampler path vs the guided one, same run.

Uses the random-weight SVD-XT-layout test checkpoint (``tests/svd_checkpoint.py``, built once into ``.cache/svd``).
The measurement runs in a child Python whose working directory is the ComfyUI root, exactly like ComfyUI: the SVD
model, conditioning and targets are prepared once, then stock and guided sampling alternate (``--reps`` each) and
every step is timed with the sampler callback (wall and process CPU time), plus the time spent inside the guidance
function itself. Reported: medians, and guided / stock (target <= 1.02). Appends a section to BENCHMARKS.md via ``report.py``::

    .venv/bin/python bench/bench_svd_cpu.py [--size 64] [--frames 8] [--steps 4] [--reps 3]
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
import json, statistics, sys, time
import torch
import comfy.cli_args
comfy.cli_args.args.cpu = not torch.cuda.is_available()
comfy.cli_args.args.use_pytorch_cross_attention = True  # as on GPUs; ComfyUI's CPU attention sizes chunks by free RAM
import comfy.sample, comfy.sd
from comfy_extras.nodes_video_model import SVD_img2vid_Conditioning
from draw_to_video.nodes.svd import guided_model, make_guidance
from draw_to_video.trajectory.guidance import LatentGuidance

ckpt, size, frames, steps, reps, threads = sys.argv[1], *map(int, sys.argv[2:7])
if threads:
    torch.set_num_threads(threads)
inside = []
apply = LatentGuidance.apply
def timed_apply(self, denoised, sigma):
    t0 = time.perf_counter()
    out = apply(self, denoised, sigma)
    inside.append(time.perf_counter() - t0)
    return out
LatentGuidance.apply = timed_apply
torch.manual_seed(0)
with torch.inference_mode():
    model, _, vae, clip_vision = comfy.sd.load_checkpoint_guess_config(ckpt, output_clip=False, output_clipvision=True)
    targets = torch.rand(frames, size, size, 3)
    vis = (torch.rand(frames, size, size) > 0.2).float()
    pos, neg, lat = SVD_img2vid_Conditioning().encode(clip_vision, targets[:1], vae, size, size, frames, 127, 6, 0.0)
    guided = guided_model(model, make_guidance(model, vae, targets, vis, 0.8, 0.0, 1.0, 1, 2))
    wall = {"stock": [], "guided": []}
    cpu = {"stock": [], "guided": []}
    for rep in range(reps + 1):  # the first round warms up and is not counted
        pair = (("stock", model), ("guided", guided))
        for name, m in (pair if rep % 2 else pair[::-1]):  # alternate which goes first
            stamps = []
            noise = comfy.sample.prepare_noise(lat["samples"], rep)
            t0 = (time.perf_counter(), time.process_time())
            comfy.sample.sample(m, noise, steps, 2.5, "euler", "karras", pos, neg, lat["samples"], seed=rep,
                                callback=lambda *a: stamps.append((time.perf_counter(), time.process_time())),
                                disable_pbar=True)
            if rep:
                prev = [t0] + stamps[:-1]
                wall[name] += [b[0] - a[0] for a, b in zip(prev, stamps)]
                cpu[name] += [b[1] - a[1] for a, b in zip(prev, stamps)]
med = statistics.median
print(json.dumps({"wall": {k: med(v) for k, v in wall.items()}, "cpu": {k: med(v) for k, v in cpu.items()},
                  "inside": med(inside), "n": len(wall["stock"])}))
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (0 = torch's default); 1 keeps a shared machine's spin-waits out of the numbers")
    ap.add_argument("--no-report", action="store_true", help="print only, do not append to BENCHMARKS.md")
    ns = ap.parse_args()
    ckpt = runpy.run_path(str(REPO / "tests" / "svd_checkpoint.py"))["ensure_test_checkpoint"]()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(ckpt), str(ns.size), str(ns.frames), str(ns.steps),
                           str(ns.reps), str(ns.threads)], cwd=REPO / ".comfyui", capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        return proc.returncode
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    wall, cpu = res["wall"], res["cpu"]
    rows = [["stock KSampler", f"{wall['stock'] * 1000:.1f}", "1.000", f"{cpu['stock'] * 1000:.1f}", "1.000", "-"],
            ["camera-guided KSampler", f"{wall['guided'] * 1000:.1f}", f"{wall['guided'] / wall['stock']:.3f}",
             f"{cpu['guided'] * 1000:.1f}", f"{cpu['guided'] / cpu['stock']:.3f}",
             f"{res['inside'] * 1000:.3f} ({1 + res['inside'] / wall['stock']:.4f})"]]
    title = f"SVD camera guidance overhead, CPU ({ns.size}x{ns.size}, {ns.frames} frames)"
    notes = (f"Random-weight SVD-XT-layout test checkpoint (channel_mult [1,1,1,1]); euler/karras, cfg 2.5, "
             f"{ns.steps} steps x {ns.reps} runs each, {ns.threads or 'default'} torch thread(s) (median of "
             f"{res['n']} steps), stock and guided interleaved (alternating which goes first) in "
             f"one process, PyTorch attention (ComfyUI's default CPU attention sizes its chunks from the free RAM of the moment, "
             f"which made step times swing 1-6 s on this shared machine). CPU = process CPU time per step (all threads; steadier than wall time on a shared "
             f"machine). Last column: median time inside the guidance post-CFG function per step, and 1 + that / "
             f"stock step. Target: guided/stock <= 1.02.")
    if ns.no_report:
        print(rows, notes)
    else:
        append_section(title, ["path", "wall ms/step", "wall ratio", "CPU ms/step", "CPU ratio",
                                      "guidance ms/step (ratio)"], rows,
                       reference="stock KSampler on the same model, same process", notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
