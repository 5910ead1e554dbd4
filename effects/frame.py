"""Framing and camera-move effects: letterbox, handheld shake, impulse shake, whip-pan blur.

Warps are affine maps sampled bilinearly with a chosen border (``reflection`` by default) and leave
alpha untouched. Noise comes from a seeded CPU generator, so results are the same bytes on the CPU.
"""

from __future__ import annotations

import math

import torch

from ..trajectory.checks import CancelFn, ProgressFn
from ._core import (
    Steps,
    affine_sample,
    check_frames,
    chunks,
    copy_clip,
    cpu_generator,
    fail,
    new_output,
    parse_index_list,
    randn,
    rgb_chunk,
    translate,
    write_rgb,
)


def letterbox(frames: torch.Tensor, *, aspect: float = 2.39, seed: int = 0, progress: ProgressFn | None = None,
              cancel: CancelFn | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Black bars (RGB exactly 0, alpha untouched) so the visible picture has ``aspect`` = W/H.

    A frame narrower than ``aspect`` gets bars top and bottom (total ``H - round(W / aspect)`` rows,
    the odd row at the bottom); a wider one gets bars left and right. Equal aspect is the identity.
    """
    frames = check_frames(frames)
    Steps("letterbox", progress, cancel).check()
    res = copy_clip(frames, out)
    _, h, w, _ = frames.shape
    if w / h < aspect:
        bar = h - min(h, max(0, round(w / aspect)))
        top = bar // 2
        res[:, :top, :, :3] = 0.0
        res[:, h - (bar - top):, :, :3] = 0.0
    elif w / h > aspect:
        bar = w - min(w, max(0, round(h * aspect)))
        left = bar // 2
        res[:, :, :left, :3] = 0.0
        res[:, :, w - (bar - left):, :3] = 0.0
    return res


def affine_warp(frames: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor, rot: torch.Tensor,
                scale: torch.Tensor | float = 1.0, padding: str = "reflection",
                steps: Steps | None = None) -> torch.Tensor:
    """Per-frame similarity warp about the centre: translate by ``(tx, ty)`` px, rotate ``rot`` rad
    (clockwise on screen, y down), scale by ``scale``. Frames whose transform is the identity are
    copied exactly. Alpha untouched."""
    f, h, w, c = frames.shape
    dev = frames.device
    s_all = torch.as_tensor(scale, dtype=torch.float32, device=dev).expand(f)
    tx, ty, rot = (v.to(dev, torch.float32) for v in (tx, ty, rot))
    out = new_output(frames, None)
    cen = torch.tensor([(w - 1) / 2.0, (h - 1) / 2.0], device=dev)
    cs, sn = torch.cos(rot), torch.sin(rot)
    a = torch.stack((torch.stack((cs, sn), -1), torch.stack((-sn, cs), -1)), -2) / s_all.view(-1, 1, 1)
    b = cen - (a @ (cen + torch.stack((tx, ty), -1)).unsqueeze(-1))[..., 0]
    m = torch.cat((a, b.unsqueeze(-1)), -1)  # [F, 2, 3]: output pixel -> source pixel
    ident = (tx == 0) & (ty == 0) & (rot == 0) & (s_all == 1)
    for sl in (steps or Steps("warp")).each(chunks(f, h, w)):
        x = rgb_chunk(frames, sl)
        y = affine_sample(x, m[sl], padding)
        write_rgb(out, sl, torch.where(ident[sl].view(-1, 1, 1, 1), x, y))
    if c == 4:
        out[..., 3:] = frames[..., 3:]
    return out


def _cover_scale(tx: torch.Tensor, ty: torch.Tensor, rot: torch.Tensor, h: int, w: int) -> float:
    """Zoom that keeps the shaken frame covering the output (no border visible)."""
    shift = 1.0 + 2.0 * max(float(tx.abs().max()) / w, float(ty.abs().max()) / h)
    th = float(rot.abs().max())
    return shift * (math.cos(th) + math.sin(th) * max(w / h, h / w))


def handheld_shake(frames: torch.Tensor, *, strength: float = 1.0, translation: float = 0.01,
                   rotation: float = 0.4, frequency: float = 1.5, fps: float = 24.0, crop: bool = True,
                   padding: str = "reflection", seed: int = 0, progress: ProgressFn | None = None,
                   cancel: CancelFn | None = None) -> torch.Tensor:
    """Seeded handheld camera shake: white noise low-pass filtered over time (Gaussian, cut-off about
    ``frequency`` Hz) drives x/y translation (RMS ``translation`` x short side) and roll (RMS
    ``rotation`` degrees), scaled by ``strength``; ``crop`` zooms just enough to hide the borders."""
    frames = check_frames(frames)
    if strength == 0.0 or (translation == 0.0 and rotation == 0.0):
        return copy_clip(frames)
    f, h, w, _ = frames.shape
    sigma = fps / (2.0 * math.pi * frequency)
    r = max(1, int(math.ceil(3 * sigma)))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float64) / sigma) ** 2)
    k = k / k.square().sum().sqrt()  # filtered unit white noise keeps unit variance
    noise = randn((3, f + 2 * r), cpu_generator(seed), torch.device("cpu"), torch.float64)
    smooth = torch.nn.functional.conv1d(noise.unsqueeze(1), k.view(1, 1, -1))[:, 0]
    amp = strength * translation * min(h, w)
    tx, ty = smooth[0] * amp, smooth[1] * amp
    rot = smooth[2] * math.radians(strength * rotation)
    scale = _cover_scale(tx, ty, rot, h, w) if crop else 1.0
    return affine_warp(frames, tx.float(), ty.float(), rot.float(), scale, padding,
                       Steps("handheld_shake", progress, cancel))


def shake_impulse(frames: torch.Tensor, *, at: str = "0", amplitude: float = 0.03, rotation: float = 1.0,
                  frequency: float = 8.0, decay: float = 6.0, fps: float = 24.0, padding: str = "reflection",
                  seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Camera hits: at each frame in ``at`` (``"3, 40"``; negative from the end) a decaying oscillation
    ``A e^{-decay t} sin(2 pi frequency t)`` starts, in a seeded direction, with peak translation about
    ``amplitude`` x short side and roll ``rotation`` degrees. Impulses add up. Amplitude 0 is the identity."""
    frames = check_frames(frames)
    f, h, w, _ = frames.shape
    hits = parse_index_list(at, f, "at")
    if (amplitude == 0.0 and rotation == 0.0) or not hits:
        return copy_clip(frames)
    gen = cpu_generator(seed)
    t = torch.arange(f, dtype=torch.float64) / fps
    tx = torch.zeros(f, dtype=torch.float64)
    ty, rot = torch.zeros_like(tx), torch.zeros_like(tx)
    for i in hits:
        ang, sgn = torch.rand(2, generator=gen, dtype=torch.float64)
        dt = (t - t[i]).clamp(min=0.0)
        wave = torch.exp(-decay * dt) * torch.sin(2.0 * math.pi * frequency * dt)
        a = amplitude * min(h, w)
        tx += a * math.cos(2 * math.pi * ang) * wave
        ty += a * math.sin(2 * math.pi * ang) * wave
        rot += math.radians(rotation) * (1.0 if sgn < 0.5 else -1.0) * wave
    return affine_warp(frames, tx.float(), ty.float(), rot.float(), 1.0, padding,
                       Steps("shake_impulse", progress, cancel))


def _directional_blur(x: torch.Tensor, length: float, offset: float, direction: float, taps: int,
                      padding: str) -> torch.Tensor:
    """Average ``taps`` samples of ``x [1,3,H,W]`` along ``direction`` (rad) over ``length`` px,
    centred ``offset`` px along it."""
    n = int(min(taps, max(1, math.ceil(length) + 1)))
    cs, sn = math.cos(direction), math.sin(direction)
    acc = torch.zeros_like(x)
    for k in range(n):
        s = offset + (length * (k / (n - 1) - 0.5) if n > 1 else 0.0)
        acc += translate(x, s * cs, s * sn, padding)
    return acc / n


def whip_pan(frames: torch.Tensor, *, clip_b: torch.Tensor | None = None, at: int = -1, duration: int = 8,
             blur: float = 0.15, direction: float = 0.0, taps: int = 24, padding: str = "reflection",
             seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Whip-pan: a directional motion blur ramping up to ``blur`` x width and back down, with the picture
    sliding along ``direction`` (degrees; 0 = pan right, so the scene streaks left).

    Around frame ``at`` of ``frames`` (``-1`` = middle) over ``duration`` frames; or, with ``clip_b``
    (same H, W, C), a transition: the output is ``frames`` then ``clip_b`` with the whip centred on
    the cut. Frames outside the ramp are copied exactly; ``blur`` 0 is the identity (or the plain cut).
    """
    frames = check_frames(frames)
    n_a = frames.shape[0]
    if clip_b is not None:
        clip_b = check_frames(clip_b, "clip_b")
        if clip_b.shape[1:] != frames.shape[1:]:
            fail(f"clip_b must have the same H, W, C as frames: {tuple(clip_b.shape[1:])} vs "
                 f"{tuple(frames.shape[1:])}")
        src = torch.cat((frames, clip_b.to(frames.device, frames.dtype)), 0)
        centre = n_a - 0.5
    else:
        src = frames.clone()
        if at >= n_a:
            fail(f"at must be -1 (middle) or a frame index in [0, {n_a - 1}], got {at}")
        centre = (n_a - 1) / 2.0 if at == -1 else float(at)
    if blur == 0.0:
        return src
    _, h, w, _ = src.shape
    theta = math.radians(direction)
    half = duration / 2.0
    ramp_frames = range(max(0, math.floor(centre - half)), min(src.shape[0], math.ceil(centre + half) + 1))
    for t in Steps("whip_pan", progress, cancel).each(ramp_frames):
        dt = (t - centre) / half
        if abs(dt) >= 1.0:
            continue
        ramp = 0.5 * (1.0 + math.cos(math.pi * dt))
        length = blur * w * ramp
        if length < 0.5:
            continue
        offset = 0.5 * length * (1.0 if t < centre else -1.0)  # scene leaves opposite the pan, B arrives
        sl = slice(t, t + 1)
        write_rgb(src, sl, _directional_blur(rgb_chunk(src, sl), length, offset, theta, taps, padding))
    return src
