"""The ``layered`` hole fill: background layer across depth edges, smooth continuation elsewhere.

Every hole pixel is one of two kinds, decided on the 2x2 blocks of the frame (level 1 of a pyramid):

* **across a depth edge** -- a disocclusion: an empty block whose nearest non-empty blocks left and right (or up
  and down) are both inside the image and differ in depth by more than ``tol``; a block holding seen pixels and
  holes whose 3x3 neighbourhood reaches more than ``tol`` beyond its nearest seen pixel; and the blocks with holes
  next to either. It is filled from the *background layer* only: a push-pull pyramid that keeps, per 2x2 block,
  the children within ``tol`` of its farthest (weighed by how many seen pixels they hold), and in which a block
  may fill a hole only if its mean depth reaches the hole's *floor* -- beyond the middle of the edge's near and
  far depths (in log depth) or within ``2 tol`` of its far side, whichever is looser -- over the block and its
  neighbours (the taps of the final bilinear upsampling). So no foreground reaches a disocclusion, however close
  to the foreground edge, while a slanted background (a floor, a wall seen at an angle) still fills it. A block
  holding fewer than 4 seen pixels is blended with the coarser level (a lone pixel next to a hole is often a
  mixed edge colour).
* **anything else** -- the bands a pan, truck or pull-back reveals at the image border (there is no far side to
  copy: beyond the border can be anything), holes inside one surface: a *smooth continuation*, a normalised
  convolution pyramid of every seen pixel (2x2 mean then a ``[1, 2, 1]`` blur per level) in which each level is
  trusted in proportion to its seen share; the blur radius grows with the distance from what was seen, so the
  border band fades smoothly from the frame's edge instead of repeating its last pixels as streaks.

A frame whose camera does not translate (the renderer says which) opens no disocclusion: all its holes are of the
second kind, without the depth-edge analysis.

Both pyramids are pulled (coarse to fine, bilinear) down to level 1, and each hole pixel takes the bilinear 2x
upsampling of its kind's layer. Only hole pixels change; every value is a convex blend of seen colours.
Vectorised torch (any device), deterministic; on CPU about 1.2 times the cost of :func:`.holefill.pushpull_fill`
and less than :func:`.holefill.background_fill`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .depth import window_extreme
from .holefill import _QUAD, _axis_neighbours, _block_sum

_SMOOTH_TRUST = 0.05  # a smooth-layer level is trusted where this share of its kernel footprint was seen


def layered_fill(colour: torch.Tensor, seen: torch.Tensor, depth: torch.Tensor, tol: float = 0.1,
                 moving: torch.Tensor | None = None) -> torch.Tensor:
    """Fill ``~seen`` from the background layer where a hole lies across a depth edge, smoothly elsewhere (see the
    module docstring). ``colour`` (finite, contiguous) is filled in place and returned. ``moving [B]`` (optional):
    which frames' cameras translate; a frame whose camera does not (a pan, tilt, roll or zoom) uncovers nothing
    behind anything, so all its holes (the never-seen border, and any pixels of missing depth) take the smooth
    continuation, and the depth-edge analysis is skipped when no frame moves."""
    b, c, h, w = colour.shape
    frame, row, col = (~seen).nonzero().unbind(1)
    if frame.numel() == 0:
        return colour
    if h * w == 1:  # nothing to fill from
        return colour.mul_(seen[:, None])
    wgt = _even(seen[:, None].to(colour.dtype))
    sums = torch.cat([_block_sum(_even(colour * wgt[..., :h, :w])), _block_sum(wgt)], 1)  # colour, count
    if moving is not None and not bool(moving.any()):  # nothing uncovered: no depth-edge analysis
        on_edge, bg = torch.zeros_like(frame, dtype=torch.bool), None
    else:
        z0 = _even(torch.where(seen, depth, 0.0)[:, None].to(colour.dtype))
        far, znear = _far_level1(colour, z0, torch.cat([sums, _block_sum(z0)], 1), tol)
        edge, floor = _edges(far, znear, tol)
        h1, w1 = far.shape[-2:]
        on_edge = edge.view(-1).index_select(0, (frame * h1 + (row >> 1)) * w1 + (col >> 1))
        if moving is not None:
            on_edge &= moving.index_select(0, frame)
        bg = _background_layer(far, floor[:, None], tol) if bool(on_edge.any()) else None
    smooth = _smooth_layer(sums) if not bool(on_edge.all()) else None
    _sample_into(colour, bg if bg is not None else smooth, smooth if smooth is not None else bg, on_edge,
                 frame, row, col)
    return colour


def _far_level1(colour, z0, sums, tol):
    """Level 1 of the background pyramid from the 2x2 block ``sums [B,C+2,H/2,W/2]`` (colour, count, depth): the
    seen pixels more than ``tol`` nearer than their block's farthest are taken out again (few: only at depth
    edges). Also returns each block's nearest seen depth ``[B,H/2,W/2]`` (inf where none)."""
    b, c = colour.shape[:2]
    h, w = colour.shape[-2:]
    zq = [z0[:, 0, i::2, j::2] for i, j in _QUAD]
    zmax = torch.maximum(torch.maximum(zq[0], zq[1]), torch.maximum(zq[2], zq[3])) / (1.0 + tol)
    inf = torch.tensor(float("inf"), dtype=z0.dtype, device=z0.device)
    zn = [torch.where(q > 0, q, inf) for q in zq]
    znear = torch.minimum(torch.minimum(zn[0], zn[1]), torch.minimum(zn[2], zn[3]))
    out = sums.clone()
    drop = torch.stack([(q > 0) & (q < zmax) for q in zq]).view(4, -1).nonzero()  # (quadrant, flat block)
    if drop.numel():
        h1, w1 = zmax.shape[-2:]
        quad, blk = drop[:, 0], drop[:, 1]
        f, r = torch.div(blk, h1 * w1, rounding_mode="floor"), blk % (h1 * w1)
        y = torch.div(r, w1, rounding_mode="floor") * 2 + torch.div(quad, 2, rounding_mode="floor")
        x = (r % w1) * 2 + quad % 2
        src = colour.reshape(-1)
        at = f * (c * h * w) + y * w + x
        flat = out.view(-1)
        base = f * ((c + 2) * h1 * w1) + r
        for ch in range(c):
            flat.index_add_(0, base + ch * (h1 * w1), src.index_select(0, at + ch * (h * w)), alpha=-1)
        zd = z0.view(-1).index_select(0, f * (z0.shape[-2] * z0.shape[-1]) + y * z0.shape[-1] + x)
        flat.index_add_(0, base + c * (h1 * w1), torch.ones_like(zd), alpha=-1)
        flat.index_add_(0, base + (c + 1) * (h1 * w1), zd, alpha=-1)
    return out, znear


def _edges(far, znear, tol):
    """Which level-1 blocks lie across a depth edge, and the depth ``floor`` a source must reach to fill them
    (0 elsewhere): beyond the middle of the edge (in log depth) or within ``2 tol`` of its far side. An empty block
    is across an edge if its nearest non-empty blocks left and right (or up and down) are both there (not the image
    border) and differ by more than ``tol`` in depth; a block with seen pixels and holes if its 3x3 neighbourhood
    reaches more than ``tol`` farther than its nearest seen pixel, or touches an empty block across an edge."""
    b, _, h1, w1 = far.shape
    cnt = far[:, -2]
    zfar = far[:, -1] / cnt.clamp_min(1e-12)
    seen1 = cnt > 0
    holed = cnt < 4
    hi = window_extreme(zfar)
    edge = seen1 & holed & (hi > znear * (1.0 + tol))
    floor = torch.where(edge, _floor(hi, znear, tol), 0.0)  # (0 x inf elsewhere)
    holes = (~seen1).view(-1).nonzero().squeeze(1)
    if holes.numel() == 0:
        return edge, floor
    frame, _, _, _, sides = _axis_neighbours(seen1, holes, zfar)
    zn = znear.reshape(-1)
    near = [torch.where(ok, zn.index_select(0, frame * (h1 * w1) + sp), 0.0) for sp, ok, _, _, _ in sides]
    e_h = torch.zeros(holes.shape, dtype=torch.bool, device=holes.device)
    zf_h, zn_h = torch.zeros_like(near[0]), torch.full_like(near[0], float("inf"))
    for i, j in ((0, 1), (2, 3)):  # left/right, up/down
        far_ij = torch.maximum(sides[i][2], sides[j][2])
        near_ij = torch.minimum(near[i], near[j])
        e = sides[i][1] & sides[j][1] & (far_ij > near_ij * (1.0 + tol))
        e_h |= e
        zf_h = torch.where(e, torch.maximum(zf_h, far_ij), zf_h)
        zn_h = torch.where(e, torch.minimum(zn_h, near_ij), zn_h)
    edge.view(-1)[holes] = e_h
    empty_floor = torch.zeros_like(floor)
    empty_floor.view(-1)[holes] = torch.where(e_h, _floor(zf_h, zn_h, tol), 0.0)
    # blocks with holes next to an empty block across an edge (its corners too) share its floor
    floor = torch.maximum(floor.add_(empty_floor), window_extreme(empty_floor).mul_(holed))
    return edge | (floor > 0), floor


def _floor(zfar: torch.Tensor, znear: torch.Tensor, tol: float) -> torch.Tensor:
    """The depth a source must reach to fill a hole across an edge from ``znear`` to ``zfar``: beyond the edge's
    middle in log depth, or within ``2 tol`` of its far side, whichever is looser."""
    return torch.minimum((zfar * znear).sqrt(), zfar * (1.0 / (1.0 + 2.0 * tol)))


def _even(x: torch.Tensor) -> torch.Tensor:
    """``x [B,C,H,W]`` zero-padded to even ``H``, ``W``."""
    h, w = x.shape[-2:]
    return F.pad(x, (0, w % 2, 0, h % 2)) if h % 2 or w % 2 else x


def _max_pool2(x: torch.Tensor) -> torch.Tensor:
    x = _even(x)
    return torch.maximum(torch.maximum(x[..., 0::2, 0::2], x[..., 0::2, 1::2]),
                         torch.maximum(x[..., 1::2, 0::2], x[..., 1::2, 1::2]))


def _up2(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """2x bilinear upsampling (``align_corners=False``, edges clamped) of ``x [B,C,h',w']``, cropped to ``h x w``:
    each output pixel is a ``lerp`` by 1/4 towards its nearer neighbour (at a clamped edge, the pixel itself)."""
    for d, n in ((3, w), (2, h)):
        m = x.shape[d]
        shape = list(x.shape)
        shape.insert(d + 1, 2)
        out = x.new_empty(shape)
        even, odd = out.select(d + 1, 0), out.select(d + 1, 1)
        even.narrow(d, 0, 1).copy_(x.narrow(d, 0, 1))
        odd.narrow(d, m - 1, 1).copy_(x.narrow(d, m - 1, 1))
        if m > 1:
            torch.lerp(x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1), 0.25, out=even.narrow(d, 1, m - 1))
            torch.lerp(x.narrow(d, 0, m - 1), x.narrow(d, 1, m - 1), 0.25, out=odd.narrow(d, 0, m - 1))
        x = out.flatten(d, d + 1).narrow(d, 0, n)
    return x


def _pull(levels: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """Coarse to fine: each level keeps its colour by its trust (0..1), elsewhere the bilinear upsampling of the
    level above; returns the finest of ``levels`` so pulled (the coarsest is taken as it is)."""
    cur = levels[-1][0]
    for col, trust in reversed(levels[:-1]):
        cur = torch.lerp(_up2(cur, *col.shape[-2:]), col, trust)
    return cur


def _far_sums(x: torch.Tensor, tol: float) -> torch.Tensor:
    """One level up from the sums ``x [B,C+2,H,W]`` (colour, count of seen pixels, depth; even ``H``, ``W``): each
    2x2 block adds the children whose mean depth is within ``tol`` of its farthest child's."""
    cnt = x[:, -2:-1].clamp_min(1e-12)
    zq = [x[:, -1:, i::2, j::2] / cnt[..., i::2, j::2] for i, j in _QUAD]
    zmax = torch.maximum(torch.maximum(zq[0], zq[1]), torch.maximum(zq[2], zq[3])) / (1.0 + tol)
    out = None
    for (i, j), zij in zip(_QUAD, zq, strict=True):
        part = x[..., i::2, j::2] * (zij >= zmax).to(x.dtype)
        out = part if out is None else out.add_(part)
    return out


def _background_layer(x, floor, tol):
    """Depth-aware pyramid from its level 1 ``x [B,C+2,H,W]`` (colour, count and depth sums): each 2x2 block keeps
    its children within ``tol`` of its farthest, weighed by how many seen pixels they hold. A block counts only if
    its mean depth reaches the largest ``floor [B,1,H,W]`` of the level-1 blocks it covers or borders (so that no
    bilinear tap of a hole reads a nearer block), and then in proportion to the seen pixels it holds, up to 4 (a
    lone pixel next to a hole is often a mixed edge colour; the coarser level makes up the rest). Pulled to
    level 1."""
    levels = []
    while True:
        cnt = x[:, -2:-1].clamp_min(1e-12)
        reach = window_extreme(floor)  # also the blocks a bilinear upsampling of it would read
        ok = (x[:, -2:-1] * 0.25).clamp_(max=1.0) * (x[:, -1:] >= reach * cnt).to(x.dtype)
        levels.append((x[:, :-2] / cnt, ok))
        if bool((ok >= 1).all()) or max(x.shape[-2:]) <= 1:
            break
        x = _far_sums(_even(x), tol)
        floor = _max_pool2(floor)
    return _pull(levels)


def _blur121(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Separable ``[1, 2, 1] / 4`` blur (times ``scale``), edges replicated."""
    for d in (-1, -2):
        y = x * (0.5 * scale)
        n = x.shape[d]
        a = 0.25 * scale
        y.narrow(d, 1, n - 1).add_(x.narrow(d, 0, n - 1), alpha=a)
        y.narrow(d, 0, n - 1).add_(x.narrow(d, 1, n - 1), alpha=a)
        y.narrow(d, 0, 1).add_(x.narrow(d, 0, 1), alpha=a)
        y.narrow(d, n - 1, 1).add_(x.narrow(d, n - 1, 1), alpha=a)
        x, scale = y, 1.0
    return x


def _smooth_layer(sums: torch.Tensor) -> torch.Tensor:
    """Normalised-convolution pyramid of all seen pixels from their level-1 block ``sums [B,C+1,H,W]`` (colour,
    count): per level a 2x2 mean then a ``[1, 2, 1]`` blur; a level is trusted in proportion to its seen share, up
    to :data:`_SMOOTH_TRUST`; pulled to level 1."""
    x = _blur121(sums, 0.25)
    levels = []
    while True:
        wgt = x[:, -1:]
        trust = (wgt / _SMOOTH_TRUST).clamp_(max=1.0)
        levels.append((x[:, :-1] / wgt.clamp_min(1e-12), trust))
        if bool((trust >= 1).all()) or max(x.shape[-2:]) <= 1:
            break
        x = _blur121(_block_sum(_even(x)), 0.25)
    return _pull(levels)


def _sample_into(colour: torch.Tensor, bg: torch.Tensor, smooth: torch.Tensor, on_edge: torch.Tensor,
                 frame: torch.Tensor, row: torch.Tensor, col: torch.Tensor) -> None:
    """``colour [B,C,H,W]`` at the pixels ``(frame, row, col)`` (in ``nonzero`` order) takes the bilinear 2x
    upsampling (what :func:`torch.nn.functional.interpolate` gives there) of the level-1 ``bg`` where ``on_edge``,
    else of ``smooth`` (both ``[B,C,ceil(H/2),ceil(W/2)]``): per frame one ``grid_sample`` of the two stacked as
    one tall image, each with its first and last row repeated (no rounding reaches the other), so that a frame's
    bytes do not depend on the batch it came in."""
    b, c, h, w = colour.shape
    h1, w1 = bg.shape[-2:]
    step = h1 + 2
    pair = bg.new_empty(b, 1, c, 2, step, w1)
    for k, layer in enumerate((bg, smooth)):
        pair[:, 0, :, k, 1:-1] = layer
        pair[:, 0, :, k, ::step - 1] = layer[..., ::h1 - 1, :] if h1 > 1 else layer
    pair = pair.view(b, 1, c, 2 * step, w1)
    y = ((row.to(colour.dtype) + 0.5) * 0.5 - 0.5).clamp_(0.0, h1 - 1) + torch.where(on_edge, 1.0, 1.0 + step)
    grid = torch.stack([(col.to(colour.dtype) + 0.5) * (1.0 / w1) - 1.0, (y + 0.5) * (1.0 / step) - 1.0], -1)
    at = (frame * (c * h) + row) * w + col
    dst = colour.view(-1)
    counts = torch.bincount(frame, minlength=b).tolist() if b > 1 else [frame.numel()]
    start = 0
    for k, n in enumerate(counts):  # the holes of frame k are the n next ones
        if n:
            sl = slice(start, start + n)
            val = F.grid_sample(pair[k], grid[sl].view(1, 1, n, 2), mode="bilinear", padding_mode="border",
                                align_corners=False)
            for ch in range(c):
                dst.index_copy_(0, at[sl] + ch * (h * w), val[0, ch, 0])
        start += n
