"""Helpers the GPU benchmarks' child scripts share (``gpu_svd.py``, ``gpu_more.py``): timing with CUDA syncs, peak
memory, a synthetic scene and camera moves rendered by the pack's 2.5D renderer, and timed sampling and decode.

Loaded by path (runpy) inside the child Python (working directory: the ComfyUI root, after ComfyUI's own
modules), never by the benchmark scripts themselves.
"""

from __future__ import annotations

import math
import time

import torch

CUDA = torch.cuda.is_available()


def sync() -> None:
    if CUDA:
        torch.cuda.synchronize()


def clock() -> float:
    sync()
    return time.perf_counter()


def reset_peak() -> None:
    if CUDA:
        torch.cuda.reset_peak_memory_stats()


def peak_gb() -> float:
    return torch.cuda.max_memory_allocated() / 2**30 if CUDA else float("nan")


def scene(h: int, w: int, dev, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random image ``[3,H,W]`` and a ground-plane-like depth ``[H,W]`` (1 at the bottom, 5 at the top)."""
    g = torch.Generator().manual_seed(seed)
    img = torch.nn.functional.interpolate(torch.rand(1, 3, max(h // 16, 2), max(w // 16, 2), generator=g),
                                          size=(h, w), mode="bicubic").clamp(0, 1)[0].to(dev)
    yy = torch.linspace(0, 1, h, device=dev)[:, None].expand(h, w)
    return img, 1.0 + 4.0 * (1.0 - yy) ** 2


def cameras(kind: str, frames: int, dev) -> torch.Tensor:
    """``cam_T_src [F,4,4]`` of a named move: dolly-in, pan (12 degrees), orbit (10 degrees about depth 2), or
    dolly-pan (a slow dolly-in with a sideways drift)."""
    T = torch.eye(4, device=dev).repeat(frames, 1, 1)
    t = torch.linspace(0, 1, frames, device=dev)
    if kind == "dolly-in":
        T[:, 2, 3] = -0.3 * t
    elif kind == "pan":
        a = math.radians(12) * t
        T[:, 0, 0], T[:, 0, 2], T[:, 2, 0], T[:, 2, 2] = a.cos(), a.sin(), -a.sin(), a.cos()
    elif kind == "orbit":
        a = -math.radians(10) * t
        c, s = a.cos(), a.sin()
        T[:, 0, 0], T[:, 0, 2], T[:, 2, 0], T[:, 2, 2] = c, s, -s, c
        T[:, 0, 3], T[:, 2, 3] = -2.0 * s, 2.0 - 2.0 * c
    elif kind == "dolly-pan":
        T[:, 2, 3], T[:, 0, 3] = -0.3 * t, -0.1 * t
    else:
        raise ValueError(f"unknown move {kind!r}")
    return T


def render(kind: str, frames: int, h: int, w: int, dev, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The pack's 2.5D render of :func:`scene` along :func:`cameras` -> (frames ``[F,H,W,3]``, visible ``[F,H,W]``),
    on the CPU."""
    from draw_to_video.trajectory.camera.model import K_from_fov
    from draw_to_video.trajectory.render.warp import render_views

    img, depth = scene(h, w, dev, seed)
    K = torch.as_tensor(K_from_fov(50.0, w, h), dtype=torch.float32, device=dev)
    res = render_views(img, depth, K, K, cameras(kind, frames, dev), out_hw=(h, w))
    return res.frames.permute(0, 2, 3, 1).contiguous().cpu(), res.visible.cpu()


def sample(m, noise, pos, neg, lat, steps: int, seed: int) -> tuple[torch.Tensor, list[float], float]:
    """ComfyUI sampling (euler/karras, cfg 2.5) -> (samples, seconds of each step, total seconds)."""
    import comfy.sample

    stamps: list[float] = []
    t0 = clock()
    out = comfy.sample.sample(m, noise, steps, 2.5, "euler", "karras", pos, neg, lat, seed=seed,
                              callback=lambda *a: stamps.append(clock()), disable_pbar=True)
    return out, [b - a for a, b in zip([t0] + stamps[:-1], stamps)], stamps[-1] - t0


def decode(vae, samples) -> tuple[torch.Tensor, float]:
    t0 = clock()
    img = vae.decode(samples)
    return img, clock() - t0
