"""Depth-warp renderer benchmark: CPU speed and memory at 1024x576 for 121 frames against kornia's backward depth
warp in the same run, and real-stereo PSNR.

Run as ``python bench/bench_render.py`` (appends three sections to BENCHMARKS.md: the stress moves below, the
default moves as the 2.5D node renders them, real stereo). Speed runs happen in fresh
subprocesses so that ``ru_maxrss`` is each run's own high-water mark. ``--golden save`` / ``--golden compare``
keep every frame of every move and fill under bench/_output (git-ignored) and check later renders against them
byte for byte (PSNR where they differ).
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import skimage.data
import torch
from PIL import Image
from report import append_section

from draw_to_video.trajectory.render.depth import depth_from_map, disparity_to_depth, stereo_cameras
from draw_to_video.trajectory.render.warp import FILL_MODES, render_views

W, H, N = 1024, 576, 121
ALOE = "/usr/share/doc/opencv-doc/examples/data/"
MOVES, FILLS = ("pan", "orbit", "dolly-in"), FILL_MODES
NODE_FILL = FILL_MODES[0]  # the renderer's (and node's) default
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_output", "render_golden")
ROOT = Path(__file__).resolve().parent.parent


def scene() -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """The Middlebury motorcycle (real photo + real depth, median 1) resized to 1024x576."""
    left, _, disp = skimage.data.stereo_motorcycle()
    depth, valid = disparity_to_depth(disp, 994.978, 193.001, doffs=31.086)
    depth = depth_from_map(torch.where(valid, depth, torch.nan), "depth", normalise=False)[0]
    depth = (depth / depth.median()).numpy()
    img = torch.from_numpy(cv2.resize(left, (W, H), interpolation=cv2.INTER_AREA)).permute(2, 0, 1).float() / 255
    dep = torch.from_numpy(cv2.resize(depth, (W, H), interpolation=cv2.INTER_NEAREST))
    sx, sy = W / 741, H / 500
    K = np.array([[994.978 * sx, 0, 311.193 * sx], [0, 994.978 * sy, 254.877 * sy], [0, 0, 1.0]])
    return img, dep, K


def trajectory(kind: str) -> np.ndarray:
    """``cam_T_src [N,4,4]`` of a named move (subject at depth 1)."""
    Ts = np.repeat(np.eye(4)[None], N, axis=0)
    for i, a in enumerate(np.linspace(0.0, 1.0, N)):
        if kind == "orbit":  # 10 deg arc around the subject
            R = cv2.Rodrigues(np.array([0.0, -math.radians(10) * a, 0.0]))[0]
            pose = np.eye(4)
            pose[:3, :3], pose[:3, 3] = R, np.array([0, 0, 1.0]) + R @ np.array([0, 0, -1.0])
            Ts[i] = np.linalg.inv(pose)
        elif kind == "pan":
            Ts[i, :3, :3] = cv2.Rodrigues(np.array([0.0, math.radians(12) * a, 0.0]))[0]
        elif kind == "dolly-in":  # 30 % of the subject distance: magnifies the foreground (footprint path)
            Ts[i, 2, 3] = -0.3 * a
    return Ts


def kornia_ms(img: torch.Tensor, dep: torch.Tensor, K: np.ndarray, Ts: np.ndarray, chunk: int = 4) -> float:
    """Peer reference: kornia's backward depth warp (``warp_frame_depth``: unproject the target depth, move,
    project, bilinear ``grid_sample``) of the same image, depth and cameras, ``chunk`` frames a call; CPU ms per
    frame on the current thread count. It needs the *target* depth, which a single-image renderer does not have
    (the source depth stands in), and has no z-buffer, footprints, cracks or fill: the floor for a warp."""
    from kornia.geometry.depth import warp_frame_depth

    src_T_cam = torch.from_numpy(np.linalg.inv(Ts)).float()
    cam = torch.from_numpy(K).float()
    c0 = time.process_time()
    for i in range(0, len(Ts), chunk):
        b = min(chunk, len(Ts) - i)
        warp_frame_depth(img[None].expand(b, -1, -1, -1), dep[None, None].expand(b, -1, -1, -1),
                         src_T_cam[i:i + b], cam[None].expand(b, -1, -1))
    return 1000 * (time.process_time() - c0) / len(Ts)


def speed_child(kind: str, fill: str) -> dict:
    img, dep, K = scene()
    Ts = trajectory(kind)
    torch.set_num_threads(2)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before any rendering: growth = outputs + intermediates
    t0 = time.perf_counter()
    out = render_views(img, dep, K, K, Ts, fill=fill, chunk=4)  # the whole clip, stacked as a node gets it
    wall = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seen = float(out.visible.mean())
    del out
    torch.set_num_threads(1)  # intrinsic cost: CPU time of one thread over the middle 16 frames
    render_views(img, dep, K, K, Ts[:4], fill=fill)  # warm-up
    c0 = time.process_time()
    render_views(img, dep, K, K, Ts[52:68], fill=fill)
    cpu_ms = 1000 * (time.process_time() - c0) / 16
    kornia_ms(img, dep, K, Ts[:4])  # warm-up
    return {"fps": N / wall, "cpu_ms": cpu_ms, "kornia_ms": kornia_ms(img, dep, K, Ts[52:68]),
            "rss_mb": (rss1 - rss0) / 1024, "visible": seen, "load": os.getloadavg()[0]}


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


DEFAULT_FRAMES = 49  # the camera nodes' default
TURNS = ("pan_left", "tilt_up", "dutch_roll", "zoom_in")  # presets whose camera only turns or zooms


def default_moves() -> list[tuple[str, str, object]]:
    """``(label, preset, strokes)``: every intent's default move (bench_shots' drawn shapes, preset auto), then the
    presets that only turn or zoom."""
    from bench_shots import intent_strokes

    return [(f"auto: {k}", "auto", v) for k, v in intent_strokes().items()] + [(p, p, None) for p in TURNS]


def default_child(label: str) -> dict:
    """One default move as the 2.5D node renders it, on the bundled motorcycle photo and its real depth resized to
    1024x576 (so the node's default frame size, the image's aspect, is 1024x576): strength auto within the 3%
    budget, overscan 0.95, 49 frames, the default fill, 2 torch threads."""
    from bench_shots import photos

    from draw_to_video.trajectory.camera.budget import DEFAULT_BUDGET
    from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory

    fov = photos(64)[0].fov_deg
    img = Image.open(ROOT / "assets" / "motorcycle.jpg").convert("RGB").resize((W, H), Image.BICUBIC)
    image = torch.from_numpy(np.asarray(img, np.float32) / 255.0).permute(2, 0, 1).contiguous()
    inv = np.asarray(Image.open(ROOT / "assets" / "motorcycle_depth.png").resize((W, H), Image.NEAREST), np.float32)
    depth = depth_from_map(inv, "inverse_depth")[0]
    preset, strokes = next((p, s) for lab, p, s in default_moves() if lab == label)
    opts = ShotOptions(preset=preset, frames=DEFAULT_FRAMES, width=W, height=H, fov_deg=fov,
                       budget=DEFAULT_BUDGET, auto_strength=True, overscan=0.95)
    traj = build_trajectory(strokes, opts, depth=depth.numpy().astype(np.float64))
    args = (image, depth, torch.tensor(traj.source_K(W, H)), torch.tensor(traj.K), torch.tensor(traj.cam_T_world()))
    torch.set_num_threads(2)
    render_views(*args[:3], args[3][:2], args[4][:2], out_hw=(H, W))  # warm-up
    t0 = time.perf_counter()
    out = render_views(*args, out_hw=(H, W))
    wall = time.perf_counter() - t0
    turns = int(sum(bool((t[:3, 3] == 0).all()) for t in args[4]))
    return {"move": traj.preset, "fps": DEFAULT_FRAMES / wall, "turn_frames": turns,
            "visible": float(out.visible.mean()), "load": os.getloadavg()[0]}


def plain_warp(img: torch.Tensor, disp: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: nearest forward warp by the disparity with a z-buffer (larger disparity wins), no sub-pixel."""
    c, h, w = img.shape
    d = torch.from_numpy(np.nan_to_num(disp, nan=-1.0, posinf=-1.0)).float()
    ok = d > 0
    u = torch.arange(w).expand(h, w) - d
    ui = torch.floor(u + 0.5).long()
    vi = torch.arange(h)[:, None].expand(h, w)
    ok &= (ui >= 0) & (ui < w)
    key = torch.where(ok, (-(d * 1000)).long() * (h * w) + torch.arange(h * w).view(h, w), torch.iinfo(torch.int64).max)
    buf = torch.full((h * w,), torch.iinfo(torch.int64).max)
    buf.scatter_reduce_(0, (vi * w + ui.clamp(0, w - 1)).flatten(), key.flatten(), reduce="amin")
    seen = buf != torch.iinfo(torch.int64).max
    src = torch.where(seen, buf % (h * w), 0)
    return img.reshape(c, -1)[:, src].view(c, h, w), seen.view(h, w)


def psnr(a: torch.Tensor, b: torch.Tensor, m: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / float(((a - b) ** 2).mean(0)[m].mean()))


def stereo_rows() -> list[list[object]]:
    rows = []
    left, right, disp = skimage.data.stereo_motorcycle()
    f, cx, cy, doffs, base = 994.978, 311.193, 254.877, 31.086, 193.001
    cases = [("motorcycle (Middlebury 2014, 741x500)", left, right, disp, f, base, cx, cy, doffs)]
    gt = cv2.imread(ALOE + "aloeGT.png", cv2.IMREAD_GRAYSCALE).astype(np.float32)
    al, ar = (cv2.imread(ALOE + n)[..., ::-1].copy() for n in ("aloeL.jpg", "aloeR.jpg"))
    cases.append(("aloe (Middlebury 2006, 1282x1110)", al, ar, np.where(gt > 0, gt, np.nan), 1000.0, 1.0,
                  al.shape[1] / 2, al.shape[0] / 2, 0.0))
    for name, lft, rgt, dsp, f, base, cx, cy, doffs in cases:
        img = torch.from_numpy(lft).permute(2, 0, 1).float() / 255
        tgt = torch.from_numpy(rgt).permute(2, 0, 1).float() / 255
        depth, _ = disparity_to_depth(dsp, f, base, doffs=doffs)
        K1, K2, T = stereo_cameras(f, cx, cy, base, doffs=doffs)
        t0 = time.perf_counter()
        r = render_views(img, depth, K1, K2[None], T[None])
        dt = time.perf_counter() - t0
        m = r.visible[0] > 0
        ref, ref_seen = plain_warp(img, dsp)
        both = m & ref_seen
        p, p_ref = psnr(r.frames[0], tgt, m), psnr(ref, tgt, ref_seen)
        rows.append([name, round(p, 2), round(p_ref, 2), round(psnr(r.frames[0], tgt, both), 2),
                     round(psnr(ref, tgt, both), 2), round(float(m.float().mean()), 3), round(dt, 2)])
    return rows


def main() -> None:
    rows = []
    frames_mb = N * 3 * H * W * 4 / 2**20  # the stacked output frames alone (float32)
    for kind in MOVES:
        for fill in ("none", NODE_FILL):
            r = run_child(kind, fill)
            rows.append([kind, "warp only" if fill == "none" else f"warp + fill ({fill}, node default)",
                         round(r["fps"], 1),
                         round(r["cpu_ms"], 1), round(2000.0 / r["cpu_ms"], 1), round(r["kornia_ms"], 1),
                         round(r["cpu_ms"] / r["kornia_ms"], 2), round(r["rss_mb"]), round(r["rss_mb"] / frames_mb, 2),
                         round(r["rss_mb"] / (frames_mb * 5 / 3), 2), round(r["visible"], 3), round(r["load"], 1)])
    append_section(
        "Depth-warp renderer speed, 1024x576, 121 frames (CPU)",
        ["move", "stage", "fps (2 threads, wall)", "CPU ms/frame (1 thread)", "2-core bound fps (2000 / CPU ms)",
         "kornia CPU ms/frame (1 thread)", "CPU time / kornia", "peak RSS growth MB", "RSS growth / frames' bytes",
         "RSS growth / all outputs' bytes", "visible", "load avg"], rows,
        reference="kornia.geometry.depth.warp_frame_depth (backward warp by a known target depth, bilinear "
                  "grid_sample, no z-buffer or fill) on the same image, depth and cameras, same run, same chunks "
                  "of 4 (ratio column); target 25 fps on 2 cores",
        notes="fps: the whole 121-frame clip through render_views (outputs stacked as the node gets them), 2 torch "
              "threads (the renderer then renders two parts of each chunk side by side, one thread each), wall clock. CPU ms: time.process_time of one torch thread over the middle 16 frames; the "
              "2-core bound assumes both cores. Peak RSS growth (ru_maxrss, fresh subprocess) includes the "
              f"stacked outputs: frames ({frames_mb:.0f} MB) plus visible and depth (1/3 of that each; all outputs "
              f"{frames_mb * 5 / 3:.0f} MB). Scene: "
              "Middlebury motorcycle with its ground-truth depth (median 1). dolly-in magnifies the foreground "
              "(per-point Jacobian, 3x3 and super-sampled footprints), and so does the orbit near its end; every "
              "pan frame only turns (the exact inverse homography, no splat). The machine's 2 cores are shared "
              "with other jobs (load avg column), so wall-clock fps and, less so, CPU time are pessimistic.")
    rows = []
    for label, _, _ in default_moves():
        r = run_child("--default", label)
        rows.append([label, r["move"], round(r["fps"], 1), round(r["fps"] / 25.0, 2),
                     f"{r['turn_frames']}/{DEFAULT_FRAMES}", round(r["visible"], 3), round(r["load"], 1)])
    append_section(
        f"Depth-warp renderer speed on the default moves, {W}x{H}, {DEFAULT_FRAMES} frames (CPU)",
        ["stroke or preset", "move", "fps (2 threads, wall)", "fps / 25", "frames that only turn", "visible",
         "load avg"], rows,
        reference="the target of 25 fps at 1024x576 on 2 CPU cores (ratio column)",
        notes="Every intent's default move (the simple drawn shapes of bench_shots, preset auto) and the presets "
              "that only turn or zoom, as the 2.5D node renders them by default: the bundled motorcycle photo "
              "with its real depth, resized to 1024x576 (the node's default frame size is the image's aspect), "
              "strength auto within the 3% budget, overscan 0.95, the default "
              "(layered) fill, render_views with 2 torch threads, wall clock over the whole clip after a 2-frame "
              "warm-up, in a fresh subprocess each. 'Frames that only turn' render by the exact inverse homography "
              "(no translation: frame 0 of every move); the others splat.")
    append_section(
        "Depth-warp renderer: real stereo, left image rendered into the right camera",
        ["pair", "PSNR dB ours (own visible)", "PSNR dB plain (own seen)", "PSNR dB ours (common)",
         "PSNR dB plain (common)", "visible", "seconds"],
        stereo_rows(),
        reference="a plain nearest-pixel forward warp by the ground-truth disparity with a z-buffer, same run "
                  "(the brief quotes ~22 dB motorcycle, ~23 dB aloe for a plain warp)",
        notes="PSNR over the pixels each method marks as seen (ours: visible mask, filled cracks included), and "
              "over the pixels both see. The two warps score alike: on these real pairs the error is dominated by "
              "photometric differences between the cameras, not by sub-pixel placement.")


def golden(mode: str) -> None:
    """``--golden save``: write every frame of every move and fill as .npy under bench/_output (git-ignored);
    ``--golden compare``: render again and report, per move and fill, the frames that are not byte-identical and
    the lowest PSNR against the saved frames (to check that an optimisation kept the output)."""
    img, dep, K = scene()
    os.makedirs(GOLDEN, exist_ok=True)
    for kind in MOVES:
        for fill in FILLS:
            r = render_views(img, dep, K, K, trajectory(kind), fill=fill)
            arrays = {"frames": r.frames, "visible": r.visible, "depth": r.depth}
            for name, t in arrays.items():
                path = os.path.join(GOLDEN, f"{kind}_{fill}_{name}.npy")
                if mode == "save":
                    np.save(path, t.numpy())
                    continue
                old = torch.from_numpy(np.load(path))
                same = (old.view(torch.int32) == t.view(torch.int32)).flatten(1).all(1)
                err = ((old - t) ** 2).flatten(1).mean(1).clamp_min(1e-20)
                worst = float((10 * torch.log10(1.0 / err)).min()) if name == "frames" else float("nan")
                print(f"{kind:9s} {fill:10s} {name:8s} identical {int(same.sum())}/{len(same)}"
                      + (f"  min PSNR {worst:.1f} dB" if name == "frames" and not bool(same.all()) else ""),
                      flush=True)
            del r, arrays


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--golden":
        torch.set_num_threads(2)
        golden(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1:3] == ["--child", "--default"]:
        print(json.dumps(default_child(sys.argv[3])))
    elif len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(speed_child(sys.argv[2], sys.argv[3])))
    else:
        main()
