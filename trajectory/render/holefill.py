"""Hole filling for depth-warped frames that does not smear the foreground into what it uncovered.

A disocclusion exposes what was *behind* the foreground, so a hole must be filled from its far side.

* :func:`background_fill` (default): for every hole pixel take the nearest seen pixel in the four axis
  directions (run-length search over the hole pixels only), keep only the candidates whose depth is within
  ``tol`` of the farthest one (the background side of the depth edge) and blend those by inverse distance.
  Holes reached from fewer than two directions (bands and corners revealed at the image border by a pull-back or
  a pan) fall through to the push-pull pass, which extends the picture smoothly instead of streaking it.
* :func:`pushpull_fill`: a push-pull pyramid that, when pushing a 2x2 block down, keeps only the samples within
  ``tol`` of the block's farthest depth (and averages depth the same way), then pulls the coarse levels back into
  the holes. Smooth, but next to a wide hole it can still pick up foreground from blocks that hold no background.

Both take ``colour [B,C,H,W]``, ``seen [B,H,W]`` bool and ``depth [B,H,W]`` (> 0 where seen) and return the
filled colour, equal to the input where ``seen`` (:func:`background_fill` fills a contiguous ``colour`` in place).
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


def background_fill(colour: torch.Tensor, seen: torch.Tensor, depth: torch.Tensor, tol: float = 0.1) -> torch.Tensor:
    """Fill ``~seen`` from the farther of the nearest seen pixels left/right/up/down (see module docstring).

    Works on the hole pixels only (run-length search along rows and columns); ``colour`` must be contiguous and
    is filled in place (and returned)."""
    b, c, h, w = colour.shape
    holes = (~seen).view(-1).nonzero().squeeze(1)
    if holes.numel() == 0:
        return colour
    frame, pix = torch.div(holes, h * w, rounding_mode="floor"), holes % (h * w)
    row, col = torch.div(pix, w, rounding_mode="floor"), pix % w
    left, right = _run_ends(holes, col, w)
    vkey = (frame * w + col) * h + row
    order = torch.argsort(vkey)
    up_o, down_o = _run_ends(vkey[order], row[order], h)
    up, down = torch.empty_like(up_o), torch.empty_like(down_o)
    up[order], down[order] = up_o, down_o
    zflat = depth.reshape(-1)
    cands = []
    for nb, limit, along_row in ((left, -1, True), (right, w, True), (up, -1, False), (down, h, False)):
        ok = nb != limit
        src_pix = torch.where(ok, row * w + nb if along_row else nb * w + col, pix)
        dist = ((col if along_row else row) - nb).abs().clamp_min(1).to(colour.dtype)
        zc = torch.where(ok, zflat[frame * (h * w) + src_pix], 0.0)
        cands.append((src_pix, ok, zc, dist))
    zmax = torch.stack([zc for _, _, zc, _ in cands]).amax(0)
    flat = colour.view(b, c, h * w)
    acc = torch.zeros(holes.numel(), c, dtype=colour.dtype, device=colour.device)
    wsum = torch.zeros(holes.numel(), dtype=colour.dtype, device=colour.device)
    for src_pix, ok, zc, dist in cands:
        wgt = torch.where(ok & (zc * (1.0 + tol) >= zmax), dist.reciprocal(), 0.0)
        acc += flat[frame, :, src_pix] * wgt[:, None]
        wsum += wgt
    # a hole seen from one side only (e.g. a band revealed at the image border) is left to the push-pull pass,
    # which extends the picture smoothly instead of streaking its edge pixels
    filled = (wsum > 0) & (sum(ok.to(torch.int8) for _, ok, _, _ in cands) >= 2)
    flat[frame, :, pix] = torch.where(filled[:, None], acc / wsum.clamp_min(1e-12)[:, None], 0.0)
    if not bool(filled.all()):  # holes no line reaches (a revealed corner): push-pull from all known so far
        known = seen.clone().view(-1)
        known[holes] = filled
        zk = zflat.clone()
        zk[holes] = zmax
        colour.copy_(pushpull_fill(colour, known.view(b, h, w), zk.view(b, h, w), tol))
    return colour


def _blocks(x: torch.Tensor) -> torch.Tensor:
    """``[B,C,H,W]`` (even H, W) as 2x2 blocks ``[B,C,H/2,2,W/2,2]`` (a view)."""
    b, c, h, w = x.shape
    return x.view(b, c, h // 2, 2, w // 2, 2)


def pushpull_fill(colour: torch.Tensor, seen: torch.Tensor, depth: torch.Tensor, tol: float = 0.1) -> torch.Tensor:
    """Depth-aware push-pull: farther samples win when pushing; holes take the pulled coarse colour."""
    if not bool((~seen).any()):
        return colour
    col = torch.where(seen[:, None], colour, 0.0)
    wgt = seen[:, None].to(colour.dtype)
    z = torch.where(seen, depth, 0.0)[:, None].to(colour.dtype)
    levels: list[tuple[torch.Tensor, torch.Tensor]] = []
    while bool((wgt <= 0).any()) and max(col.shape[-2:]) > 1:
        levels.append((col, wgt))
        h, w = col.shape[-2:]
        if h % 2 or w % 2:
            pad = (0, w % 2, 0, h % 2)
            col, wgt, z = F.pad(col, pad), F.pad(wgt, pad), F.pad(z, pad)
        zb = _blocks(z)
        keep = _blocks(wgt) * (zb * (1.0 + tol) >= zb.amax(dim=(3, 5), keepdim=True))  # the farthest samples
        cnt = keep.sum(dim=(3, 5)).clamp_min(1e-12)
        col = (_blocks(col) * keep).sum(dim=(3, 5)) / cnt
        z = (zb * keep).sum(dim=(3, 5)) / cnt
        wgt = (cnt > 1e-12).to(col.dtype)
    if bool((wgt <= 0).any()):  # nothing seen at all in some frame: black
        col = col * wgt
    for fine_col, fine_wgt in reversed(levels):
        h, w = fine_col.shape[-2:]
        up = F.interpolate(col, scale_factor=2.0, mode="bilinear", align_corners=False)[..., :h, :w]
        col = torch.where(fine_wgt > 0, fine_col, up)
    return torch.where(seen[:, None], colour, col)
