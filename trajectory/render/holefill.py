"""Hole filling for depth-warped frames that does not smear the foreground into what it uncovered.

A disocclusion exposes what was *behind* the foreground, so a hole must be filled from its far side.

* :func:`.holefill_layered.layered_fill` (default): holes across a depth edge are filled from the background
  layer only, every other hole (the bands a pan or a pull-back reveals at the image border, holes inside one
  surface) by a smooth continuation of everything around it; see :mod:`.holefill_layered`.
* :func:`background_fill`: for every hole pixel take the nearest seen pixel in the four axis
  directions (run-length search over the hole pixels only), keep only the candidates whose depth is within
  ``tol`` of the farthest one (the background side of the depth edge) and blend those by inverse distance.
  Holes reached from fewer than two directions (bands and corners revealed at the image border by a pull-back or
  a pan) fall through to the push-pull pass, which extends the picture smoothly instead of streaking it.
* :func:`pushpull_fill`: a push-pull pyramid that, when pushing a 2x2 block down, keeps only the samples within
  ``tol`` of the block's farthest depth (and averages depth the same way), then pulls the coarse levels back into
  the holes. Smooth, but next to a wide hole it can still pick up foreground from blocks that hold no background.

All take ``colour [B,C,H,W]``, ``seen [B,H,W]`` bool and ``depth [B,H,W]`` (> 0 where seen) and return the
filled colour, equal to the input where ``seen`` (:func:`background_fill` and ``layered_fill`` fill a contiguous
``colour`` in place).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _run_ends(key: torch.Tensor, pos: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For holes sorted by ``key`` (consecutive keys = adjacent pixels along a line, ``pos`` the position on the
    line of length ``n``): the positions of the nearest seen pixel before and after each hole's run (-1 / ``n``
    when the run touches the border)."""
    m = key.numel()
    i = torch.arange(m, device=key.device)
    prev_adj = torch.zeros(m, dtype=torch.bool, device=key.device)
    prev_adj[1:] = (key[1:] == key[:-1] + 1) & (pos[1:] > 0)
    next_adj = torch.zeros_like(prev_adj)
    next_adj[:-1] = prev_adj[1:]
    start = torch.where(prev_adj, -1, i).cummax(0).values
    end = (m - 1) - torch.where(next_adj, -1, (m - 1) - i).flip(0).cummax(0).values.flip(0)
    return pos[start] - 1, pos[end] + 1


def _axis_neighbours(seen: torch.Tensor, holes: torch.Tensor, depth: torch.Tensor):
    """For the flat indices ``holes`` of ``~seen [B,H,W]``: ``frame``, ``pix`` (index in the frame), ``row``, ``col``
    and, for the nearest seen pixel to the left, right, up and down, ``(src_pix, ok, zc, along_row, nb)``: its index
    in the frame (the hole's own where none), whether there is one before the image border, its depth (0 where
    none), the axis and its position on that axis."""
    b, h, w = seen.shape
    frame, pix = torch.div(holes, h * w, rounding_mode="floor"), holes % (h * w)
    row, col = torch.div(pix, w, rounding_mode="floor"), pix % w
    left, right = _run_ends(holes, col, w)
    vkey = (frame * w + col) * h + row
    order = torch.argsort(vkey)
    up_o, down_o = _run_ends(vkey[order], row[order], h)
    up, down = torch.empty_like(up_o), torch.empty_like(down_o)
    up[order], down[order] = up_o, down_o
    zflat = depth.reshape(-1)
    sides = []
    for nb, limit, along_row in ((left, -1, True), (right, w, True), (up, -1, False), (down, h, False)):
        ok = nb != limit
        src_pix = torch.where(ok, row * w + nb if along_row else nb * w + col, pix)
        zc = torch.where(ok, zflat.index_select(0, frame * (h * w) + src_pix), 0.0)
        sides.append((src_pix, ok, zc, along_row, nb))
    return frame, pix, row, col, sides


def background_fill(colour: torch.Tensor, seen: torch.Tensor, depth: torch.Tensor, tol: float = 0.1) -> torch.Tensor:
    """Fill ``~seen`` from the farther of the nearest seen pixels left/right/up/down (see module docstring).

    Works on the hole pixels only (run-length search along rows and columns); ``colour`` must be contiguous and
    is filled in place (and returned)."""
    b, c, h, w = colour.shape
    holes = (~seen).view(-1).nonzero().squeeze(1)
    if holes.numel() == 0:
        return colour
    frame, pix, row, col, sides = _axis_neighbours(seen, holes, depth)
    zflat = depth.reshape(-1)
    cands = []
    for src_pix, ok, zc, along_row, nb in sides:
        dist = ((col if along_row else row) - nb).abs().clamp_min(1).to(colour.dtype)
        cands.append((src_pix, ok, zc, dist))
    zmax = torch.stack([zc for _, _, zc, _ in cands]).amax(0)
    flat = colour.view(-1)
    base = frame * (c * h * w)  # where each hole's frame starts in the flat colour (channel planes of h*w)
    acc = torch.zeros(c, holes.numel(), dtype=colour.dtype, device=colour.device)
    wsum = torch.zeros(holes.numel(), dtype=colour.dtype, device=colour.device)
    for src_pix, ok, zc, dist in cands:
        wgt = torch.where(ok & (zc * (1.0 + tol) >= zmax), dist.reciprocal(), 0.0)
        at = base + src_pix
        for ch in range(c):
            acc[ch] += flat.index_select(0, at + ch * (h * w)) * wgt
        wsum += wgt
    # a hole seen from one side only (e.g. a band revealed at the image border) is left to the push-pull pass,
    # which extends the picture smoothly instead of streaking its edge pixels
    filled = (wsum > 0) & (sum(ok.to(torch.int8) for _, ok, _, _ in cands) >= 2)
    mean = torch.where(filled, acc / wsum.clamp_min(1e-12), 0.0)
    at = base + pix
    for ch in range(c):
        flat.index_copy_(0, at + ch * (h * w), mean[ch])
    if not bool(filled.all()):  # holes no line reaches (a revealed corner): push-pull from all known so far
        known = seen.clone().view(-1)
        known[holes] = filled
        zk = zflat.clone()
        zk[holes] = zmax
        _pushpull(colour, known.view(b, h, w), zk.view(b, h, w), tol, out=colour)
    return colour


def _blocks(x: torch.Tensor) -> torch.Tensor:
    """``[B,C,H,W]`` (even H, W) as 2x2 blocks ``[B,C,H/2,2,W/2,2]`` (a view)."""
    b, c, h, w = x.shape
    return x.view(b, c, h // 2, 2, w // 2, 2)


_QUAD = ((0, 0), (0, 1), (1, 0), (1, 1))
_SLICED = 64  # levels at least this large in both sides sum their 2x2 blocks by slices (same bits, much faster)


def _block_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of each 2x2 block of ``[B,C,H,W]`` (even H, W), added as ``(x00 + x01) + (x10 + x11)``: the order torch's
    ``sum(dim=(3, 5))`` over :func:`_blocks` uses, so both give the same bits; the slices skip the slow strided
    reduction on the large levels."""
    if min(x.shape[-2:]) < _SLICED:
        return _blocks(x).sum(dim=(3, 5))
    return (x[..., 0::2, 0::2] + x[..., 0::2, 1::2]) + (x[..., 1::2, 0::2] + x[..., 1::2, 1::2])


def _push(col: torch.Tensor, wgt: torch.Tensor, z: torch.Tensor, tol: float):
    """One pyramid level down: each 2x2 block keeps the samples within ``tol`` of its farthest seen depth."""
    h, w = col.shape[-2:]
    if h % 2 or w % 2:
        pad = (0, w % 2, 0, h % 2)
        col, wgt, z = F.pad(col, pad), F.pad(wgt, pad), F.pad(z, pad)
    zq = [z[..., i::2, j::2] for i, j in _QUAD]
    zmax = torch.maximum(torch.maximum(zq[0], zq[1]), torch.maximum(zq[2], zq[3]))
    keep = torch.empty_like(z)
    for (i, j), zij in zip(_QUAD, zq, strict=True):
        torch.mul(wgt[..., i::2, j::2], zij * (1.0 + tol) >= zmax, out=keep[..., i::2, j::2])
    cnt = _block_sum(keep).clamp_min(1e-12)
    return _block_sum(col * keep) / cnt, (cnt > 1e-12).to(col.dtype), _block_sum(z * keep) / cnt


def _upsample_into(coarse: torch.Tensor, fine: torch.Tensor, holes: torch.Tensor) -> None:
    """``fine [B,C,H,W]`` takes the 2x bilinear upsampling of ``coarse`` at ``holes [B,1,H,W]``, computed only over
    the rows and columns that hold a hole (plus a margin of one coarse pixel, so the result is that of upsampling
    the whole level)."""
    h, w = fine.shape[-2:]
    rows, cols = holes.any(dim=3).any(dim=(0, 1)).nonzero(), holes.any(dim=2).any(dim=(0, 1)).nonzero()
    if rows.numel() == 0:
        return
    hc, wc = coarse.shape[-2:]
    r0, r1 = max(int(rows[0]) // 2 - 1, 0), min(int(rows[-1]) // 2 + 2, hc)  # coarse rows, margin 1
    c0, c1 = max(int(cols[0]) // 2 - 1, 0), min(int(cols[-1]) // 2 + 2, wc)
    up = F.interpolate(coarse[..., r0:r1, c0:c1], scale_factor=2.0, mode="bilinear", align_corners=False)
    # fine rows 2 r0 .. 2 r1 - 1 come out of the crop; the first and last are wrong unless at the level's border
    y0, y1 = 2 * r0 + (r0 > 0), min(2 * r1 - (r1 < hc), h)
    x0, x1 = 2 * c0 + (c0 > 0), min(2 * c1 - (c1 < wc), w)
    oy, ox = y0 - 2 * r0, x0 - 2 * c0
    sub = fine[..., y0:y1, x0:x1]
    sub.copy_(torch.where(holes[..., y0:y1, x0:x1], up[..., oy:oy + y1 - y0, ox:ox + x1 - x0], sub))


def pushpull_fill(colour: torch.Tensor, seen: torch.Tensor, depth: torch.Tensor, tol: float = 0.1) -> torch.Tensor:
    """Depth-aware push-pull: farther samples win when pushing; holes take the pulled coarse colour."""
    if not bool((~seen).any()):
        return colour
    return _pushpull(colour, seen, depth, tol, out=colour.clone())


def _pushpull(colour: torch.Tensor, seen: torch.Tensor, depth: torch.Tensor, tol: float,
              out: torch.Tensor) -> torch.Tensor:
    """:func:`pushpull_fill` into ``out`` (may be ``colour``: only its holes are written, after all reads)."""
    col = torch.where(seen[:, None], colour, 0.0)
    wgt = seen[:, None].to(colour.dtype)
    z = torch.where(seen, depth, 0.0)[:, None].to(colour.dtype)
    levels: list[tuple[torch.Tensor, torch.Tensor]] = []
    while bool((wgt <= 0).any()) and max(col.shape[-2:]) > 1:
        levels.append((col, wgt))
        col, wgt, z = _push(col, wgt, z, tol)
    if bool((wgt <= 0).any()):  # nothing seen at all in some frame: black
        col = col * wgt
    if not levels:  # a single pixel
        return out.copy_(torch.where(seen[:, None], colour, col))
    for fine_col, fine_wgt in reversed(levels[1:]):
        h, w = fine_col.shape[-2:]
        up = F.interpolate(col, scale_factor=2.0, mode="bilinear", align_corners=False)[..., :h, :w]
        col = torch.where(fine_wgt > 0, fine_col, up)
    _upsample_into(col, out, ~seen[:, None])  # the finest level: only its holes are upsampled
    return out
