"""The 2.5D render as the controls of ComfyUI core's ``WanVaceToVideo`` (Wan 2.1 VACE): the frames as the control
video, what the photo never showed as the mask VACE regenerates.

What core does with them (read from ComfyUI 0.3.75 ``comfy_extras/nodes_wan.py``, ``WanVaceToVideo.execute``):

1. ``control_video [L,H,W,3]`` (0..1) and ``control_masks [L,H,W]`` are cut to ``length`` frames and resized with
   ``common_upscale(..., "bilinear", "center")`` to ``width x height`` (a missing tail is padded with 0.5 grey, the
   mask with 1). No mask means all ones.
2. **Mask 1 = regenerate.** The video is split into ``inactive = (v - 0.5)(1 - m) + 0.5`` (what is kept) and
   ``reactive = (v - 0.5) m + 0.5`` (what is made anew under the control), both VAE-encoded and stacked.
3. The mask's 8x8 pixel blocks become 64 channels (so ``width`` and ``height`` must be multiples of 8; core's
   inputs step by 16), sampled to the ``(length - 1) // 4 + 1`` latent frames with ``nearest-exact``.

So the mask here is ``1 - visible`` (the renderer's visibility: 1 = seen in the photo), grown by ``dilate`` pixels
(the render smears a little at depth edges, next to every hole) and feathered *outwards* over ``feather`` pixels
(so every hole stays fully 1). VACE's own inpainting annotator greys the masked pixels (``MASK_COLOR`` 128);
``hole_content="grey"`` does the same on the grown hole, ``"render"`` leaves the renderer's fill there as a hint.

Frames: Wan's VAE packs the first frame alone and then 4 frames per latent, so a video has ``4n + 1`` frames.
:func:`wan_length` is the nearest such count; other frame counts are resampled to it by nearest frame
(:func:`frame_indices`: output frame ``k`` is source frame ``round(k (F - 1) / (L - 1))``; 49 or 81 frames pass
unchanged). Size: :func:`crop16` cuts the frames and masks alike to the largest multiples of 16 about the centre
(at most 15 pixels per axis, never resampled, so masks stay exact and pixels sharp); core's own resize is then the
identity when the width and height outputs are wired into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import torch

from ..checks import check_shape

HoleContent = Literal["grey", "render"]
HOLE_CONTENTS = ("grey", "render")
GREY = 0.5  #: what core pads a control video with, and VACE's annotators paint masked pixels with (128/255)
MAX_GROW = 256  #: largest dilate / feather in pixels


@dataclass(frozen=True)
class VaceControls:
    """What ``WanVaceToVideo`` takes: ``video [L,H',W',3]`` float32 0..1, ``masks [L,H',W']`` (1 = regenerate),
    the size and length to wire into it, and for each output frame the source frame it shows (``indices [L]``)."""

    video: torch.Tensor
    masks: torch.Tensor
    width: int
    height: int
    length: int
    indices: np.ndarray


def wan_length(frames: int) -> int:
    """The ``4n + 1`` frame count nearest to ``frames`` (a tie goes up: 3 -> 5); ``frames`` itself if it is one."""
    if isinstance(frames, bool) or not isinstance(frames, int | np.integer) or frames < 1:
        raise ValueError(f"frames must be a whole number >= 1, got {frames!r}")
    frames = int(frames)
    if frames % 4 == 1:
        return frames
    below = 4 * ((frames - 1) // 4) + 1
    return below if frames - below < below + 4 - frames else below + 4


def frame_indices(frames: int, length: int) -> np.ndarray:
    """Nearest source frame of each of ``length`` output frames spread over ``frames`` source frames: output frame
    ``k`` shows source frame ``floor(k (F - 1) / (L - 1) + 0.5)`` (first and last always kept)."""
    if length == 1 or frames == 1:
        return np.zeros(length, dtype=np.int64)
    k = np.arange(length, dtype=np.float64)
    return np.floor(k * (frames - 1) / (length - 1) + 0.5).astype(np.int64)


def crop16(width: int, height: int) -> tuple[int, int, int, int]:
    """``(x0, y0, w, h)``: the centred box of the largest multiples of 16 inside ``width x height``."""
    if width < 16 or height < 16:
        raise ValueError(f"frames are {width}x{height} px: Wan needs at least 16x16 (width and height are cut to "
                         f"multiples of 16)")
    w, h = 16 * (width // 16), 16 * (height // 16)
    return (width - w) // 2, (height - h) // 2, w, h


def grow_mask(holes: np.ndarray, dilate: int, feather: int) -> tuple[np.ndarray, np.ndarray]:
    """``holes [L,H,W]`` bool -> (``mask`` float32 in 0..1, ``core`` bool): ``core`` = within ``dilate`` pixels
    (Euclidean) of a hole; ``mask`` = 1 on ``core``, falling linearly to 0 over the next ``feather`` pixels."""
    for name, v in (("dilate", dilate), ("feather", feather)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 0 <= v <= MAX_GROW:
            raise ValueError(f"{name} must be a whole number of pixels in [0, {MAX_GROW}], got {v!r}")
    mask = np.zeros(holes.shape, dtype=np.float32)
    core = np.zeros(holes.shape, dtype=bool)
    for i in np.flatnonzero(holes.reshape(holes.shape[0], -1).any(axis=1)):  # one distance transform per frame
        dist = cv2.distanceTransform((~holes[i]).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        core[i] = dist <= dilate
        if feather == 0:
            mask[i] = core[i]
        else:
            mask[i] = np.clip(1.0 - (dist - dilate) / (feather + 1), 0.0, 1.0)
    return mask, core


def vace_controls(frames: torch.Tensor, visible: torch.Tensor, dilate: int = 8, feather: int = 8,
                  hole_content: HoleContent = "grey") -> VaceControls:
    """Render ``frames [F,H,W,3|4]`` (0..1) and ``visible [F|1,H,W]`` (1 = seen in the photo) -> the controls of
    ``WanVaceToVideo`` (see the module docstring): ``4n + 1`` frames, a multiple-of-16 size, mask ``1 - visible``
    grown by ``dilate`` and feathered outwards by ``feather`` pixels, holes grey or left as rendered."""
    if not isinstance(frames, torch.Tensor) or not isinstance(visible, torch.Tensor):
        raise ValueError("frames must be an IMAGE and visible a MASK (torch tensors)")
    size = check_shape(frames, "F H W 3|4", "frames")
    f, h, w = size["F"], size["H"], size["W"]
    if f < 1:
        raise ValueError("frames is an empty batch: connect the render's frames")
    vis = visible[None] if visible.ndim == 2 else visible
    n = check_shape(vis, "N H W", "visible")["N"]
    if n not in (1, f):
        raise ValueError(f"visible has {n} frames but frames has {f}: connect the same render's visible mask")
    if tuple(vis.shape[1:]) != (h, w):
        raise ValueError(f"visible is {vis.shape[2]}x{vis.shape[1]} px but frames are {w}x{h} px: connect the "
                         f"same render's visible mask")
    if hole_content not in HOLE_CONTENTS:
        raise ValueError(f"hole_content must be one of {', '.join(HOLE_CONTENTS)}, got {hole_content!r}")
    x0, y0, cw, ch = crop16(w, h)
    if not frames.is_floating_point() or not bool(torch.isfinite(frames).all()):
        raise ValueError("frames must be finite floating-point images (0..1)")
    if not bool(torch.isfinite(vis.float()).all()):
        raise ValueError("visible must be a finite mask (1 = seen, 0 = filled)")
    length = wan_length(f)
    idx = frame_indices(f, length)
    pick = torch.from_numpy(idx)
    holes = (vis.float().cpu().numpy() < 0.5)
    holes = holes[idx] if n == f else np.broadcast_to(holes, (length, h, w))
    mask_full, core_full = grow_mask(np.ascontiguousarray(holes), int(dilate), int(feather))
    box = (slice(None), slice(y0, y0 + ch), slice(x0, x0 + cw))
    masks = torch.from_numpy(np.ascontiguousarray(mask_full[box]))
    video = frames.index_select(0, pick.to(frames.device))[:, y0:y0 + ch, x0:x0 + cw, :3].float().cpu().clamp(0, 1)
    if hole_content == "grey":
        core = torch.from_numpy(np.ascontiguousarray(core_full[box]))[..., None]
        video = torch.where(core, torch.full_like(video, GREY), video)
    return VaceControls(video.contiguous(), masks, cw, ch, length, idx)


def latent_frames(length: int) -> int:
    """Latent frames of a ``length``-frame Wan video: ``(length - 1) // 4 + 1``."""
    return (int(length) - 1) // 4 + 1


def describe(controls: VaceControls, source_frames: int, source_size: tuple[int, int]) -> str:
    """One line: what was resampled and cut, and the share of pixels VACE regenerates (mean over frames)."""
    frames = f"{controls.length} frames"
    if controls.length != source_frames:
        frames += f" (resampled from {source_frames} by nearest frame: Wan needs 4n+1)"
    size = f"{controls.width}x{controls.height}"
    if (controls.width, controls.height) != tuple(source_size):
        size += f" (centre crop of {source_size[0]}x{source_size[1]} to multiples of 16)"
    share = float(controls.masks.mean()) if controls.masks.numel() else 0.0
    return (f"{frames}, {size}, {latent_frames(controls.length)} latent frames; VACE regenerates "
            f"{100 * share:.1f}% of the pixels (mask 1)")


__all__ = ["GREY", "HOLE_CONTENTS", "MAX_GROW", "VaceControls", "crop16", "describe", "frame_indices", "grow_mask",
           "latent_frames", "vace_controls", "wan_length"]
