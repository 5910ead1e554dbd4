"""Moving depth edges anti-aliased in finished frames (step 7 of :mod:`.warp`).

The z-buffer gives each target pixel to one point, so where a move slides a near surface over a far one the outline
falls on whole pixels: it steps from pixel to pixel as the camera moves, and the steps shimmer (aliasing), where the
photo itself shows an outline's sub-pixel place in pixels of mixed colour. :func:`antialias_edges` mixes them again.

For each pair of horizontal, then vertical, neighbours across a moving depth edge (the test of :mod:`.edgeclean`: a
depth ratio above ``step`` whose parallax in this frame is at least a pixel; a filled hole counts as far), the near
pixel's point covers the target interval of its projection ``U`` plus or minus its footprint's half-extent
``0.5 (|dU/du| + |dU/dv|)`` (the warp Jacobian), likewise ``V``. The share of each of the two pixels that the
interval covers towards the far one is the near surface's coverage ``c`` there (at least 1/2 in the near pixel, at
most 1/2 in the far one: a pixel's centre is the side its z-buffer gave it), and the pixel becomes ``c`` parts the
near pixel's colour and ``1 - c`` the far pixel's. A pixel between two such pairs takes both mixes (each as a
change from its own colour). Frames without translation (a pan, frame 0) and everything away from moving depth
edges keep their bytes.
"""

from __future__ import annotations

import torch


def antialias_edges(frames: torch.Tensor, keys: torch.Tensor, depth: torch.Tensor, parallax: torch.Tensor,
                    step: float, geometry: list, idx_bits: int) -> torch.Tensor:
    """``frames [B,C,H,W]`` (contiguous) anti-aliased in place at moving depth edges (see the module docstring);
    returns ``frames``. ``keys [B,H*W]`` are the z-buffer keys (winning point in the low ``idx_bits``), ``depth
    [B,H,W]`` the seen depth (0 where filled), ``parallax [B]`` each frame's pixels of parallax per unit of inverse
    depth; ``geometry[b]`` is ``(U, V, ru, rv)`` of frame ``b``'s points (``[N]`` each; ``ru``/``rv`` may be
    0-d: one footprint for the frame), or None to leave the frame alone."""
    b, c, h, w = frames.shape
    mask = (1 << idx_bits) - 1
    for f in range(b):
        if geometry[f] is None or float(parallax[f]) <= 0:
            continue
        U, V, ru, rv = geometry[f]
        img = frames[f].view(c, -1)
        inv = torch.where(depth[f] > 0, depth[f].reciprocal(), 0.0)
        flat = inv.view(-1)
        for pos, ext, stride in ((U, ru, 1), (V, rv, w)):
            a, z = (inv[:, :-1], inv[:, 1:]) if stride == 1 else (inv[:-1], inv[1:])
            near, far = torch.maximum(a, z), torch.minimum(a, z)
            yx = (near > far * step).nonzero()
            if yx.numel() == 0:
                continue
            first = yx[:, 0] * w + yx[:, 1]  # flat index of the pair's first pixel (left or top)
            second = first + stride
            coord = (yx[:, 1] if stride == 1 else yx[:, 0]).to(frames.dtype)  # its column or row
            fg_first = flat.index_select(0, first) > flat.index_select(0, second)
            fg = torch.where(fg_first, first, second)
            pt = keys[f].index_select(0, fg) & mask  # the near pixel's point
            reach = ext.index_select(0, pt) if ext.ndim else ext
            # the near surface's edge towards the far pixel, in target pixels (pixel centres at integers)
            edge = torch.where(fg_first, pos.index_select(0, pt) + reach, pos.index_select(0, pt) - reach)
            # the share of the far pixel it covers (its centre is the far side's: at most 1/2)
            cover = torch.where(fg_first, edge - (coord + 0.5), (coord + 0.5) - edge).clamp_(0.0, 0.5)
            bg = torch.where(fg_first, second, first)
            col_fg, col_bg = img.index_select(1, fg), img.index_select(1, bg)
            img.index_add_(1, bg, (col_fg - col_bg).mul_(cover))  # a change from its own colour, each pair's
    return frames
