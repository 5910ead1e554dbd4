"""Moving depth edges anti-aliased in finished frames (step 7 of :mod:`.warp`).

The z-buffer gives each target pixel to one point, so where a move slides a near surface over a far one the outline
falls on whole pixels: it steps from pixel to pixel as the camera moves, and the steps shimmer (aliasing), where the
photo itself shows an outline's sub-pixel place in pixels of mixed colour. This module mixes them again, in two
steps: :func:`edge_pairs` finds where, from the z-buffer (before the fill), and :func:`blend_edges` mixes the
finished colours (after it).

For each pair of horizontal, then vertical, neighbours across a depth edge (a depth ratio above ``step``; a filled
hole counts as far), the near pixel's point covers the target interval of its projection ``U`` plus or minus its
footprint's half-extent ``0.5 (|dU/du| + |dU/dv|)`` (the warp Jacobian), likewise ``V``. The far pixel takes the
share of it that this interval covers (at most 1/2: its centre is the far side's, as its z-buffer said) of the near
pixel's colour. The near pixel is left alone: its bilinear sample already mixes across the photo's own outline. A
far pixel between two such pairs takes both mixes (each as a change from its own colour). Frames without
translation (a pan, frame 0) and everything away from depth edges keep their bytes.
"""

from __future__ import annotations

import torch

Pairs = list  #: per frame: None, or per axis (horizontal, vertical) None or ``(near, far, cover)`` flat pixel ids / shares


def edge_pairs(keys: torch.Tensor, depth: torch.Tensor, parallax: torch.Tensor, step: float, geometry: list,
               idx_bits: int) -> Pairs:
    """The pairs :func:`blend_edges` mixes, per frame. ``keys [B,H*W]`` are the z-buffer keys (winning point in the
    low ``idx_bits``), ``depth [B,H,W]`` the seen depth (0 where nothing is seen), ``parallax [B]`` each frame's
    pixels of parallax per unit of inverse depth; ``geometry[b]`` is ``(U, V, (dU/du, dU/dv, dV/du, dV/dv))`` of
    frame ``b``'s points (``[N]`` each; the Jacobian's entries may be 0-d: one for the frame), or None to leave the
    frame alone."""
    b, h, w = depth.shape
    mask = (1 << idx_bits) - 1
    out: Pairs = []
    for f in range(b):
        if geometry[f] is None or float(parallax[f]) <= 0:
            out.append(None)
            continue
        U, V, J = geometry[f]
        inv = torch.where(depth[f] > 0, depth[f].reciprocal(), 0.0)
        flat = inv.view(-1)
        axes = []
        for pos, (da, db), stride in ((U, J[:2], 1), (V, J[2:], w)):
            a, z = (inv[:, :-1], inv[:, 1:]) if stride == 1 else (inv[:-1], inv[1:])
            yx = (torch.maximum(a, z) > torch.minimum(a, z) * step).nonzero()
            if yx.numel() == 0:
                axes.append(None)
                continue
            first = yx[:, 0] * w + yx[:, 1]  # flat index of the pair's first pixel (left or top)
            second = first + stride
            coord = (yx[:, 1] if stride == 1 else yx[:, 0]).to(pos.dtype)  # its column or row
            fg_first = flat.index_select(0, first) > flat.index_select(0, second)
            fg = torch.where(fg_first, first, second)
            pt = keys[f].index_select(0, fg) & mask  # the near pixel's point
            da_, db_ = (t.index_select(0, pt) if t.ndim else t for t in (da, db))  # at the near points only
            reach = 0.5 * (da_.abs() + db_.abs())  # the footprint's half-extent along this axis
            # the near surface's edge towards the far pixel, in target pixels (pixel centres at integers)
            edge = torch.where(fg_first, pos.index_select(0, pt) + reach, pos.index_select(0, pt) - reach)
            cover = torch.where(fg_first, edge - (coord + 0.5), (coord + 0.5) - edge).clamp_(0.0, 0.5)
            axes.append((fg, torch.where(fg_first, second, first), cover))
        out.append(axes)
    return out


def blend_edges(frames: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """``frames [B,C,H,W]`` (contiguous, finished) mixed in place at :func:`edge_pairs`' pairs, the horizontal ones
    first; returns ``frames``."""
    c = frames.shape[1]
    for f, axes in enumerate(pairs):
        for pair in axes or ():
            if pair is None:
                continue
            fg, bg, cover = pair
            img = frames[f].view(c, -1)
            col_fg, col_bg = img.index_select(1, fg), img.index_select(1, bg)
            img.index_add_(1, bg, (col_fg - col_bg).mul_(cover))  # a change from its own colour, each pair's
    return frames
