"""Building blocks of the depth-warp renderer (see :mod:`.warp` for the method). Flat, batched tensors:
per-point arrays are ``[B, H*W]`` over source pixels, z-buffers ``[B, H'*W']`` over target pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .depth import continuous_steps, dequantize_depth, snap_depth_edges, window_extreme

SENTINEL = torch.iinfo(torch.int64).max
MAG_SPLIT = 1.25  # points magnified more than this get a footprint larger than one pixel
_CHECK_STRIDE = 4  # the per-frame magnification test looks at every 4th row and column
_BORDER = SENTINEL - 1  # key of the one-pixel frame around a padded key grid: not empty, and every point's key
# (< 2^51) is below it, so ``k < _BORDER`` alone tells a point


@dataclass
class Source:
    """Per-call source data."""

    image: torch.Tensor  # [1,C,H,W] float32
    points: torch.Tensor  # [3,H*W] in the source camera frame (float32; meaningless where not valid)
    tangents: torch.Tensor  # [3,2*H*W]: dX/du | dX/dv (edge-aware; float32)
    flow_base: tuple[torch.Tensor, torch.Tensor]  # pixel x, y of each point [H*W] (float32)
    zkey_low: torch.Tensor  # [H*W] int64: the source index (low bits of the z-buffer key)
    valid: torch.Tensor  # [H*W] bool: finite depth > 0
    check_ids: torch.Tensor  # [M] int64: the strided subset for the magnification test
    height: int
    width: int
    idx_bits: int


def _one_sided(z: torch.Tensor, valid: torch.Tensor, dim: int, edge_tol: float) -> torch.Tensor:
    """Edge-aware depth derivative along ``dim``: the more continuous one-sided difference; 0 at depth edges
    (:func:`.depth.continuous_steps` says where)."""
    logz = torch.where(valid, z.log(), torch.full_like(z, float("nan")))
    step = logz.diff(dim=dim).abs().nan_to_num(nan=float("inf"))
    dz = z.diff(dim=dim)
    pad_shape = list(z.shape)
    pad_shape[dim] = 1
    inf, zero = step.new_full(pad_shape, float("inf")), dz.new_zeros(pad_shape)
    cost = torch.where(continuous_steps(step, edge_tol, dim), step, torch.full_like(step, float("inf")))
    fwd_c, bwd_c = torch.cat([cost, inf], dim=dim), torch.cat([inf, cost], dim=dim)
    fwd, bwd = torch.cat([dz, zero], dim=dim), torch.cat([zero, dz], dim=dim)
    out = torch.where(fwd_c <= bwd_c, fwd, bwd)
    return torch.where(torch.isfinite(torch.minimum(fwd_c, bwd_c)), out, torch.zeros_like(out))


def prepare_source(image: torch.Tensor, depth: torch.Tensor, K_src: np.ndarray, edge_tol: float,
                   edge_snap: float = 0.0, dequantize: float = 0.0) -> Source:
    """Unproject every pixel; precompute the tangent vectors of the analytic warp Jacobian. First, ``dequantize >
    0``: :func:`.depth.dequantize_depth` at that ``sigma``; ``edge_snap > 1``: :func:`.depth.snap_depth_edges` at
    that ``step``."""
    c, h, w = image.shape
    dev = image.device
    if dequantize > 0.0:
        depth = dequantize_depth(depth, sigma=dequantize)
    if edge_snap > 1.0:
        depth = snap_depth_edges(image, depth, step=edge_snap)
    kinv = torch.from_numpy(np.linalg.inv(np.asarray(K_src, dtype=np.float64))).to(dev, torch.float32)
    vv, uu = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=dev),
                            torch.arange(w, dtype=torch.float32, device=dev), indexing="ij")
    rays = kinv[:, 0:1] * uu.flatten() + kinv[:, 1:2] * vv.flatten() + kinv[:, 2:3]  # K^-1 [u, v, 1]
    d = depth.to(torch.float32)
    valid = torch.isfinite(d) & (d > 0)
    z = torch.where(valid, d, torch.ones_like(d))
    z_u, z_v = _one_sided(z, valid, 1, edge_tol), _one_sided(z, valid, 0, edge_tol)
    zf = z.flatten()
    points = rays * zf
    tangents = torch.cat([rays * z_u.flatten() + kinv[:, 0:1] * zf, rays * z_v.flatten() + kinv[:, 1:2] * zf], 1)
    check = torch.arange(0, h, _CHECK_STRIDE, device=dev)[:, None] * w + torch.arange(0, w, _CHECK_STRIDE, device=dev)
    return Source(image[None].to(torch.float32), points, tangents, (uu.flatten(), vv.flatten()),
                  torch.arange(h * w, device=dev), valid.flatten(), check.flatten(), h, w,
                  max(1, (h * w - 1).bit_length()))


def _affine(P: torch.Tensor, X: torch.Tensor, p: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Rows of ``P @ X (+ p)`` for ``P [B,3,3]``, ``X [3,N]`` -> three ``[B,N]``, with elementwise ops, so every
    frame's result is bitwise the same whatever the batch size (batched GEMM kernels may differ by shape)."""
    rows = []
    for i in range(3):
        r = P[:, i, 0:1] * X[0] if p is None else torch.addcmul(p[:, i], P[:, i, 0:1], X[0])
        rows.append(r.addcmul_(P[:, i, 1:2], X[1]).addcmul_(P[:, i, 2:3], X[2]))
    return rows


def project(src: Source, P: torch.Tensor, p: torch.Tensor, near_clip: float):
    """Project all points for ``B`` cameras (``P = K R``, ``p = K t``): ``U, V, z, ok`` all ``[B, H*W]``."""
    x, y, z = _affine(P, src.points, p)
    ok = src.valid & (z > near_clip)
    inv_z = torch.where(ok, z, 1.0).reciprocal_()
    U, V = x.mul_(inv_z), y.mul_(inv_z)
    ok &= (U.abs() < 1e7) & (V.abs() < 1e7)
    return U, V, z, ok


def jacobian(src: Source, P: torch.Tensor, U, V, z, ids: torch.Tensor | None = None):
    """Analytic warp Jacobian ``(dU/du, dU/dv, dV/du, dV/dv)`` at all points (or the subset ``ids``)."""
    n = src.points.shape[1]
    if ids is None:
        tan, u, v, iz = src.tangents, U, V, 1.0 / z
    else:
        tan = torch.cat([src.tangents[:, ids], src.tangents[:, n + ids]], dim=1)
        u, v, iz = U[:, ids], V[:, ids], 1.0 / z[:, ids]
    m = tan.shape[1] // 2
    dx, dy, dz = _affine(P, tan)  # projected tangents: columns [:m] d/du, [m:] d/dv

    def part(num: torch.Tensor, coord: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(num, coord, den, value=-1.0).mul_(iz)  # d(num/z) = (d num - coord d z) / z

    return (part(dx[:, :m], u, dz[:, :m]), part(dx[:, m:], u, dz[:, m:]),
            part(dy[:, :m], v, dz[:, :m]), part(dy[:, m:], v, dz[:, m:]))


def max_singular(J) -> torch.Tensor:
    """Largest singular value of the 2x2 Jacobians."""
    a, b, c, d = J
    s2 = a * a + b * b + c * c + d * d
    det = a * d - b * c
    return torch.sqrt(0.5 * (s2 + torch.sqrt((s2 * s2 - 4 * det * det).clamp_min(0))))


def frame_jacobian(src: Source, P: torch.Tensor, U, V, z, ok) -> tuple[torch.Tensor, torch.Tensor]:
    """From the strided subset: ``need [B]`` (the frame magnifies some point by more than :data:`MAG_SPLIT`)
    and ``Jf [B,4]``, the per-frame median Jacobian (identity where no point is valid, and in the frames flagged by
    ``need``: those sample with each point's own Jacobian and never read ``Jf``)."""
    ids = src.check_ids
    J = torch.stack(jacobian(src, P, U, V, torch.where(ok, z, 1.0), ids), dim=-1)  # [B,M,4]
    valid = ok[:, ids]
    need = ((max_singular(J.unbind(-1)) > MAG_SPLIT) & valid).any(dim=1)
    med = _lower_median(J, valid & ~need[:, None])  # a frame that needs J never reads Jf
    eye = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=J.dtype, device=J.device)
    return need, torch.where(torch.isfinite(med), med, eye)


def _lower_median(J: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """``[B,M,K]`` -> ``[B,K]``: per frame and column, the lower median of the non-NaN values where ``valid [B,M]``
    (NaN if none), as ``nanmedian`` gives, by selection (``kthvalue``) instead of a sort."""
    out = torch.full(J.shape[::2], float("nan"), dtype=J.dtype, device=J.device)
    for b in range(J.shape[0]):
        for k in range(J.shape[2]):
            v = J[b, :, k][valid[b] & ~J[b, :, k].isnan()]
            if v.numel():
                out[b, k] = v.kthvalue((v.numel() + 1) // 2).values
    return out


def splat(src: Source, U, V, z, ok, out_hw: tuple[int, int], J=None, need: torch.Tensor | None = None,
          max_ss: int = 8) -> torch.Tensor:
    """Z-buffer of ``(float bits of z) << idx_bits | source index`` keys -> ``[B, H'*W']``.

    Footprints: the nearest pixel; with ``J`` (all points), in the frames flagged by ``need [B]``, a point whose
    largest singular value ``s`` is in ``(MAG_SPLIT, 2]`` covers the 3x3 pixels around its nearest (a min-filter
    of its own z-buffer) and one with ``s > 2`` is super-sampled ``ceil(s) x ceil(s)`` on its tangent plane
    (capped at ``max_ss``)."""
    bsz, n = U.shape
    ho, wo = out_hw
    m = ho * wo
    zkey = (z.contiguous().view(torch.int32).to(torch.int64) << src.idx_bits) | src.zkey_low
    uu, vv = U + 0.5, V + 0.5
    inside = ok & (uu >= 0) & (uu < wo) & (vv >= 0) & (vv < ho)
    tgt = vv.clamp_(0, ho - 1).to(torch.int64) * wo + uu.clamp_(0, wo - 1).to(torch.int64)
    del uu, vv
    if J is None:
        zbuf = torch.full((bsz, m), SENTINEL, dtype=torch.int64, device=U.device)
        zbuf.scatter_reduce_(1, tgt, torch.where(inside, zkey, SENTINEL), reduce="amin")
        return zbuf
    smax = max_singular(J)
    if need is not None and not bool(need.all()):
        smax = torch.where(need[:, None], smax, 0.0)
    big = ok & (smax > 2.0)
    inside &= ~big
    tgt += (smax > MAG_SPLIT).to(torch.int64) * m  # magnified points go to a second buffer, then dilated
    both = torch.full((bsz, 2 * m), SENTINEL, dtype=torch.int64, device=U.device)
    both.scatter_reduce_(1, tgt, torch.where(inside, zkey, SENTINEL), reduce="amin")
    del tgt, inside
    zbuf = torch.minimum(both[:, :m], window_extreme(both[:, m:].view(bsz, ho, wo), op=torch.minimum).view(bsz, m))
    if bool(big.any()):
        _splat_footprints(zbuf.view(-1), big, U, V, zkey, J, smax, out_hw, max_ss)
    return zbuf


def _splat_footprints(flat: torch.Tensor, big, U, V, zkey, J, smax, out_hw, max_ss: int) -> None:
    bsz, n = U.shape
    ho, wo = out_hw
    ru = 0.5 * (J[0].abs() + J[1].abs())
    rv = 0.5 * (J[2].abs() + J[3].abs())
    big = big & (U + ru >= -0.5) & (U - ru < wo - 0.5) & (V + rv >= -0.5) & (V - rv < ho - 0.5)
    ids = big.view(-1).nonzero().squeeze(1)
    a, b, c, d = (t.reshape(-1)[ids] for t in J)
    u0, v0, keys = U.reshape(-1)[ids], V.reshape(-1)[ids], zkey.reshape(-1)[ids]
    frames = torch.div(ids, n, rounding_mode="floor") * (ho * wo)
    kk = smax.reshape(-1)[ids].ceil().clamp(3, max(3, max_ss)).to(torch.int64)
    for k in torch.unique(kk).tolist():
        sel = (kk == k).nonzero().squeeze(1)
        o = (torch.arange(k, device=U.device, dtype=U.dtype) + 0.5) / k - 0.5
        ox, oy = o.repeat(k), o.repeat_interleave(k)
        uf = u0[sel, None] + a[sel, None] * ox + b[sel, None] * oy + 0.5
        vf = v0[sel, None] + c[sel, None] * ox + d[sel, None] * oy + 0.5
        keep = (uf >= 0) & (uf < wo) & (vf >= 0) & (vf < ho)
        tgt = frames[sel, None] + vf.clamp(0, ho - 1).to(torch.int64) * wo + uf.clamp(0, wo - 1).to(torch.int64)
        flat.scatter_reduce_(0, tgt[keep], keys[sel, None].expand(-1, k * k)[keep], reduce="amin")


def turn_view(src: Source, Hinv: torch.Tensor, out_hw: tuple[int, int], near_clip: float):
    """A camera that only turns (and zooms) about the source camera's centre sees every point along its source ray,
    whatever its depth: the view is the homography ``Hinv [3,3]`` (target pixel -> source pixel, ``K_src R^T
    K^-1``) of the source, exactly, and nothing occludes anything anew. Returns the z-buffer keys ``[H'*W']`` (the
    source pixel nearest each target pixel's pre-image, at the depth ``z / w`` it has in the target camera; empty
    where that pixel has no point, lies behind either camera or outside the source) and the ``grid_sample`` grid
    ``[1,H',W',2]`` of the exact pre-images."""
    ho, wo = out_hw
    h, w = src.height, src.width
    ys = torch.arange(ho, dtype=torch.float32, device=Hinv.device)[:, None]
    xs = torch.arange(wo, dtype=torch.float32, device=Hinv.device)
    x, y, d = (torch.addcmul(Hinv[i, 1] * ys + Hinv[i, 2], Hinv[i, 0], xs) for i in range(3))  # [H',W']
    front = d > 0  # the ray leaves the source camera forwards
    inv_d = torch.where(front, d, 1.0).reciprocal_()
    qx, qy = x.mul_(inv_d).clamp_(-1e7, 1e7), y.mul_(inv_d).clamp_(-1e7, 1e7)
    ix, iy = (qx + 0.5).floor_(), (qy + 0.5).floor_()
    ok = front & (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    ids = (iy.clamp_(0, h - 1).to(torch.int64) * w + ix.clamp_(0, w - 1).to(torch.int64)).view(-1)  # exact
    z = src.points[2].index_select(0, ids).mul_(inv_d.view(-1))
    ok = ok.view(-1) & src.valid.index_select(0, ids) & (z > near_clip)
    keys = (z.view(torch.int32).to(torch.int64) << src.idx_bits) | ids
    grid = torch.stack([qx.mul_(2.0 / w).add_(1.0 / w - 1.0), qy.mul_(2.0 / h).add_(1.0 / h - 1.0)], dim=-1)
    return keys.masked_fill_(~ok, SENTINEL), grid[None]


def point_depth(keys: torch.Tensor, idx_bits: int) -> torch.Tensor:
    """Depth stored in z-buffer keys that hold a point (garbage for the others)."""
    return (keys >> idx_bits).to(torch.int32).view(torch.float32)


def key_depth(keys: torch.Tensor, idx_bits: int) -> torch.Tensor:
    """Depth stored in z-buffer keys (``inf`` for the sentinel)."""
    return torch.where(keys == SENTINEL, float("inf"), point_depth(keys, idx_bits))


def fill_cracks(zbuf: torch.Tensor, out_hw: tuple[int, int], idx_bits: int, crack_tol: float,
                parallax: torch.Tensor) -> torch.Tensor:
    """Crack rule (see :mod:`.warp`) on the empty pixels only. ``parallax [B]`` is each frame's translation
    parallax scale in pixels per unit of inverse depth (``f * (|t_xy| + |t_z| r_max)``): two depths whose parallax
    differs by under a pixel cannot have opened a hole between them. A second pass closes pixels where two crack
    lines cross; it can only change holes next to one the first pass filled, so it tests just those. Works on a
    copy padded by a :data:`_BORDER` frame (neighbour ids without bounds checks)."""
    ho, wo = out_hw
    grid = zbuf.view(-1, ho, wo)
    hole = grid == SENTINEL
    if not bool(hole.any()):
        return zbuf
    covered = ~hole
    side = torch.zeros_like(hole)  # a crack has a covered pixel beside it: skips the inside of large holes
    side[:, :, 1:] |= covered[:, :, :-1]
    side[:, :, :-1] |= covered[:, :, 1:]
    side[:, 1:] |= covered[:, :-1]
    side[:, :-1] |= covered[:, 1:]
    ids = F.pad(hole & side, (1, 1, 1, 1)).view(-1).nonzero().squeeze(1)
    padded = _pad_border(grid)
    flat, wp = padded.view(-1), wo + 2
    ring = torch.tensor([dy * wp + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], device=zbuf.device)
    for i in range(2):
        if ids.numel() == 0:
            break
        frame = torch.div(ids, (ho + 2) * wp, rounding_mode="floor")
        filled = _crack_pass(flat, ids, parallax.to(torch.float32)[frame], wp, idx_bits, crack_tol)
        if i == 0:
            near = _near(filled, ring, flat.numel())
            ids = near[flat.index_select(0, near) == SENTINEL]
    grid.copy_(padded[:, 1:-1, 1:-1])
    return zbuf


def close_see_through(zbuf: torch.Tensor, out_hw: tuple[int, int], idx_bits: int, crack_tol: float,
                      parallax: torch.Tensor) -> torch.Tensor:
    """See-through cracks: a surface magnified a little (up to ``MAG_SPLIT``, splatted one pixel per point) leaves
    one-pixel gaps between its points, and where a farther surface lies behind, its points show through them as a
    lattice of lines across the near surface. A covered pixel whose two opposite neighbours (horizontal, vertical
    or either diagonal) are covered at depths continuous with each other (the crack rule's test) but not with its
    own, and nearer, is such a gap: it takes the nearer neighbour's point, as an empty crack would. Under no
    translation parallax (frame 0, a pure rotation) every depth counts as continuous, so nothing changes there.
    Only pixels farther than ``exp(crack_tol)`` times their nearest neighbour can be gaps: the rule tests just those
    (border pixels are left alone). ``zbuf [B, H'*W']`` is updated in place (and returned)."""
    ho, wo = out_hw
    grid = zbuf.view(-1, ho, wo)
    ratio = math.exp(crack_tol)
    z = torch.where(grid == SENTINEL, float("inf"), point_depth(grid, idx_bits))
    cand = (window_extreme(z, op=torch.minimum) * ratio < z) & (grid != SENTINEL)  # empty pixels are the crack rule's
    cand[:, [0, -1]] = False
    cand[:, :, [0, -1]] = False
    ids = cand.view(-1).nonzero().squeeze(1)
    if ids.numel() == 0:
        return zbuf
    flat, zf = grid.view(-1), z.view(-1)
    par = parallax.to(torch.float32)[torch.div(ids, ho * wo, rounding_mode="floor")]
    zc = zf.index_select(0, ids)

    best = torch.full_like(ids, SENTINEL)
    for off in (1, wo, wo + 1, wo - 1):  # the opposite pairs: horizontal, vertical, both diagonals
        k1, k2 = flat.index_select(0, ids - off), flat.index_select(0, ids + off)
        z1, z2 = zf.index_select(0, ids - off), zf.index_select(0, ids + off)
        near = torch.maximum(z1, z2)
        gap = ((k1 != SENTINEL) & (k2 != SENTINEL) & _continuous(z1, z2, ratio, par) & (near < zc)
               & ~_continuous(near, zc, ratio, par))
        best = torch.where(gap, torch.minimum(best, torch.minimum(k1, k2)), best)
    hit = best != SENTINEL
    flat.index_copy_(0, ids[hit], best[hit])
    return zbuf


def _near(ids: torch.Tensor, ring: torch.Tensor, numel: int, with_self: bool = False) -> torch.Tensor:
    """Sorted unique neighbours (offsets ``ring``; and ``ids`` themselves if ``with_self``) of the flat ids of a
    padded grid of ``numel`` pixels: by sorting when they are few, through a dense mask when they are many."""
    nbs = (ids[:, None] + ring).view(-1)
    if with_self:
        nbs = torch.cat([ids, nbs])
    if nbs.numel() * 16 < numel:
        return torch.unique(nbs)
    mask = torch.zeros(numel, dtype=torch.bool, device=ids.device)
    mask.index_fill_(0, nbs, True)
    return mask.nonzero().squeeze(1)


def _pad_border(grid: torch.Tensor) -> torch.Tensor:
    """``[B,H,W]`` keys inside a one-pixel :data:`_BORDER` frame -> ``[B,H+2,W+2]``."""
    b, h, w = grid.shape
    padded = torch.full((b, h + 2, w + 2), _BORDER, dtype=grid.dtype, device=grid.device)
    padded[:, 1:-1, 1:-1] = grid
    return padded


def _continuous(z1: torch.Tensor, z2: torch.Tensor, ratio: float, par: torch.Tensor) -> torch.Tensor:
    """The crack rule's continuity test: log-depths within ``log(ratio)``, or inverse depths whose translation
    parallax (``par`` pixels per unit of inverse depth) differs by under one pixel."""
    return (torch.maximum(z1, z2) <= torch.minimum(z1, z2) * ratio) | ((1.0 / z1 - 1.0 / z2).abs() * par < 1.0)


def _crack_pass(flat: torch.Tensor, ids: torch.Tensor, par: torch.Tensor, wp: int, idx_bits: int,
                crack_tol: float) -> torch.Tensor:
    """One pass of the crack rule over the empty pixels ``ids`` (with a covered pixel beside them) of the padded
    flat key grid (row length ``wp``), in place; returns the ids it filled."""
    ratio = math.exp(crack_tol)  # |log z1 - log z2| <= crack_tol
    best = torch.full_like(ids, SENTINEL)
    side = torch.zeros_like(ids, dtype=torch.bool)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        k1, k2 = flat.index_select(0, ids + (dy * wp + dx)), flat.index_select(0, ids - (dy * wp + dx))
        if dy == 0 or dx == 0:  # on the border an axis pair mirrors its inner neighbour
            side |= (k1 < _BORDER) | (k2 < _BORDER)
            out1, out2 = k1 == _BORDER, k2 == _BORDER
            k1, k2 = torch.where(out1, k2, k1), torch.where(out2, k1, k2)
        both = (k1 < _BORDER) & (k2 < _BORDER)
        z1, z2 = point_depth(k1, idx_bits), point_depth(k2, idx_bits)  # meaningless where not ``both``
        best = torch.where(both & _continuous(z1, z2, ratio, par), torch.minimum(best, torch.minimum(k1, k2)), best)
    best = torch.where(side, best, SENTINEL)
    flat.index_copy_(0, ids, best)
    return ids[best != SENTINEL]


def empty_neighbours(hole: torch.Tensor) -> torch.Tensor:
    """``[B,H,W]`` bool -> how many of each pixel's 8 neighbours are set (outside the frame: not set), uint8."""
    h, w = hole.shape[-2:]
    p = F.pad(hole.to(torch.uint8), (1, 1, 1, 1))
    rows = p[:, :, :-2] + p[:, :, 1:-1] + p[:, :, 2:]  # [B, H+2, W]: horizontal 3-sums
    return rows[:, :-2] + rows[:, 2:] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:]


def drop_strays(zbuf: torch.Tensor, out_hw: tuple[int, int], max_passes: int = 32) -> torch.Tensor:
    """Flying pixels into the hole mask, pinholes closed. A covered pixel with at least 5 of its 8 neighbours
    empty (a point of a soft depth edge, or a one-pixel-thin part, scattered over a disocclusion) is emptied, so
    the fill paints the background there; an empty pixel with at most one empty neighbour takes its farthest
    neighbour's point (the background side: a pinhole the crack rule left opens between depths that differ, as
    across a quantised depth step). Repeated until neither is left (each pass can strand a neighbour), at most
    ``max_passes`` times. ``zbuf`` is updated in place (and returned).

    Only the first pass looks at the whole frame: a pixel's flags depend on its 3x3 neighbourhood alone, so a
    later pass can only flag pixels next to one the previous pass changed, and tests just those (on a grid padded
    by a :data:`_BORDER` frame, so neighbours need no bounds checks)."""
    ho, wo = out_hw
    grid = zbuf.view(-1, ho, wo)
    hole = grid == SENTINEL
    empty = empty_neighbours(hole)
    flagged = (~hole & (empty >= 5)) | (hole & (empty <= 1))
    if not bool(flagged.any()):
        return zbuf
    padded = _pad_border(grid)
    ids = F.pad(flagged, (1, 1, 1, 1)).view(-1).nonzero().squeeze(1)
    wp = wo + 2
    ring = torch.tensor([dy * wp + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], device=zbuf.device)
    flat = padded.view(-1)
    for _ in range(max_passes):
        if ids.numel() == 0:
            break
        changed = _strays_pass(flat, ids, ids[:, None] + ring)
        near = _near(changed, ring, flat.numel(), with_self=True)
        ids = near[flat.index_select(0, near) != _BORDER]
    grid.copy_(padded[:, 1:-1, 1:-1])
    return zbuf


def _strays_pass(flat: torch.Tensor, ids: torch.Tensor, nbs: torch.Tensor) -> torch.Tensor:
    """One pass of :func:`drop_strays` over the candidate pixels ``ids`` (neighbours ``nbs [n,8]``) of the padded
    flat key grid, in place: strays emptied, then pinholes given their farthest covered neighbour (as it is after
    this pass's strays are gone). Returns the ids whose key changed."""
    hole = flat.index_select(0, ids) == SENTINEL
    empty = (flat.index_select(0, nbs.view(-1)) == SENTINEL).view(nbs.shape).sum(dim=1)
    stray, pin = ~hole & (empty >= 5), hole & (empty <= 1)
    flat[ids[stray]] = SENTINEL
    k = flat.index_select(0, nbs[pin].view(-1)).view(-1, nbs.shape[1])
    far = torch.where(k < _BORDER, k, -1).amax(dim=1)
    filled = far >= 0
    pins = ids[pin]
    flat[pins[filled]] = far[filled]
    return torch.cat([ids[stray], pins[filled]])


def _inverse2x2(a, b, c, d):
    """Inverse of 2x2 matrices given by their entries; zeros where singular (no sub-pixel correction)."""
    det = a * d - b * c
    good = torch.isfinite(det) & (det.abs() > 1e-9)
    inv = torch.where(good, 1.0 / torch.where(good, det, 1.0), 0.0)
    return d * inv, -b * inv, -c * inv, a * inv


def sample(src: Source, zbuf: torch.Tensor, U, V, out_hw: tuple[int, int], Jf: torch.Tensor, J=None,
           need: torch.Tensor | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Backward bilinear colour of every covered target pixel -> ``[B, C, H', W']`` (garbage where empty; written
    into ``out`` if given).

    Pixel ``p`` won by point ``q`` (projected at ``P(q)``) reads the source at ``q + J(q)^-1 (p - P(q))``; without
    ``J`` (or in frames not flagged by ``need``: no magnified point) the frame's median Jacobian ``Jf [B,4]``
    stands in for ``J(q)`` (its inverse clamped to +-4), which splits into a per-point and a per-pixel term.
    Each frame's sampling grid is computed by one of the two paths only, a strip of :data:`_STRIP` pixels at a
    time (every value is per pixel, so the strips only keep the intermediates in cache)."""
    bsz = zbuf.shape[0]
    ho, wo = out_hw
    local = torch.zeros(bsz, dtype=torch.bool) if J is None else (
        torch.ones(bsz, dtype=torch.bool) if need is None else need.cpu())
    if out is None:
        out = torch.empty(bsz, src.image.shape[1], ho, wo, dtype=U.dtype, device=U.device)
    rows = max(1, _STRIP // wo)
    for b in range(bsz):
        if bool(local[b]):
            grid = _LocalGrid(src, U[b], V[b], [t[b] for t in J], wo)
        else:
            grid = _MedianGrid(src, U[b], V[b], Jf[b], wo)
        for r0 in range(0, ho, rows):
            r1 = min(ho, r0 + rows)
            keys = zbuf[b, r0 * wo:r1 * wo]
            q = (keys & ((1 << src.idx_bits) - 1)).masked_fill_(keys == SENTINEL, 0)  # winning point (0: empty)
            out[b, :, r0:r1] = F.grid_sample(src.image, grid(q, r0, r1)[None], mode="bilinear",
                                             padding_mode="border", align_corners=False)[0]
    return out


_STRIP = 1 << 15  # target pixels sampled at a time


class _MedianGrid:
    """grid_sample grid rows from a frame's median Jacobian (see :func:`sample`): source coordinate
    ``q + M (p - P(q)) = [q - M P(q)]`` (per point) ``+ [M p]`` (per pixel), normalised for grid_sample."""

    def __init__(self, src: Source, U, V, Jf, wo: int):
        m00, m01, m10, m11 = (x.clamp(-4.0, 4.0) for x in _inverse2x2(*Jf.unbind(-1)))
        cols = torch.arange(wo, device=U.device, dtype=U.dtype)
        self.parts = []
        for base, ma, mb, size in ((src.flow_base[0], m00, m01, src.width), (src.flow_base[1], m10, m11, src.height)):
            per_point = torch.addcmul(torch.addcmul(base, ma, U, value=-1.0), mb, V, value=-1.0).mul_(2.0 / size)
            col_term = (ma * cols).mul_(2.0 / size).add_(1.0 / size - 1.0)  # [W']
            self.parts.append((per_point, col_term, mb, 2.0 / size))

    def __call__(self, q: torch.Tensor, r0: int, r1: int) -> torch.Tensor:
        wo = self.parts[0][1].shape[0]
        rows = torch.arange(r0, r1, device=q.device, dtype=self.parts[0][0].dtype)
        grid = torch.empty(r1 - r0, wo, 2, dtype=rows.dtype, device=q.device)
        for k, (per_point, col_term, mb, scale) in enumerate(self.parts):
            torch.add(per_point.index_select(0, q).view(r1 - r0, wo), col_term, out=grid[..., k])
            grid[..., k] += (mb * rows).mul_(scale)[:, None]
        return grid


class _LocalGrid:
    """grid_sample grid rows from each winning point's own Jacobian (see :func:`sample`)."""

    def __init__(self, src: Source, U, V, J, wo: int):
        self.src, self.U, self.V, self.J, self.wo = src, U, V, J, wo

    def __call__(self, q: torch.Tensor, r0: int, r1: int) -> torch.Tensor:
        src, wo = self.src, self.wo
        h, w = src.height, src.width
        dt = self.U.dtype
        px = torch.arange(wo, device=q.device, dtype=dt).repeat(r1 - r0)
        py = torch.arange(r0, r1, device=q.device, dtype=dt).repeat_interleave(wo)
        qx = src.flow_base[0].index_select(0, q)  # the winner's source pixel (exact floats)
        qy = src.flow_base[1].index_select(0, q)
        ex = px - qx + (qx - self.U.index_select(0, q))  # p - P(q)
        ey = py - qy + (qy - self.V.index_select(0, q))
        a, b, c, d = _inverse2x2(*(t.index_select(0, q) for t in self.J))
        grid = torch.empty(r1 - r0, wo, 2, dtype=dt, device=q.device)
        torch.add(qx, (a * ex + b * ey).clamp_(-2, 2), out=grid.view(-1, 2)[:, 0]).mul_(2.0 / w).add_(1.0 / w - 1.0)
        torch.add(qy, (c * ex + d * ey).clamp_(-2, 2), out=grid.view(-1, 2)[:, 1]).mul_(2.0 / h).add_(1.0 / h - 1.0)
        return grid
