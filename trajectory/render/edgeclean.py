"""Specks at moving depth edges cleaned from finished frames (step 6 of :mod:`.warp`).

Where a move slides a near surface over a far one, the z-buffer decides every pixel of the outline for one side or
the other, and a thin part or an outline pixel of mixed colour is left as a lone speck that shimmers from frame to
frame. :func:`median_at_edges` gives each pixel on such an edge the per-channel median of its 3x3 neighbourhood, the
classic cure for flying pixels in depth-image-based rendering: it removes a one-pixel speck and keeps a straight
edge where it is. A pixel is on a *moving* edge where its 3x3 window holds seen depths whose ratio exceeds ``step``
and whose inverse depths move apart by at least one pixel in this frame (the crack rule's parallax, see
:func:`.warp._parallax_scale`); a filled hole counts as the far side. A frame without translation (frame 0 of every
move, a pure pan) is left as it is, and so is everything away from depth edges.
"""

from __future__ import annotations

import torch

from .depth import window_extreme


def median_at_edges(frames: torch.Tensor, depth: torch.Tensor, parallax: torch.Tensor, step: float) -> torch.Tensor:
    """``frames [B,C,H,W]`` (contiguous) with the pixels on moving depth edges replaced, in place, by the median of
    their 3x3 neighbourhood (the image's outermost ring of pixels is left alone); ``depth [B,H,W]`` is the seen
    depth (0 where filled), ``parallax [B]`` each frame's pixels of parallax per unit of inverse depth. Returns
    ``frames``."""
    b, c, h, w = frames.shape
    if h < 3 or w < 3 or not bool((parallax > 0).any()):
        return frames
    # inverse depth, 0 where filled (infinitely far): its 3x3 maximum is a window's nearest seen point and its
    # minimum the farthest, for every pixel with a full window
    inv = torch.where(depth > 0, depth.reciprocal(), 0.0)
    near = window_extreme(inv)[..., 1:-1, 1:-1]
    far = window_extreme(inv, 1, torch.minimum)[..., 1:-1, 1:-1]
    par = parallax.to(inv.dtype)[:, None, None]
    edge = (near > far * step) & ((near - far) * par >= 1.0)
    frame, y, x = edge.nonzero().unbind(1)
    if frame.numel() == 0:
        return frames
    ring = torch.tensor([dy * w + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)], device=y.device)
    at = frame * (c * h * w) + (y + 1) * w + (x + 1)
    taps = (ring[:, None] + at).view(-1)  # [9 * n]: tap-major, so each tap's values are contiguous
    flat = frames.view(-1)
    meds = [_median9(flat.index_select(0, taps + ch * (h * w)).view(9, -1)) for ch in range(c)]
    for ch, med in enumerate(meds):  # every window is read before any pixel is written
        flat.index_copy_(0, at + ch * (h * w), med)
    return frames


# a median-of-9 exchange network (19 compare-exchanges): row 4 ends up holding the median
_NET9 = ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3), (5, 8), (4, 7), (3, 6),
         (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2))


def _median9(v: torch.Tensor) -> torch.Tensor:
    """Per column median of ``v [9, n]`` (the same values ``v.median(dim=0)`` gives, several times faster)."""
    rows = list(v.unbind(0))
    for i, j in _NET9:
        rows[i], rows[j] = torch.minimum(rows[i], rows[j]), torch.maximum(rows[i], rows[j])
    return rows[4]
