"""Training-free camera guidance for video diffusion: pull the denoised estimate towards depth-warped target frames.

At every sampling step the sampler's denoised estimate ``x0`` (in the model's latent space) is blended towards the
VAE latents of the warped frames, only where the renderer saw real content (the visibility mask) and only while the
noise is high (the layout and the camera are decided there); at low noise the weight falls to 0 so the model
finishes the details itself::

    x0 <- x0 + w(sigma) * mask * (target - x0)

Everything here is pure torch (no ComfyUI): the weight schedule, the latent-resolution mask, the blend, the
post-CFG callable the ComfyUI glue installs, and the window plan for long videos.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import overload

import torch
import torch.nn.functional as F

from .checks import check_shape


class GuidanceError(ValueError):
    """Bad guidance input (shapes, frame counts, schedule bounds)."""


# ---------------------------------------------------------------------------------------------------------------
# weight schedule
# ---------------------------------------------------------------------------------------------------------------
def _check_schedule(sigma_max: float, sigma_min: float, strength: float, start: float, end: float,
                    fade: float) -> None:
    if not (math.isfinite(sigma_max) and math.isfinite(sigma_min) and sigma_max > sigma_min > 0):
        raise GuidanceError(f"need sigma_max > sigma_min > 0, got sigma_max={sigma_max}, sigma_min={sigma_min}")
    if not (math.isfinite(strength) and strength >= 0):
        raise GuidanceError(f"strength must be finite and >= 0, got {strength}")
    if not (0.0 <= start <= end <= 1.0):
        raise GuidanceError(f"need 0 <= start <= end <= 1, got start={start}, end={end}")
    if not (math.isfinite(fade) and fade >= 0):
        raise GuidanceError(f"fade must be finite and >= 0, got {fade}")


def _ease(x: torch.Tensor) -> torch.Tensor:
    """Cosine ease from 0 (x <= 0) to 1 (x >= 1); exactly 1 at x >= 1."""
    return 0.5 - 0.5 * torch.cos(math.pi * x.clamp(0.0, 1.0))


@overload
def guidance_weight(sigma: float, sigma_max: float, sigma_min: float, strength: float, start: float, end: float,
                    fade: float = ...) -> float: ...
@overload
def guidance_weight(sigma: torch.Tensor, sigma_max: float, sigma_min: float, strength: float, start: float,
                    end: float, fade: float = ...) -> torch.Tensor: ...
def guidance_weight(sigma, sigma_max, sigma_min, strength, start, end, fade=0.1):
    """Blend weight at noise level ``sigma``.

    The schedule position is measured in log-sigma: ``t = (ln sigma_max - ln sigma) / (ln sigma_max - ln sigma_min)``
    clamped to ``[0, 1]`` (0 = noisiest, 1 = cleanest). The weight is ``strength`` for ``start <= t <= end`` and
    falls to 0 with a cosine ease over ``fade`` on either side (a hard edge when ``fade = 0``). A tensor ``sigma``
    gives a tensor on its device without any host synchronisation; a float gives a float.
    """
    _check_schedule(float(sigma_max), float(sigma_min), float(strength), float(start), float(end), float(fade))
    is_tensor = isinstance(sigma, torch.Tensor)
    s = sigma.float() if is_tensor else torch.tensor(float(sigma), dtype=torch.float64)
    lmax, lmin = math.log(sigma_max), math.log(sigma_min)
    t = ((lmax - torch.log(s.clamp_min(1e-30))) / (lmax - lmin)).clamp(0.0, 1.0)
    if fade > 0:  # written as distances outside the window, so a tiny fade cannot cancel to 0 inside it
        rise = _ease(1.0 - (start - t) / fade)
        fall = _ease(1.0 - (t - end) / fade)
    else:
        rise = (t >= start).to(t.dtype)
        fall = (t <= end).to(t.dtype)
    w = strength * rise * fall
    return w if is_tensor else float(w)


# ---------------------------------------------------------------------------------------------------------------
# masks and the blend
# ---------------------------------------------------------------------------------------------------------------
def latent_mask(visible: torch.Tensor, latent_hw: tuple[int, int], erode_px: int = 1,
                feather_px: int = 2) -> torch.Tensor:
    """Visibility ``[F,H,W]`` (1 = seen, 0 = hole; soft values allowed) -> blend mask ``[F,1,h,w]`` float32.

    A latent cell is trusted only as far as its *least* visible pixel (a cell touching a hole mixes in fill
    content). Cells are then eroded by ``erode_px`` latent cells so the blend leaves the hole edges free, and
    feathered by a linear ramp ``feather_px`` cells wide (chessboard distance to the nearest untrusted cell). The
    image border counts as visible: it is not a hole.
    """
    check_shape(visible, "F H W", "visible", error=GuidanceError)
    h, w = (int(v) for v in latent_hw)
    if h < 1 or w < 1 or h > visible.shape[1] or w > visible.shape[2]:
        raise GuidanceError(f"latent size {h}x{w} must be >= 1 and not larger than the mask {tuple(visible.shape)}")
    if erode_px < 0 or feather_px < 0:
        raise GuidanceError(f"erode_px and feather_px must be >= 0, got {erode_px}, {feather_px}")
    x = visible.float()
    if not torch.isfinite(x).all():
        raise GuidanceError("visible contains NaN or infinite values")
    x = x.clamp(0.0, 1.0)[:, None]
    cell = -F.adaptive_max_pool2d(-x, (h, w))  # min over each cell's pixels
    cur = (cell >= 0.5).float()
    depth = cur.clone()
    for _ in range(int(erode_px) + int(feather_px)):  # iterations of the distance, not frames: batched over F
        cur = -F.max_pool2d(-cur, 3, stride=1, padding=1)  # erosion; padding never wins, so borders stay visible
        depth += cur
    ramp = ((depth - erode_px) / (feather_px + 1.0)).clamp(0.0, 1.0)
    return ramp * cell


def _check_blend(denoised: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> None:
    sizes = check_shape(denoised, "F C h w", "denoised", error=GuidanceError)
    check_shape(target, "F C h w", "target", bound=sizes, error=GuidanceError)
    check_shape(mask, "F 1 h w", "mask", bound=sizes, error=GuidanceError)


def blend(denoised: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
          w: float | torch.Tensor) -> torch.Tensor:
    """``denoised + w * mask * (target - denoised)`` as one ``lerp`` (one new tensor). ``w == 0`` (a float)
    returns ``denoised`` itself, untouched. ``w`` may be a tensor broadcastable to ``mask``."""
    _check_blend(denoised, target, mask)
    if not isinstance(w, torch.Tensor) and w == 0:
        return denoised
    return torch.lerp(denoised, target, (mask * w).to(denoised.dtype))


def blend_(denoised: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
           w: float | torch.Tensor) -> torch.Tensor:
    """In-place :func:`blend`: writes into and returns ``denoised`` (no latent-sized temporary)."""
    _check_blend(denoised, target, mask)
    if not isinstance(w, torch.Tensor) and w == 0:
        return denoised
    return denoised.lerp_(target, (mask * w).to(denoised.dtype))


# ---------------------------------------------------------------------------------------------------------------
# the post-CFG callable
# ---------------------------------------------------------------------------------------------------------------
class LatentGuidance:
    """Post-CFG function ``fn(args) -> denoised`` (ComfyUI's ``sampler_post_cfg_function`` protocol: reads
    ``args["denoised"]`` and ``args["sigma"]``). ``target`` ``[F,C,h,w]`` is already in the model's latent space,
    ``mask`` ``[F,1,h,w]``. Both are placed on the sampling device and dtype once, on first use, and reused."""

    def __init__(self, target: torch.Tensor, mask: torch.Tensor, strength: float, start: float, end: float,
                 sigma_max: float, sigma_min: float, fade: float = 0.1) -> None:
        sizes = check_shape(target, "F C h w", "target", error=GuidanceError)
        check_shape(mask, "F 1 h w", "mask", bound=sizes, error=GuidanceError)  # same F, h, w as the target
        _check_schedule(float(sigma_max), float(sigma_min), float(strength), float(start), float(end), float(fade))
        self.target = target.detach()
        self.mask = mask.detach()
        self.strength, self.start, self.end, self.fade = float(strength), float(start), float(end), float(fade)
        self.sigma_max, self.sigma_min = float(sigma_max), float(sigma_min)
        self._placed: tuple[tuple, torch.Tensor, torch.Tensor] | None = None

    @property
    def frames(self) -> int:
        return int(self.target.shape[0])

    def check_latent(self, shape: tuple[int, ...] | torch.Size) -> None:
        """One-line error unless a latent of ``shape`` ``[F,C,h,w]`` can be guided by these targets."""
        shape = tuple(shape)
        if len(shape) != 4:
            raise GuidanceError(f"camera guidance needs a [frames,C,h,w] video latent, got shape {shape}")
        if shape[0] != self.frames:
            raise GuidanceError(f"camera guidance has {self.frames} target frames but the video latent has "
                                f"{shape[0]} frames: render the camera path with as many frames as video_frames")
        if shape[1:] != tuple(self.target.shape[1:]):
            th, tw = self.target.shape[2] * 8, self.target.shape[3] * 8
            raise GuidanceError(f"camera guidance targets are {tw}x{th} px (latent {tuple(self.target.shape[1:])}) "
                                f"but the video latent is {shape[3] * 8}x{shape[2] * 8} px ({shape[1:]}): render "
                                "the targets at the conditioning width x height")

    def placed(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        key = (like.device, like.dtype)
        if self._placed is None or self._placed[0] != key:
            self._placed = (key, self.target.to(device=like.device, dtype=like.dtype),
                            self.mask.to(device=like.device, dtype=like.dtype))
        return self._placed[1], self._placed[2]

    def weight(self, sigma: torch.Tensor) -> torch.Tensor:
        """The weight for the current step as a 1-element tensor on ``sigma``'s device (no host sync)."""
        return guidance_weight(sigma.reshape(-1)[:1], self.sigma_max, self.sigma_min, self.strength,
                               self.start, self.end, self.fade)

    def apply(self, denoised: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        if self.strength == 0:
            return denoised
        self.check_latent(denoised.shape)
        target, mask = self.placed(denoised)
        w = self.weight(sigma).to(denoised.dtype).view(1, 1, 1, 1)
        return blend(denoised, target, mask, w)

    def __call__(self, args: Mapping[str, object]) -> torch.Tensor:
        return self.apply(args["denoised"], args["sigma"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# windows for long videos
# ---------------------------------------------------------------------------------------------------------------
def plan_windows(total: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """Overlapping ``[start, end)`` frame windows covering ``0..total``: stride ``window - overlap``; the last
    window is moved back to end at ``total`` (so it may overlap more). One window when ``total <= window``."""
    if total < 1 or window < 2 or not (0 <= overlap < window):
        raise GuidanceError(f"need total >= 1, window >= 2 and 0 <= overlap < window; got total={total}, "
                            f"window={window}, overlap={overlap}")
    if overlap < 1 and total > window:
        raise GuidanceError("windows need overlap >= 1 so each one continues from a frame of the previous one")
    if total <= window:
        return [(0, total)]
    stride = window - overlap
    n = math.ceil((total - window) / stride) + 1
    starts = [min(i * stride, total - window) for i in range(n)]
    return [(s, s + window) for s in starts]


def crossfade_into(out: torch.Tensor, window: torch.Tensor, start: int, done: int) -> None:
    """Write ``window`` (frames ``start..start+len``) into ``out`` in place. Frames ``start..done`` already hold
    the previous window; they are cross-faded linearly towards the new one, the rest is copied."""
    n = window.shape[0]
    ov = max(0, min(done - start, n))
    if ov:
        ramp = torch.arange(1, ov + 1, device=out.device, dtype=out.dtype) / (ov + 1)
        out[start:start + ov].lerp_(window[:ov].to(out), ramp.view(-1, *([1] * (out.ndim - 1))))
    out[start + ov:start + n] = window[ov:].to(out)
