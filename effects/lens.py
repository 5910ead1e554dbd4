"""Lens and film effects: motion blur from optical flow, depth of field, vignette, chromatic aberration,
lens distortion, film grain, halation/bloom and the dolly-zoom scale helper.

All take ``[F, H, W, C]`` clips in 0..1, leave alpha untouched, and return a new tensor (or write into
``out=``, which may be the input itself for the per-frame effects that accept it). Strength / amount
0 returns an exact copy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..trajectory.checks import CancelFn, ProgressFn
from ._core import (
    Steps,
    affine_sample,
    check_frames,
    check_shape,
    chunks,
    compute_dtype,
    copy_clip,
    cpu_generator,
    gaussian_blur,
    luma_last,
    map_pixels,
    map_rgb,
    new_output,
    per_frame,
    pixel_grid,
    randn,
    rgb_chunk,
    sample_pixels,
    write_rgb,
)
from ._flow import FlowEstimator


def _radial(h: int, w: int, device: torch.device, center: Sequence[float] = (0.5, 0.5)) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel grid ``[H, W, 2]`` and offsets from ``center`` (fractions of W, H) in pixels."""
    uv = pixel_grid(h, w, device)
    c = torch.tensor([center[0] * (w - 1), center[1] * (h - 1)], device=device)
    return uv, uv - c


def _velocity(est: FlowEstimator, greys: dict[int, object], frames: torch.Tensor, t: int) -> torch.Tensor:
    """Per-pixel motion of frame ``t`` in pixels per frame (central difference of DIS flows)."""
    f, h, w, _ = frames.shape

    def grey(i: int) -> object:
        if i not in greys:
            greys[i] = est.grey(frames[i, ..., :3].permute(2, 0, 1))
        return greys[i]

    parts = []
    if t + 1 < f:
        parts.append(est.flow_grey(grey(t), grey(t + 1), h, w, frames.device))
    if t > 0:
        parts.append(-est.flow_grey(grey(t), grey(t - 1), h, w, frames.device))
    for k in [k for k in greys if k < t - 1]:
        del greys[k]
    return sum(parts) / len(parts) if parts else torch.zeros(h, w, 2, device=frames.device)


def motion_blur(frames: torch.Tensor, *, shutter_angle: float = 180.0, taps: int = 9,
                flow: torch.Tensor | None = None, flow_max_side: int = 512, seed: int = 0,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Blur each frame along its own per-pixel motion, as a shutter open ``shutter_angle``/360 of a frame.

    Motion is the central difference of OpenCV DIS flows to the neighbouring frames, or ``flow``
    ``[F, H, W, 2]`` (pixels per frame, ``(du, dv)``) when given. The frame is sampled at
    ``p + s * v(p)`` for ``taps`` values of ``s`` spread over ``[-a/2, a/2]``, ``a = shutter/360``, and
    averaged; pixels whose blur length is under 1e-3 px are copied exactly, so a static clip is the
    identity. Blur length is ``a * |v|`` and so grows linearly with the shutter angle.
    """
    frames = check_frames(frames)
    shutter = shutter_angle
    f, h, w, c = frames.shape
    if flow is not None:
        check_shape(flow, f"{f} {h} {w} 2", "flow")
    if shutter == 0.0 or (f == 1 and flow is None):
        return copy_clip(frames)
    a = shutter / 360.0
    out = torch.empty_like(frames)
    est = FlowEstimator(flow_max_side)
    greys: dict[int, object] = {}
    uv0 = pixel_grid(h, w, frames.device).unsqueeze(0)
    for t in Steps("motion_blur", progress, cancel).each(range(f)):
        sl = slice(t, t + 1)
        x = rgb_chunk(frames, sl)
        v = (flow[t].to(frames.device, torch.float32) if flow is not None else _velocity(est, greys, frames, t))
        length = v.norm(dim=-1) * a
        n = int(min(taps, max(2, math.ceil(float(length.max())) + 1)))
        acc = torch.zeros_like(x)
        for k in range(n):
            s = a * (k / (n - 1) - 0.5)
            acc += sample_pixels(x, uv0 + s * v.unsqueeze(0), padding="border")
        y = torch.where((length < 1e-3).view(1, 1, h, w), x, acc / n)
        write_rgb(out, sl, y)
    if c == 4:
        out[..., 3:] = frames[..., 3:]
    return out


def depth_of_field(frames: torch.Tensor, *, depth: torch.Tensor, focus_distance: float | Sequence[float] | torch.Tensor = 1.0,
                   aperture: float | Sequence[float] | torch.Tensor = 4.0, max_blur: float = 16.0,
                   seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Spatially varying blur from a depth map ``[F, H, W]`` / ``[H, W]`` (positive, larger = farther).

    Circle of confusion (as a Gaussian sigma in pixels) ``c = aperture * |d - focus| / d``, clamped to
    ``max_blur``: ``aperture`` is the blur of a point at infinity. ``focus_distance`` and ``aperture``
    are a number or one value per frame. Each pixel blends the two nearest levels of a Gaussian stack
    (sigma 0, 1, 2, 4, ...); where ``c`` = 0 the pixel is copied exactly.
    """
    frames = check_frames(frames)
    f, h, w, c = frames.shape
    if getattr(depth, "ndim", 0) != 2:
        check_shape(depth, f"{f}|1 H W", "depth")
    d = depth.to(frames.device, torch.float32).reshape(-1, 1, depth.shape[-2], depth.shape[-1])
    if d.shape[-2:] != (h, w):
        d = torch.nn.functional.interpolate(d, size=(h, w), mode="bilinear", align_corners=False)
    focus = per_frame(focus_distance, f, "focus_distance", frames.device)
    ap = per_frame(aperture, f, "aperture", frames.device)
    if max_blur == 0.0 or bool((ap == 0).all()):
        return copy_clip(frames)
    sigmas = [0.0] + [2.0**i for i in range(int(math.ceil(math.log2(max(max_blur, 1.0)))) + 1)]

    def fn(x: torch.Tensor, sl: slice) -> torch.Tensor:
        dd = d[sl] if d.shape[0] == f else d.expand(x.shape[0], -1, -1, -1)
        fo, apt = focus[sl].view(-1, 1, 1, 1), ap[sl].view(-1, 1, 1, 1)
        coc = (apt * (dd - fo).abs() / dd).clamp(0.0, max_blur).to(x.dtype)
        y = torch.zeros_like(x)
        for i, s in enumerate(sigmas):
            lo = sigmas[i - 1] if i > 0 else None
            hi = sigmas[i + 1] if i + 1 < len(sigmas) else None
            wgt = torch.zeros_like(coc)
            if lo is not None:
                wgt = torch.where((coc > lo) & (coc <= s), (coc - lo) / (s - lo), wgt)
            if hi is not None:
                wgt = torch.where((coc >= s) & (coc < hi), (hi - coc) / (hi - s), wgt)
            else:
                wgt = torch.where(coc >= s, torch.ones_like(coc), wgt)
            if bool((wgt > 0).any()):
                y += wgt * (x if s == 0.0 else gaussian_blur(x, s))
        return y

    return map_rgb(frames, fn, steps=Steps("depth_of_field", progress, cancel))


def vignette(frames: torch.Tensor, *, strength: float = 0.35, radius: float = 0.75, softness: float = 0.5,
             seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None,
             out: torch.Tensor | None = None) -> torch.Tensor:
    """Darken towards the corners: gain ``1 - strength * smoothstep`` over distance from the centre.

    Distance is in units of the half-diagonal (aspect-correct circle); the fall-off runs from
    ``radius - softness/2`` to ``radius + softness/2``.
    """
    frames = check_frames(frames)
    if strength == 0.0:
        return copy_clip(frames, out)
    f, h, w, _ = frames.shape
    _, off = _radial(h, w, frames.device)
    r = off.norm(dim=-1) / max(0.5 * math.hypot(w - 1, h - 1), 1e-6)
    t = ((r - (radius - softness / 2)) / softness).clamp(0.0, 1.0)
    gain = (1.0 - strength * t * t * (3.0 - 2.0 * t)).view(1, h, w, 1)
    return map_pixels(frames, lambda x, sl: x.mul_(gain.to(x.dtype)), out, Steps("vignette", progress, cancel))


def chromatic_aberration(frames: torch.Tensor, *, strength: float = 0.004, seed: int = 0,
                         progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                         out: torch.Tensor | None = None) -> torch.Tensor:
    """Lateral chromatic aberration: red scaled by ``1 + strength`` and blue by ``1 - strength`` about
    the centre (green untouched), sampled bilinearly with border padding."""
    frames = check_frames(frames)
    if strength == 0.0:
        return copy_clip(frames, out)
    f, h, w, _ = frames.shape
    uv, off = _radial(h, w, frames.device)
    c = uv - off
    uv_r = (c + off / (1.0 + strength)).unsqueeze(0)
    uv_b = (c + off / (1.0 - strength)).unsqueeze(0)

    def fn(x: torch.Tensor, sl: slice) -> torch.Tensor:  # channels-last; green stays as it is
        n = x.shape[0]
        r = sample_pixels(x[..., 0].unsqueeze(1), uv_r.expand(n, -1, -1, -1))
        b = sample_pixels(x[..., 2].unsqueeze(1), uv_b.expand(n, -1, -1, -1))
        x[..., 0] = r[:, 0]
        x[..., 2] = b[:, 0]
        return x

    return map_pixels(frames, fn, out, Steps("chromatic_aberration", progress, cancel))


def lens_distortion(frames: torch.Tensor, *, k1: float = 0.1, k2: float = 0.0, fit: bool = True,
                    padding: str = "border", seed: int = 0, progress: ProgressFn | None = None,
                    cancel: CancelFn | None = None) -> torch.Tensor:
    """Radial (Brown) distortion: output pixel at normalised radius ``r`` shows the source at
    ``r (1 + k1 r^2 + k2 r^4)`` (``r`` = 1 at the corners). ``k1 > 0`` is barrel, ``k1 < 0`` pincushion.
    ``fit`` zooms so the corners stay inside the source (no padding visible)."""
    frames = check_frames(frames)
    if k1 == 0.0 and k2 == 0.0:
        return copy_clip(frames)
    f, h, w, _ = frames.shape
    uv, off = _radial(h, w, frames.device)
    r2 = off.square().sum(-1, keepdim=True) / max(0.25 * ((w - 1) ** 2 + (h - 1) ** 2), 1e-12)
    factor = 1.0 + k1 * r2 + k2 * r2 * r2
    if fit:
        factor = factor / max(float(factor.max()), 1e-6) if float(factor.max()) > 1.0 else factor
    src = ((uv - off) + off * factor).unsqueeze(0)
    return map_rgb(frames, lambda x, sl: sample_pixels(x, src.expand(x.shape[0], -1, -1, -1), padding),
                   steps=Steps("lens_distortion", progress, cancel))


def film_grain(frames: torch.Tensor, *, strength: float = 0.06, size: float = 1.5, response: float = 0.7,
               colour: float = 0.15, seed: int = 0, progress: ProgressFn | None = None,
               cancel: CancelFn | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Seeded film grain, strongest in the mid-tones.

    Unit-RMS Gaussian noise at ``1/size`` resolution is upsampled bilinearly, mixed ``colour`` parts
    per-channel to ``1 - colour`` monochrome, and added with amplitude
    ``strength * (1 - response + response * 4 l (1 - l))`` for luma ``l``; the result is clamped to 0..1.
    """
    frames = check_frames(frames)
    if strength == 0.0:
        return copy_clip(frames, out)
    gen = cpu_generator(seed)
    f, h, w, _ = frames.shape
    gh, gw = max(1, round(h / size)), max(1, round(w / size))
    # unit RMS after bilinear upsampling: i.i.d. noise loses variance by the mean squared weights
    var = _upsample_gain(gh, h) * _upsample_gain(gw, w)

    def fn(x: torch.Tensor, sl: slice) -> torch.Tensor:
        n = randn((x.shape[0], 4, gh, gw), gen, x.device, x.dtype)
        g = n[:, :3].mul_(colour).add_(n[:, 3:4], alpha=1.0 - colour).mul_((var * (colour**2 + (1 - colour) ** 2)) ** -0.5)
        if (gh, gw) != (h, w):
            g = torch.nn.functional.interpolate(g, size=(h, w), mode="bilinear", align_corners=False)
        lum = luma_last(x).clamp_(0.0, 1.0)
        amp = (lum * (1.0 - lum)).mul_(4.0 * response * strength).add_(strength * (1.0 - response))
        return x.addcmul_(amp.unsqueeze(-1), g.permute(0, 2, 3, 1)).clamp_(0.0, 1.0)

    return map_pixels(frames, fn, out, Steps("film_grain", progress, cancel))


def _upsample_gain(n_in: int, n_out: int) -> float:
    """Variance factor of 1-D bilinear resizing (align_corners=False) applied to i.i.d. unit noise."""
    if n_in == n_out:
        return 1.0
    m = torch.nn.functional.interpolate(torch.eye(n_in, dtype=torch.float64).unsqueeze(0), size=n_out,
                                        mode="linear", align_corners=False)[0]
    return float(m.square().sum(0).mean())


def halation(frames: torch.Tensor, *, strength: float = 0.3, threshold: float = 0.75, radius: float = 0.02,
             tint: Sequence[float] = (1.0, 0.45, 0.25), seed: int = 0, progress: ProgressFn | None = None,
             cancel: CancelFn | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Halation / bloom: highlights above ``threshold`` (luma), blurred with sigma ``radius`` x the
    short side, tinted (warm by default) and screen-blended with ``strength``."""
    frames = check_frames(frames)
    tint_t = per_frame(tint, 3, "tint", frames.device).view(1, 3, 1, 1)
    if strength == 0.0:
        return copy_clip(frames, out)
    f, h, w, _ = frames.shape
    sigma = radius * min(h, w)
    tint_s = (tint_t.view(3) * strength).to(compute_dtype(frames.dtype))

    def fn(x: torch.Tensor, sl: slice) -> torch.Tensor:  # channels-last
        hl = luma_last(x).sub_(threshold).div_(1.0 - threshold).clamp_(0.0, 1.0).unsqueeze(1)
        glow = (gaussian_blur(hl, sigma)[:, 0].unsqueeze(-1) * tint_s).clamp_(0.0, 1.0)
        return x.lerp_(torch.ones((), dtype=x.dtype, device=x.device), glow)  # screen blend: 1-(1-x)(1-g)

    return map_pixels(frames, fn, out, Steps("halation", progress, cancel))


def dolly_zoom(frames: torch.Tensor, *, focal_ratio: float | Sequence[float] | torch.Tensor = 1.0,
               center: Sequence[float] = (0.5, 0.5), padding: str = "reflection", seed: int = 0,
               progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> torch.Tensor:
    """Scale each frame about ``center`` (fractions of W, H) by ``focal_ratio[t]`` (> 1 zooms in).

    Used to compensate a dolly move (or fake a zoom) per frame; frames with ratio 1 are copied exactly.
    """
    frames = check_frames(frames)
    f, h, w, c = frames.shape
    ratio = per_frame(focal_ratio, f, "focal_ratio", frames.device)
    cen = per_frame(center, 2, "center", frames.device)
    out = new_output(frames, None)
    c0 = torch.stack((cen[0] * (w - 1), cen[1] * (h - 1)))
    m = torch.zeros(f, 2, 3, device=frames.device)
    m[:, 0, 0] = m[:, 1, 1] = 1.0 / ratio
    m[:, :, 2] = c0 - c0 * (1.0 / ratio).unsqueeze(-1)  # source = c + (p - c) / ratio
    for sl in Steps("dolly_zoom", progress, cancel).each(chunks(f, h, w)):
        x = rgb_chunk(frames, sl)
        y = affine_sample(x, m[sl], padding)
        write_rgb(out, sl, torch.where((ratio[sl] == 1.0).view(-1, 1, 1, 1), x, y))
    if c == 4:
        out[..., 3:] = frames[..., 3:]
    return out
