"""Depth maps: relative-map normalisation, metric pass-through, invalid repair, stereo conversion, fallback prior."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from draw_to_video.trajectory.conventions import DEFAULT_SUBJECT_DEPTH
from draw_to_video.trajectory.render.depth import (
    FALLBACK_NOTE,
    DepthError,
    continuous_steps,
    depth_from_map,
    depth_or_fallback,
    disparity_to_depth,
    fallback_depth_prior,
    fill_invalid,
)


def _ramp_image(b: int = 2, h: int = 30, w: int = 40) -> torch.Tensor:
    """IMAGE-like [B,H,W,3] 0..1 with brightness rising to the right (a depth node's output: bright = near)."""
    x = torch.linspace(0.0, 1.0, w).expand(b, h, w)
    return torch.stack([x, x, x], dim=-1).contiguous()


def test_relative_inverse_depth_image_bright_is_near_median_is_subject():
    img = _ramp_image()
    d = depth_from_map(img, "inverse_depth", near=0.4, far=8.0)
    assert d.shape == (2, 30, 40) and d.dtype == torch.float32
    assert torch.isfinite(d).all() and bool((d >= 0.4 - 1e-6).all()) and bool((d <= 8.0 + 1e-5).all())
    assert float(d.median()) == pytest.approx(DEFAULT_SUBJECT_DEPTH, rel=0.05)
    row = d[0, 0]
    assert bool((row[1:] <= row[:-1] + 1e-6).all()) and row[-1] < row[0]  # brighter -> nearer
    assert float(d[0, 0, -1]) == pytest.approx(0.4, rel=1e-4)  # the top percentile maps to `near`
    # affine in inverse depth (planes stay planes) where nothing is clamped
    inv = 1.0 / row
    free = (row > 0.41) & (row < 7.9)
    dif = inv[1:] - inv[:-1]
    assert torch.allclose(dif[free[1:] & free[:-1]], dif[free[1:] & free[:-1]].mean(), rtol=1e-3)


def test_relative_depth_kind_bright_is_far():
    d = depth_from_map(_ramp_image(1), "depth", near=0.5, far=6.0)[0, 0]
    assert d[-1] > d[0] and float(d.median()) == pytest.approx(1.0, rel=0.05)
    assert float(d.min()) == pytest.approx(0.5, rel=1e-4) and float(d.max()) <= 6.0


def test_outliers_do_not_move_the_mapping():
    base = torch.rand(1, 40, 40, generator=torch.Generator().manual_seed(0))
    spiky = base.clone()
    spiky[0, 0, :8] = 1e6  # 0.5 % of the pixels: far above the 98th percentile
    a, b = depth_from_map(base), depth_from_map(spiky)
    # inverse depth spans 1/near - 1/far = 1.9; the spikes move it by under 2 % of that (min-max scaling: ~100 %)
    assert float((1 / a[0, 1:] - 1 / b[0, 1:]).abs().max()) < 0.04
    assert float(b.median()) == pytest.approx(1.0, rel=0.05)


def test_metric_depth_passes_through_and_invalid_is_filled_from_neighbours():
    g = torch.Generator().manual_seed(1)
    d = 2.0 + torch.rand(1, 16, 16, generator=g)
    bad = d.clone()
    bad[0, 5, 5], bad[0, 5, 6], bad[0, 9, 2], bad[0, 0, 0] = float("nan"), float("inf"), -1.0, 0.0
    out = depth_from_map(bad, "depth", normalise=False)
    ok = torch.isfinite(bad) & (bad > 0)
    assert torch.equal(out[ok], d[ok])
    assert torch.isfinite(out).all() and bool((out > 0).all())
    assert 2.0 <= float(out[0, 5, 5]) <= 3.0 and 2.0 <= float(out[0, 0, 0]) <= 3.0
    inv = depth_from_map(1.0 / d, "inverse_depth", normalise=False)
    assert torch.allclose(inv, d, rtol=1e-6)


def test_constant_map_is_a_flat_plane_at_subject_depth():
    d = depth_from_map(torch.full((3, 7, 9), 0.3), near=0.2, far=5.0, subject_depth=1.5)
    assert torch.allclose(d, torch.tensor(1.5))


def test_real_disparity_to_depth_middlebury_motorcycle():
    _, _, disp = skimage.data.stereo_motorcycle()
    f, baseline, doffs = 994.978, 193.001, 31.086
    depth, valid = disparity_to_depth(disp, f, baseline, doffs=doffs)
    finite = np.isfinite(disp)
    assert torch.equal(valid, torch.from_numpy(finite)) and bool((depth[~valid] == 0).all())
    i, j = np.argwhere(finite)[1234]
    assert float(depth[i, j]) == pytest.approx(f * baseline / (disp[i, j] + doffs), rel=1e-5)
    assert 1500 < float(depth[valid].median()) < 4000  # mm: the bike is ~2-3 m from the rig
    filled = depth_from_map(torch.where(valid, depth, torch.nan), "depth", normalise=False)
    assert torch.isfinite(filled).all() and float(filled.min()) >= float(depth[valid].min()) - 1e-3


def test_disparity_to_depth_marks_zero_and_negative_invalid():
    depth, valid = disparity_to_depth(torch.tensor([[4.0, 0.0, -2.0, float("nan")]]), 100.0, 0.5)
    assert valid.tolist() == [[True, False, False, False]] and depth.tolist() == [[12.5, 0.0, 0.0, 0.0]]
    with pytest.raises(DepthError):
        disparity_to_depth(torch.ones(2, 2), 0.0, 1.0)


def test_fallback_prior_ground_sky_and_subject():
    h, w = 90, 160
    p = fallback_depth_prior(h, w, horizon=0.4, near=0.5, far=10.0, subject_radius=0.1)
    assert p.shape == (h, w) and torch.isfinite(p).all()
    assert float(p[-1, 0]) == pytest.approx(0.5) and float(p[0, 0]) == pytest.approx(10.0)
    col = p[int(0.4 * h) + 2:, 3]  # ground at the image edge: nearer row by row toward the bottom
    assert bool((col[1:] <= col[:-1] + 1e-6).all())
    cy, cx = int(0.55 * (h - 1)), (w - 1) // 2
    assert float(p[cy, cx]) == pytest.approx(1.0, rel=0.01) and p[cy, cx] < p[cy, 3]
    d, note = depth_or_fallback(None, h, w)
    assert note == FALLBACK_NOTE and d.shape == (1, h, w)
    d2, note2 = depth_or_fallback(_ramp_image(1, h, w), h, w)
    assert note2 is None and d2.shape == (1, h, w)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(DepthError):
        depth_from_map(torch.full((4, 4), float("nan")))
    with pytest.raises(DepthError):
        depth_from_map(torch.ones(1, 2, 3, 4, 5))
    with pytest.raises(DepthError):
        depth_from_map(torch.ones(4, 4), "height")
    with pytest.raises(DepthError):
        depth_from_map(torch.ones(4, 4), near=2.0, far=1.0)
    with pytest.raises(DepthError):
        depth_from_map(torch.ones(4, 4), "disparity", normalise=False)
    with pytest.raises(DepthError):
        fallback_depth_prior(0, 4)


def test_fill_invalid_single_valid_pixel_spreads_everywhere():
    v = torch.zeros(1, 5, 7)
    valid = torch.zeros(1, 5, 7, dtype=torch.bool)
    v[0, 4, 6], valid[0, 4, 6] = 3.0, True
    assert torch.equal(fill_invalid(v, valid), torch.full((1, 5, 7), 3.0))


@settings(max_examples=200, deadline=None)
@given(
    b=st.integers(1, 2), h=st.integers(1, 24), w=st.integers(1, 24), channels=st.sampled_from([0, 1, 3, 4]),
    kind=st.sampled_from(["depth", "inverse_depth", "disparity"]), normalise=st.booleans(),
    scale=st.floats(1e-6, 1e6), nan_frac=st.floats(0.0, 1.0), neg=st.booleans(), seed=st.integers(0, 2**16),
)
def test_random_maps_give_positive_finite_depth_or_value_error(b, h, w, channels, kind, normalise, scale,
                                                              nan_frac, neg, seed):
    g = torch.Generator().manual_seed(seed)
    shape = (b, h, w) if channels == 0 else (b, h, w, channels)
    x = scale * (torch.rand(shape, generator=g) - (0.5 if neg else 0.0))
    x[torch.rand(shape, generator=g) < nan_frac] = float("nan")
    try:
        d = depth_from_map(x, kind, normalise=normalise)
    except DepthError:
        return
    assert d.shape == (b, h, w) and d.dtype == torch.float32
    assert torch.isfinite(d).all() and bool((d > 0).all())
    if normalise:
        assert bool((d >= 0.5 - 1e-5).all()) and bool((d <= 10.0 + 1e-4).all())


def test_continuous_steps_joins_ramps_and_parts_edges():
    """The renderer's and the feasibility model's depth-edge test on log-depth steps along a line."""
    tol = 0.05

    def steps(z) -> torch.Tensor:
        return torch.tensor(np.abs(np.diff(np.log(np.asarray(z, np.float64)))))

    ground = 1.0 / np.linspace(1.0, 0.12, 40)  # a ground plane toward the horizon: steps grow steadily past tol
    assert float(steps(ground).max()) > 2 * tol
    assert bool(continuous_steps(steps(ground), tol).all())
    edge = [1.0] * 10 + [1.15] * 10  # one step of 0.14 between flat sides
    assert continuous_steps(steps(edge), tol).tolist() == [True] * 9 + [False] + [True] * 9
    big = list(ground[:20]) + list(ground[19:] * 3)  # a real edge inside a ramp: far larger than its neighbours
    assert not bool(continuous_steps(steps(big), tol)[19])
    soft = np.exp(np.cumsum([0.0] * 6 + [0.06, 0.12, 0.15, 0.12, 0.06] + [0.0] * 6))  # an edge 5 px wide
    assert not bool(continuous_steps(steps(soft), tol)[5:10].any())
    steep = [1.0, 1.5, 2.25, 3.4, 5.1]  # steps of 0.4: too large for a ramp
    assert not bool(continuous_steps(steps(steep), tol).any())
    assert continuous_steps(torch.tensor([float("nan"), 0.0, float("inf")]), tol).tolist() == [False, True, False]
    grid = steps(ground).expand(3, -1)  # along any dim
    assert torch.equal(continuous_steps(grid.T.contiguous(), tol, dim=0), continuous_steps(grid, tol).T)
