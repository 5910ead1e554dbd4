"""Hole fills on real stereo ground truth (issue 18 part 4): render the left view into the right camera, fill what
the left view never saw, and compare with the real right view.

Run as ``python bench/bench_fill.py [--no-append]``. Pairs: Middlebury 2014 motorcycle (skimage, with its
calibration) and Middlebury 2006 aloe (opencv-doc, ground-truth disparity). For each pair the pack renders with
``fill="none"`` once; every fill then starts from those same pixels and the same hole mask:

- ``telea``: ``cv2.inpaint`` (Telea, radius 5) of the hole mask, the classic baseline;
- each of the pack's fills (:mod:`draw_to_video.trajectory.render.holefill`), as ``render_views`` applies it.

PSNR (dB) against the real right view over the filled pixels only, over the whole frame, and over the visible
pixels (the same for every fill by construction). The issue's target: in the filled region, the better of Telea
and the old fill plus 1 dB; the whole frame not below the old fill. Every pixel of every pair is counted.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import skimage.data
import torch

from draw_to_video.trajectory.render.depth import disparity_to_depth, stereo_cameras
from draw_to_video.trajectory.render.warp import render_views

ALOE = "/usr/share/doc/opencv-doc/examples/data/"
FILLS = ("background", "pushpull", "layered")


def pairs() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, float, float, float, float, float]]:
    """``(name, left, right, disparity, f, baseline, cx, cy, doffs)`` of the two real stereo pairs."""
    left, right, disp = skimage.data.stereo_motorcycle()
    out = [("motorcycle", left, right, disp, 994.978, 193.001, 311.193, 254.877, 31.086)]
    gt = cv2.imread(ALOE + "aloeGT.png", cv2.IMREAD_GRAYSCALE).astype(np.float32)
    al, ar = (cv2.imread(ALOE + n)[..., ::-1].copy() for n in ("aloeL.jpg", "aloeR.jpg"))
    out.append(("aloe", al, ar, np.where(gt > 0, gt, np.nan), 1000.0, 1.0, al.shape[1] / 2, al.shape[0] / 2, 0.0))
    return out


def psnr(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> float:
    mse = float(((a - b) ** 2)[m].mean())
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def render(name, left, right, disp, f, base, cx, cy, doffs, fill: str):
    img = torch.from_numpy(left).permute(2, 0, 1).float() / 255
    depth, _ = disparity_to_depth(disp, f, base, doffs=doffs)
    K1, K2, T = stereo_cameras(f, cx, cy, base, doffs=doffs)
    t0 = time.perf_counter()
    r = render_views(img, depth, K1, K2[None], T[None], fill=fill)
    return r.frames[0].permute(1, 2, 0).numpy(), r.visible[0].numpy() > 0, time.perf_counter() - t0


def rows() -> list[list[object]]:
    out = []
    for pair in pairs():
        name, right = pair[0], pair[2].astype(np.float32) / 255
        raw, seen, _ = render(*pair, fill="none")
        hole = ~seen
        results = {}
        t0 = time.perf_counter()
        u8 = (raw.clip(0, 1) * 255 + 0.5).astype(np.uint8)
        results["telea"] = (cv2.inpaint(u8, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA).astype(np.float32) / 255,
                            time.perf_counter() - t0)
        for fill in FILLS:
            frame, seen_f, dt = render(*pair, fill=fill)
            assert (seen_f == seen).all()
            results[fill] = (frame, dt)
        for method, (frame, dt) in results.items():
            out.append([name, method, round(psnr(frame, right, hole), 2), round(psnr(frame, right, np.ones_like(hole)), 2),
                        round(psnr(frame, right, seen), 2), f"{hole.mean():.2%}", round(dt, 2)])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-append", action="store_true", help="print the table only")
    args = ap.parse_args()
    torch.set_num_threads(2)
    cv2.setNumThreads(2)
    header = ["pair", "fill", "PSNR dB filled pixels", "PSNR dB whole frame", "PSNR dB visible", "filled share",
              "seconds"]
    table_rows = rows()
    from report import append_section, table
    if args.no_append:
        print(table(header, table_rows))
        return
    append_section("Hole fills on real stereo: left rendered into the right camera, filled, compared with the real "
                   "right view", header, table_rows,
                   reference="cv2.inpaint Telea (radius 5) of the same render and hole mask, same run",
                   notes="Every fill starts from the same fill-none render and hole mask; seconds = the render with "
                         "that fill (Telea: the inpaint alone).")


if __name__ == "__main__":
    main()
