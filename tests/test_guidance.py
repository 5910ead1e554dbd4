"""The pure camera-guidance library: weight schedule, latent masks, blend, post-CFG callable and window plan."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from draw_to_video.trajectory.guidance import (
    GuidanceError,
    LatentGuidance,
    blend,
    blend_,
    crossfade_into,
    guidance_weight,
    latent_mask,
    plan_windows,
)

SMAX, SMIN = 700.0, 0.002


def sigma_at(t: float) -> float:
    """The sigma at log-sigma schedule fraction t."""
    return math.exp(math.log(SMAX) - t * (math.log(SMAX) - math.log(SMIN)))


# -- weight schedule ------------------------------------------------------------------------------------------------
def test_weight_is_strength_inside_window_and_zero_outside():
    for t in (0.2, 0.35, 0.5):
        assert guidance_weight(sigma_at(t), SMAX, SMIN, 0.8, 0.2, 0.5, fade=0.1) == pytest.approx(0.8)
    for t in (0.0, 0.09, 0.61, 0.9, 1.0):
        assert guidance_weight(sigma_at(t), SMAX, SMIN, 0.8, 0.2, 0.5, fade=0.1) == pytest.approx(0.0, abs=1e-9)
    # inside the fade it is strictly between
    mid = guidance_weight(sigma_at(0.55), SMAX, SMIN, 0.8, 0.2, 0.5, fade=0.1)
    assert 0.0 < mid < 0.8 and mid == pytest.approx(0.4, abs=1e-6)  # cosine ease is 1/2 halfway


def test_weight_start_zero_is_full_at_the_noisiest_step_and_clamps_outside_range():
    assert guidance_weight(SMAX, SMAX, SMIN, 1.0, 0.0, 0.6) == 1.0
    assert guidance_weight(5 * SMAX, SMAX, SMIN, 1.0, 0.0, 0.6) == 1.0  # above sigma_max counts as t = 0
    assert guidance_weight(SMIN / 10, SMAX, SMIN, 1.0, 0.0, 1.0) == 1.0  # below sigma_min counts as t = 1
    assert guidance_weight(0.0, SMAX, SMIN, 1.0, 0.0, 0.5) == 0.0


def test_weight_hard_edges_without_fade():
    assert guidance_weight(sigma_at(0.5), SMAX, SMIN, 1.0, 0.0, 0.5, fade=0.0) == 1.0
    assert guidance_weight(sigma_at(0.5001), SMAX, SMIN, 1.0, 0.0, 0.5, fade=0.0) == 0.0


def test_weight_tensor_matches_float_and_stays_on_device():
    sig = torch.tensor([sigma_at(t) for t in (0.0, 0.3, 0.62, 0.9)])
    wt = guidance_weight(sig, SMAX, SMIN, 0.7, 0.1, 0.6)
    assert isinstance(wt, torch.Tensor) and wt.shape == sig.shape and wt.device == sig.device
    expect = [guidance_weight(float(s), SMAX, SMIN, 0.7, 0.1, 0.6) for s in sig]
    assert torch.allclose(wt, torch.tensor(expect, dtype=wt.dtype), atol=1e-6)


@pytest.mark.parametrize("kw, frag", [
    ({"strength": -1.0}, "strength"), ({"start": 0.7, "end": 0.2}, "start"), ({"end": 1.5}, "end"),
    ({"fade": -0.1}, "fade"), ({"sigma_min": 800.0}, "sigma"), ({"strength": float("nan")}, "strength"),
])
def test_weight_rejects_bad_schedules(kw, frag):
    args = {"sigma": 1.0, "sigma_max": SMAX, "sigma_min": SMIN, "strength": 1.0, "start": 0.0, "end": 0.5} | kw
    with pytest.raises(GuidanceError, match=frag) as err:
        guidance_weight(**args)
    assert "\n" not in str(err.value)


@settings(max_examples=200, deadline=None)
@given(t1=st.floats(0, 1), t2=st.floats(0, 1), strength=st.floats(0, 3), start=st.floats(0, 1),
       length=st.floats(0, 1), fade=st.floats(0, 0.5))
def test_weight_bounds_and_monotone_after_end(t1, t2, strength, start, length, fade):
    end = min(1.0, start + length)
    w1 = guidance_weight(sigma_at(t1), SMAX, SMIN, strength, start, end, fade)
    assert 0.0 <= w1 <= strength + 1e-9
    if start + 1e-9 <= t1 <= end - 1e-9:  # (sigma_at round-trips t to within ~1e-15)
        assert w1 == pytest.approx(strength, rel=1e-6, abs=1e-9)
    lo, hi = sorted((t1, t2))
    if lo >= end:  # released at low sigma: never increases again
        assert guidance_weight(sigma_at(hi), SMAX, SMIN, strength, start, end, fade) <= \
            guidance_weight(sigma_at(lo), SMAX, SMIN, strength, start, end, fade) + 1e-9
    assert guidance_weight(sigma_at(t1), SMAX, SMIN, 0.0, start, end, fade) == 0.0


# -- masks ------------------------------------------------------------------------------------------------------------
def test_mask_all_visible_is_one_and_all_hidden_is_zero():
    m = latent_mask(torch.ones(3, 64, 48), (8, 6), erode_px=2, feather_px=3)
    assert m.shape == (3, 1, 8, 6) and m.dtype == torch.float32 and torch.equal(m, torch.ones_like(m))
    assert torch.equal(latent_mask(torch.zeros(2, 16, 16), (2, 2)), torch.zeros(2, 1, 2, 2))


def test_mask_cell_touching_a_hole_is_untrusted_and_erosion_moves_the_edge():
    vis = torch.ones(1, 64, 64)
    vis[0, :, 40:] = 0  # hole on the right from pixel 40 (cell 5 is half hidden)
    m0 = latent_mask(vis, (8, 8), erode_px=0, feather_px=0)[0, 0]
    assert torch.equal(m0[:, :5], torch.ones(8, 5)) and torch.equal(m0[:, 5:], torch.zeros(8, 3))
    m1 = latent_mask(vis, (8, 8), erode_px=1, feather_px=0)[0, 0]
    assert torch.equal(m1[:, :4], torch.ones(8, 4)) and torch.equal(m1[:, 4:], torch.zeros(8, 4))
    mf = latent_mask(vis, (8, 8), erode_px=0, feather_px=2)[0, 0]
    assert mf[0, 4].item() == pytest.approx(1 / 3) and mf[0, 3].item() == pytest.approx(2 / 3)
    assert mf[0, 2].item() == 1.0


def test_mask_per_frame_is_independent():
    vis = torch.ones(2, 32, 32)
    vis[1, 8:16, 8:16] = 0
    m = latent_mask(vis, (4, 4), erode_px=0, feather_px=0)
    assert m[0].min() == 1 and m[1, 0, 1, 1] == 0 and m[1].sum() == 15


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), f=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6),
       e=st.integers(0, 3), fe=st.integers(0, 3), soft=st.booleans())
def test_mask_properties(seed, f, h, w, e, fe, soft):
    g = torch.Generator().manual_seed(seed)
    vis = torch.rand(f, h * 8, w * 8, generator=g)
    vis = vis if soft else (vis > 0.3).float()
    m = latent_mask(vis, (h, w), e, fe)
    assert m.shape == (f, 1, h, w) and torch.isfinite(m).all()
    assert m.min() >= 0 and m.max() <= 1
    # trust never exceeds the least visible pixel of the cell; more erosion never adds trust
    cell_min = vis.view(f, h, 8, w, 8).amin(dim=(2, 4))[:, None]
    assert (m <= cell_min + 1e-6).all()
    assert (latent_mask(vis, (h, w), e + 1, fe) <= m + 1e-6).all()


@pytest.mark.parametrize("bad, frag", [
    (torch.ones(8, 8), "[F,H,W]"), (torch.full((1, 8, 8), float("nan")), "NaN"),
])
def test_mask_rejects_bad_input(bad, frag):
    with pytest.raises(GuidanceError, match=frag.replace("[", r"\[").replace("]", r"\]")):
        latent_mask(bad, (1, 1))
    with pytest.raises(GuidanceError, match="latent size"):
        latent_mask(torch.ones(1, 8, 8), (16, 16))


# -- blend ------------------------------------------------------------------------------------------------------------
def _blend_case(seed: int, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(3, 4, 5, 6, generator=g).to(dtype)
    t = torch.randn(3, 4, 5, 6, generator=g).to(dtype)
    m = torch.rand(3, 1, 5, 6, generator=g).to(dtype)
    return d, t, m


def test_blend_zero_weight_is_the_same_tensor_and_full_weight_is_the_target():
    d, t, m = _blend_case(0)
    assert blend(d, t, m, 0.0) is d
    ones = torch.ones_like(m)
    assert torch.allclose(blend(d, t, ones, 1.0), t, atol=1e-6)
    keep = d.clone()
    out = blend(d, t, m, 0.5)
    assert torch.equal(d, keep) and out is not d  # out-of-place leaves the input alone


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), w=st.floats(0, 1))
def test_blend_matches_formula_inplace_and_stays_between(seed, w):
    d, t, m = _blend_case(seed)
    expect = d + w * m * (t - d)
    out = blend(d, t, m, w)
    assert torch.allclose(out, expect, atol=1e-5)
    lo, hi = torch.minimum(d, t), torch.maximum(d, t)
    assert (out >= lo - 1e-5).all() and (out <= hi + 1e-5).all()
    d2 = d.clone()
    assert blend_(d2, t, m, w) is d2 and torch.allclose(d2, out, atol=1e-6)


def test_blend_half_precision_and_tensor_weight():
    d, t, m = _blend_case(3, torch.float16)
    out = blend(d, t, m, torch.tensor([0.25], dtype=torch.float16).view(1, 1, 1, 1))
    assert out.dtype == torch.float16
    assert torch.allclose(out.float(), (d + 0.25 * m * (t - d)).float(), atol=2e-3)


def test_blend_shape_errors():
    d, t, m = _blend_case(1)
    with pytest.raises(GuidanceError, match="target"):
        blend(d, t[:2], m, 0.5)
    with pytest.raises(GuidanceError, match="mask"):
        blend(d, t, m[:, :, :4], 0.5)


# -- post-CFG callable ------------------------------------------------------------------------------------------------
def test_latent_guidance_pulls_visible_cells_only_and_places_tensors_once():
    g = torch.Generator().manual_seed(5)
    target = torch.randn(4, 4, 6, 6, generator=g)
    mask = torch.zeros(4, 1, 6, 6)
    mask[:, :, :, :3] = 1
    lg = LatentGuidance(target, mask, strength=1.0, start=0.0, end=0.5, sigma_max=SMAX, sigma_min=SMIN)
    den = torch.randn(4, 4, 6, 6, generator=g)
    out = lg({"denoised": den, "sigma": torch.full((4,), SMAX)})
    assert torch.allclose(out[..., :3], target[..., :3], atol=1e-6)
    assert torch.equal(out[..., 3:], den[..., 3:])
    placed = lg.placed(den)[0]
    lg({"denoised": den, "sigma": torch.full((4,), SMAX)})
    assert lg.placed(den)[0] is placed  # cached, not re-copied per step
    late = lg({"denoised": den, "sigma": torch.full((4,), SMIN)})  # released at low sigma
    assert torch.equal(late, den)


def test_latent_guidance_strength_zero_is_identity_and_shape_errors_are_one_line():
    lg0 = LatentGuidance(torch.zeros(2, 4, 3, 3), torch.ones(2, 1, 3, 3), 0.0, 0.0, 1.0, SMAX, SMIN)
    den = torch.randn(2, 4, 3, 3)
    assert lg0({"denoised": den, "sigma": torch.ones(2)}) is den
    lg = LatentGuidance(torch.zeros(2, 4, 3, 3), torch.ones(2, 1, 3, 3), 1.0, 0.0, 1.0, SMAX, SMIN)
    with pytest.raises(GuidanceError, match="2 target frames but the video latent has 5 frames") as e1:
        lg.check_latent((5, 4, 3, 3))
    with pytest.raises(GuidanceError, match="24x24 px") as e2:
        lg({"denoised": torch.zeros(2, 4, 5, 5), "sigma": torch.ones(2)})
    assert "\n" not in str(e1.value) + str(e2.value)
    with pytest.raises(GuidanceError, match=r"mask must be \[F,1,h,w\] with F=2, h=3, w=3, got \[3,1,3,3\]"):
        LatentGuidance(torch.zeros(2, 4, 3, 3), torch.ones(3, 1, 3, 3), 1.0, 0.0, 1.0, SMAX, SMIN)


# -- windows ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("total, window, overlap, expect", [
    (20, 8, 2, [(0, 8), (6, 14), (12, 20)]),
    (8, 8, 2, [(0, 8)]),
    (5, 25, 4, [(0, 5)]),
    (121, 25, 4, [(0, 25), (21, 46), (42, 67), (63, 88), (84, 109), (96, 121)]),
])
def test_plan_windows(total, window, overlap, expect):
    assert plan_windows(total, window, overlap) == expect


@settings(max_examples=200, deadline=None)
@given(total=st.integers(1, 300), window=st.integers(2, 30), data=st.data())
def test_plan_windows_cover_everything_with_overlap(total, window, data):
    overlap = data.draw(st.integers(1, window - 1))
    wins = plan_windows(total, window, overlap)
    assert wins[0][0] == 0 and wins[-1][1] == total
    assert all(e - s == min(window, total) for s, e in wins)
    for (s0, e0), (s1, _) in zip(wins, wins[1:]):
        assert s0 < s1 and e0 - s1 >= overlap  # each window shares at least `overlap` frames with the previous


def test_plan_windows_rejects_bad_values():
    for args in ((0, 8, 2), (20, 1, 0), (20, 8, 8), (20, 8, 0)):
        with pytest.raises(GuidanceError):
            plan_windows(*args)


def test_crossfade_into_blends_overlap_linearly_and_copies_the_rest():
    out = torch.zeros(10, 1, 1, 1)
    crossfade_into(out, torch.zeros(6, 1, 1, 1), 0, 0)
    crossfade_into(out, torch.ones(6, 1, 1, 1), 4, 6)  # frames 4, 5 overlap
    assert out.flatten().tolist() == pytest.approx([0, 0, 0, 0, 1 / 3, 2 / 3, 1, 1, 1, 1])
