"""The renderer's fast paths give the same bits as straightforward full-frame formulations of the same rules
(issue 19): sparse stray and crack passes, the 2x2 push-pull by slices with the pull over the holes only, the
background fill's per-channel gathers, the median by selection, the see-through rule on its candidates."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from draw_to_video.trajectory.render import holefill
from draw_to_video.trajectory.render.warpcore import (
    SENTINEL,
    _lower_median,
    close_see_through,
    drop_strays,
    fill_cracks,
    key_depth,
)

IDX_BITS = 12


def _keys(b: int, h: int, w: int, hole_frac: float, seed: int) -> torch.Tensor:
    """Random z-buffer keys ``[B,H*W]``: smooth depth bits << IDX_BITS | index, with blobs and specks of holes."""
    g = torch.Generator().manual_seed(seed)
    z = 1.0 + F.interpolate(torch.rand(b, 1, max(2, h // 4), max(2, w // 4), generator=g), size=(h, w),
                            mode="bilinear", align_corners=False)[:, 0]
    z = torch.where(torch.rand(b, h, w, generator=g) < 0.1, z * 1.5, z)  # depth steps
    keys = (z.contiguous().view(torch.int32).to(torch.int64) << IDX_BITS) | torch.arange(h * w).view(h, w) % 4096
    blobs = F.interpolate(torch.rand(b, 1, max(2, h // 5), max(2, w // 5), generator=g), size=(h, w))[:, 0]
    hole = (blobs < hole_frac) | (torch.rand(b, h, w, generator=g) < hole_frac / 3)
    return torch.where(hole, SENTINEL, keys).view(b, h * w)


def _ref_neighbour_keys(grid: torch.Tensor, dy: int, dx: int, fill: int) -> torch.Tensor:
    """``grid [B,H,W]`` shifted so that each pixel sees its neighbour at (dy, dx); ``fill`` outside the frame."""
    h, w = grid.shape[-2:]
    out = torch.full_like(grid, fill)
    ys, yd = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy), slice(-dy, h))
    xs, xd = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx), slice(-dx, w))
    out[:, yd, xd] = grid[:, ys, xs]
    return out


RING = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]


def ref_drop_strays(zbuf: torch.Tensor, hw: tuple[int, int], max_passes: int = 32) -> torch.Tensor:
    """Every pass over the whole frame: strays emptied, then pinholes take their farthest covered neighbour."""
    grid = zbuf.view(-1, *hw).clone()
    for _ in range(max_passes):
        hole = grid == SENTINEL
        empty = sum((_ref_neighbour_keys(grid, dy, dx, 0) == SENTINEL).to(torch.int64) for dy, dx in RING)
        stray, pin = ~hole & (empty >= 5), hole & (empty <= 1)
        if not bool((stray | pin).any()):
            break
        grid = torch.where(stray, SENTINEL, grid)
        far = torch.stack([_ref_neighbour_keys(grid, dy, dx, SENTINEL) for dy, dx in RING])
        far = torch.where(far != SENTINEL, far, -1).amax(0)
        grid = torch.where(pin, torch.where(far >= 0, far, SENTINEL), grid)
    return grid.view_as(zbuf)


def ref_fill_cracks(zbuf: torch.Tensor, hw: tuple[int, int], crack_tol: float, parallax: torch.Tensor):
    """Two whole-frame passes of the crack rule."""
    grid = zbuf.view(-1, *hw).clone()
    ratio = math.exp(crack_tol)
    par = parallax.float()[:, None, None]
    for _ in range(2):
        hole = grid == SENTINEL
        cov = [_ref_neighbour_keys(grid, dy, dx, SENTINEL) != SENTINEL for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))]
        side = hole & (cov[0] | cov[1] | cov[2] | cov[3])
        best = torch.full_like(grid, SENTINEL)
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            k1, k2 = _ref_neighbour_keys(grid, dy, dx, -5), _ref_neighbour_keys(grid, -dy, -dx, -5)
            if dy == 0 or dx == 0:
                k1, k2 = torch.where(k1 == -5, k2, k1), torch.where(k2 == -5, k1, k2)
            k1, k2 = torch.where(k1 == -5, SENTINEL, k1), torch.where(k2 == -5, SENTINEL, k2)
            both = (k1 != SENTINEL) & (k2 != SENTINEL)
            z1, z2 = key_depth(k1, IDX_BITS), key_depth(k2, IDX_BITS)
            close = (torch.maximum(z1, z2) <= torch.minimum(z1, z2) * ratio) | ((1 / z1 - 1 / z2).abs() * par < 1)
            best = torch.where(both & close, torch.minimum(best, torch.minimum(k1, k2)), best)
        grid = torch.where(side, best, grid)
    return grid.view_as(zbuf)


def ref_pushpull(colour, seen, depth, tol):
    """The push-pull pyramid with torch's 2x2 block reductions and whole-level bilinear pulls."""
    def blocks(x):
        b, c, h, w = x.shape
        return x.view(b, c, h // 2, 2, w // 2, 2)
    col = torch.where(seen[:, None], colour, 0.0)
    wgt = seen[:, None].float()
    z = torch.where(seen, depth, 0.0)[:, None]
    levels = []
    while bool((wgt <= 0).any()) and max(col.shape[-2:]) > 1:
        levels.append((col, wgt))
        h, w = col.shape[-2:]
        if h % 2 or w % 2:
            pad = (0, w % 2, 0, h % 2)
            col, wgt, z = F.pad(col, pad), F.pad(wgt, pad), F.pad(z, pad)
        zb = blocks(z)
        keep = blocks(wgt) * (zb * (1.0 + tol) >= zb.amax(dim=(3, 5), keepdim=True))
        cnt = keep.sum(dim=(3, 5)).clamp_min(1e-12)
        col = (blocks(col) * keep).sum(dim=(3, 5)) / cnt
        z = (zb * keep).sum(dim=(3, 5)) / cnt
        wgt = (cnt > 1e-12).float()
    if bool((wgt <= 0).any()):
        col = col * wgt
    for fine_col, fine_wgt in reversed(levels):
        h, w = fine_col.shape[-2:]
        up = F.interpolate(col, scale_factor=2.0, mode="bilinear", align_corners=False)[..., :h, :w]
        col = torch.where(fine_wgt > 0, fine_col, up)
    return torch.where(seen[:, None], colour, col)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(a.view(torch.int32) if a.is_floating_point() else a,
                                              b.view(torch.int32) if b.is_floating_point() else b)


SIZES = [(1, 1, 9), (2, 7, 1), (3, 13, 17), (2, 40, 31), (1, 64, 96)]


@pytest.mark.parametrize(("b", "h", "w"), SIZES)
@pytest.mark.parametrize("hole_frac", [0.05, 0.3, 0.7])
def test_sparse_stray_passes_match_whole_frame_passes(b, h, w, hole_frac):
    for seed in range(3):
        zbuf = _keys(b, h, w, hole_frac, seed)
        ref = ref_drop_strays(zbuf, (h, w))
        assert torch.equal(drop_strays(zbuf.clone(), (h, w)), ref)
        assert torch.equal(drop_strays(zbuf.clone(), (h, w), max_passes=2), ref_drop_strays(zbuf, (h, w), 2))


@pytest.mark.parametrize(("b", "h", "w"), SIZES)
@pytest.mark.parametrize("hole_frac", [0.05, 0.3])
def test_padded_crack_passes_match_whole_frame_passes(b, h, w, hole_frac):
    for seed in range(3):
        zbuf = _keys(b, h, w, hole_frac, seed)
        par = torch.linspace(0.0, 400.0, b)
        got = fill_cracks(zbuf.clone(), (h, w), IDX_BITS, 0.05, par)
        assert torch.equal(got, ref_fill_cracks(zbuf, (h, w), 0.05, par))
        assert int((got != SENTINEL).sum()) >= int((zbuf != SENTINEL).sum())


def _scene(b: int, h: int, w: int, hole_frac: float, seed: int):
    g = torch.Generator().manual_seed(seed)
    colour = torch.rand(b, 3, h, w, generator=g)
    seen = _keys(b, h, w, hole_frac, seed).view(b, h, w) != SENTINEL
    seen[:, :, : w // 6] = False  # a band revealed at the border: seen from one side only
    depth = torch.where(seen, 1.0 + torch.rand(b, h, w, generator=g), 0.0)
    return colour, seen, depth


@pytest.mark.parametrize(("b", "h", "w"), [(1, 1, 1), (2, 5, 3), (2, 37, 50), (2, 150, 260), (1, 131, 257)])
def test_pushpull_by_slices_and_hole_pull_matches_block_reductions(b, h, w):
    for seed in range(2):
        colour, seen, depth = _scene(b, h, w, 0.3, seed)
        assert _same(holefill.pushpull_fill(colour, seen, depth, 0.1), ref_pushpull(colour, seen, depth, 0.1))


def test_block_sum_slices_are_tested_on_sizes_that_use_them():
    assert min(150, 260) // 2 >= holefill._SLICED  # the 150x260 case above sums its finest level by slices


@pytest.mark.parametrize(("b", "h", "w"), [(2, 37, 50), (2, 150, 260)])
def test_background_fill_matches_its_pushpull_reference(b, h, w):
    """The fill of the holes no line reaches is the push-pull of the reference formulation."""
    colour, seen, depth = _scene(b, h, w, 0.3, 5)
    got = holefill.background_fill(colour.clone(), seen, depth, 0.1)
    assert bool(torch.isfinite(got).all()) and _same(got[seen[:, None].expand_as(got)], colour[seen[:, None]
                                                                                                .expand_as(colour)])
    orig = holefill._pushpull
    try:  # the same fill with the reference pyramid for the fallback
        holefill._pushpull = lambda c, s, z, tol, out: out.copy_(ref_pushpull(c, s, z, tol))
        ref = holefill.background_fill(colour.clone(), seen, depth, 0.1)
    finally:
        holefill._pushpull = orig
    assert _same(got, ref)


def test_median_by_selection_is_nanmedian():
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        m = int(torch.randint(1, 30, (1,), generator=g))
        J = torch.round(torch.randn(3, m, 4, generator=g) * 2) / 2  # ties
        J[torch.rand(3, m, 4, generator=g) < 0.2] = float("nan")
        J[torch.rand(3, m, 4, generator=g) < 0.1] = float("inf")
        valid = torch.rand(3, m, generator=g) < 0.6
        ref = torch.where(valid[..., None], J, float("nan")).nanmedian(dim=1).values
        assert torch.equal(_lower_median(J, valid).nan_to_num(7.0), ref.nan_to_num(7.0))


def _ref_see_through(zbuf: torch.Tensor, h: int, w: int, crack_tol: float, par: torch.Tensor) -> torch.Tensor:
    """The see-through rule on every interior pixel of the whole frame (shifted copies, no candidate filter)."""
    grid = zbuf.view(-1, h, w).clone()
    ratio, p = math.exp(crack_tol), par.view(-1, 1, 1)
    z = key_depth(grid, IDX_BITS)

    def close(a, b):
        return (torch.maximum(a, b) <= torch.minimum(a, b) * ratio) | ((1.0 / a - 1.0 / b).abs() * p < 1.0)

    best = torch.full_like(grid, SENTINEL)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        k1, k2 = _ref_neighbour_keys(grid, -dy, -dx, SENTINEL), _ref_neighbour_keys(grid, dy, dx, SENTINEL)
        z1, z2 = key_depth(k1, IDX_BITS), key_depth(k2, IDX_BITS)
        near = torch.maximum(z1, z2)
        gap = (k1 != SENTINEL) & (k2 != SENTINEL) & close(z1, z2) & (near < z) & ~close(near, z)
        best = torch.where(gap, torch.minimum(best, torch.minimum(k1, k2)), best)
    interior = torch.zeros_like(grid, dtype=torch.bool)
    interior[:, 1:-1, 1:-1] = True
    hit = (best != SENTINEL) & (grid != SENTINEL) & interior
    return torch.where(hit, best, grid).view(zbuf.shape)


@pytest.mark.parametrize(("b", "h", "w", "hole_frac"), [(2, 17, 23, 0.2), (3, 40, 31, 0.05), (1, 64, 64, 0.4)])
@pytest.mark.parametrize("par", [0.0, 3.0, 80.0])
def test_see_through_rule_on_candidates_matches_the_whole_frame_rule(b, h, w, hole_frac, par):
    keys = _keys(b, h, w, hole_frac, seed=b * 100 + h)
    p = torch.full((b,), par)
    want = _ref_see_through(keys, h, w, 0.05, p)
    got = close_see_through(keys.clone(), (h, w), IDX_BITS, 0.05, p)
    assert torch.equal(got, want)
    if par == 0.0:
        assert torch.equal(got, keys)  # no translation parallax: every depth is continuous, nothing changes
    elif par == 80.0:
        assert not torch.equal(got, keys)  # at this parallax the random depth steps make gaps: the rule works
