"""Lens effects: identity at 0, determinism, motion blur from real motion, DOF, geometry, grain, alpha."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import draw_to_video.effects as E
from draw_to_video.effects import lens as L


def clip(f: int = 3, h: int = 9, w: int = 11, c: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(f, h, w, c, generator=torch.Generator().manual_seed(seed))


ZERO = {
    "vignette": lambda x: L.vignette(x, strength=0.0),
    "chromatic_aberration": lambda x: L.chromatic_aberration(x, strength=0.0),
    "lens_distortion": lambda x: L.lens_distortion(x, k1=0.0, k2=0.0),
    "film_grain": lambda x: L.film_grain(x, strength=0.0),
    "halation": lambda x: L.halation(x, strength=0.0),
    "motion_blur": lambda x: L.motion_blur(x, shutter_angle=0.0),
    "depth_of_field": lambda x: L.depth_of_field(x, depth=torch.rand(x.shape[:3]) + 0.5, aperture=0.0),
    "dolly_zoom": lambda x: L.dolly_zoom(x, focal_ratio=1.0),
}

ON = {
    "vignette": lambda x, s: L.vignette(x, strength=0.5, seed=s),
    "chromatic_aberration": lambda x, s: L.chromatic_aberration(x, strength=0.05, seed=s),
    "lens_distortion": lambda x, s: L.lens_distortion(x, k1=0.3, k2=-0.1, seed=s),
    "film_grain": lambda x, s: L.film_grain(x, strength=0.2, seed=s),
    "halation": lambda x, s: L.halation(x, strength=1.0, threshold=0.3, seed=s),
    "motion_blur": lambda x, s: L.motion_blur(x, shutter_angle=270.0, seed=s),
    "depth_of_field": lambda x, s: L.depth_of_field(x, depth=torch.linspace(0.5, 3, x.shape[2]).expand(x.shape[:3]),
                                                    focus_distance=1.0, aperture=3.0, seed=s),
    "dolly_zoom": lambda x, s: L.dolly_zoom(x, focal_ratio=torch.linspace(1.0, 1.6, x.shape[0]), seed=s),
}


@pytest.mark.parametrize("name", list(ZERO))
def test_identity_at_zero(name: str) -> None:
    x = clip(c=4)
    y = ZERO[name](x)
    assert torch.equal(y, x) and y is not x


@pytest.mark.parametrize("name", list(ON))
def test_deterministic_alpha_untouched_input_unchanged(name: str) -> None:
    x = clip(4, 24, 31, c=4)
    before = x.clone()
    a, b = ON[name](x, 3), ON[name](x, 3)
    assert torch.equal(a, b)
    assert torch.equal(a[..., 3], x[..., 3])
    assert torch.equal(x, before)
    assert not torch.equal(a[..., :3], x[..., :3])
    assert bool(torch.isfinite(a).all()) and float(a.min()) >= 0.0 and float(a.max()) <= 1.0 + 1e-6


def test_grain_is_seeded_and_luminance_dependent() -> None:
    x = torch.cat([torch.full((1, 64, 64, 3), v) for v in (0.0, 0.5, 1.0)])
    g1, g2, g3 = (L.film_grain(x, strength=0.1, size=1.0, response=1.0, seed=s) for s in (1, 1, 2))
    assert torch.equal(g1, g2) and not torch.equal(g1, g3)
    spread = [float((g1[i] - x[i]).abs().mean()) for i in range(3)]
    assert spread[1] > 0.05 and spread[0] < 1e-6 and spread[2] < 1e-6  # response 1: no grain at black/white
    flat = torch.full((1, 64, 64, 3), 0.2)
    assert 0.02 < float((L.film_grain(flat, strength=0.05, size=1.0, response=0.0) - flat).std()) < 0.08


def test_motion_blur_static_clip_is_identity() -> None:
    frame = clip(1, 48, 64)
    x = frame.expand(5, -1, -1, -1).contiguous()
    assert torch.equal(L.motion_blur(x, shutter_angle=360.0), x)
    assert torch.equal(L.motion_blur(x[:1], shutter_angle=360.0), x[:1])


def _dot_clip(step: int = 6, f: int = 5, h: int = 48, w: int = 96) -> torch.Tensor:
    g = torch.Generator().manual_seed(4)
    bg = 0.1 + 0.05 * torch.rand(1, h, w, 3, generator=g)
    x = bg.repeat(f, 1, 1, 1)
    for t in range(f):
        x0 = 20 + step * t
        x[t, 20:28, x0:x0 + 8] = 1.0
    return x


def _spread(img: torch.Tensor) -> float:
    """Standard deviation (px) of the bright dot's horizontal intensity profile above the background."""
    prof = (img[20:28, :, 0] - 0.16).clamp(min=0.0).sum(0).double()
    xs = torch.arange(prof.numel(), dtype=torch.float64)
    m = float((prof * xs).sum() / prof.sum())
    return math.sqrt(float((prof * (xs - m) ** 2).sum() / prof.sum()))


def test_motion_blur_length_grows_with_shutter_angle_dis() -> None:
    x = _dot_clip()
    spreads = [_spread(L.motion_blur(x, shutter_angle=a, taps=32)[2]) for a in (0.0, 90.0, 180.0, 360.0)]
    assert spreads[0] == pytest.approx(math.sqrt((8**2 - 1) / 12))  # the sharp 8 px dot
    # a box blur of length b adds b^2/12 to the variance of the profile
    b = [math.sqrt(12 * (s**2 - spreads[0] ** 2)) for s in spreads[1:]]
    assert b[0] < b[1] < b[2]
    assert 1.5 < b[2] / b[1] < 2.5  # blur length about proportional to the shutter angle
    # the dot moves 6 px per frame (DIS underestimates a small fast object a little)
    assert 3.0 < b[2] < 7.5


def test_motion_blur_precomputed_flow_gives_the_expected_length() -> None:
    x = _dot_clip(step=0, f=1)
    flow = torch.zeros(1, 48, 96, 2)
    flow[..., 0] = 16.0
    for angle, expect in ((180.0, 8.0), (360.0, 16.0)):
        y = L.motion_blur(x, shutter_angle=angle, taps=33, flow=flow)[0]
        b = math.sqrt(12 * (_spread(y) ** 2 - _spread(x[0]) ** 2))  # box length from the added variance
        assert abs(b - expect) < 0.6
        # the dot's energy is conserved by averaging
        assert abs(float(y[20:28, ..., 0].sum()) - float(x[0, 20:28, ..., 0].sum())) < 2.0


def test_depth_of_field_in_focus_sharp_far_blurred() -> None:
    x = clip(1, 32, 64)
    depth = torch.ones(1, 32, 64)
    depth[..., 32:] = 8.0
    y = L.depth_of_field(x, depth=depth, focus_distance=1.0, aperture=4.0, max_blur=8.0)
    assert torch.equal(y[:, :, :30], x[:, :, :30])  # coc = 0 and no blur leaks into sharp pixels
    assert float(y[:, :, 40:, :3].std()) < 0.5 * float(x[:, :, 40:, :3].std())
    yb = L.depth_of_field(x, depth=depth, focus_distance=torch.tensor([8.0]), aperture=[4.0])
    assert torch.equal(yb[:, :, 34:], x[:, :, 34:])


def test_vignette_and_chromatic_aberration_geometry() -> None:
    x = torch.ones(1, 33, 41, 3) * 0.8
    v = L.vignette(x, strength=0.6)
    assert float(v[0, 16, 20, 0]) == pytest.approx(0.8) and float(v[0, 0, 0, 0]) < 0.5
    ramp = torch.linspace(0, 1, 41).view(1, 1, 41, 1).expand(1, 33, 41, 3).contiguous()
    ca = L.chromatic_aberration(ramp, strength=0.05)
    assert torch.equal(ca[..., 1], ramp[..., 1])
    assert float(ca[0, 16, 35, 0]) < float(ramp[0, 16, 35, 0]) < float(ca[0, 16, 35, 2])  # red magnified


def test_lens_distortion_and_dolly_zoom_keep_the_centre() -> None:
    x = clip(2, 21, 31)
    for y in (L.lens_distortion(x, k1=0.2, fit=False), L.lens_distortion(x, k1=-0.3),
              L.dolly_zoom(x, focal_ratio=[1.5, 0.7])):
        torch.testing.assert_close(y[:, 10, 15], x[:, 10, 15], rtol=0, atol=1e-5)
    z = L.dolly_zoom(x, focal_ratio=2.0)
    torch.testing.assert_close(z[:, 10, 17], x[:, 10, 16], rtol=0, atol=1e-5)  # 2 px out shows 1 px out
    barrel = L.lens_distortion(x, k1=0.2, fit=False)
    torch.testing.assert_close(barrel[:, 0, 0], x[:, 0, 0], rtol=0, atol=1e-6)  # corner clamps to the border


def test_halation_only_brightens_near_highlights() -> None:
    x = torch.full((1, 40, 40, 3), 0.2)
    x[0, 18:22, 18:22] = 1.0
    y = L.halation(x, strength=1.0, threshold=0.8, radius=0.05)
    assert bool((y >= x - 1e-6).all())
    assert float(y[0, 16, 20, 0]) > float(y[0, 16, 20, 2]) > 0.2  # warm tint
    assert float(y[0, 0, 0, 0]) == pytest.approx(0.2, abs=1e-3)


def test_out_argument_and_chunk_invariance(monkeypatch: pytest.MonkeyPatch) -> None:
    x = clip(5, 12, 10)
    ref = L.vignette(x, strength=0.5)
    buf = x.clone()
    assert L.vignette(buf, strength=0.5, out=buf) is buf and torch.equal(buf, ref)
    import draw_to_video.effects._core as core
    depth = torch.rand(5, 12, 10) + 0.5
    dof = L.depth_of_field(x, depth=depth, aperture=2.0)
    monkeypatch.setattr(core, "CHUNK_PIXELS", 120)
    monkeypatch.setattr(core.chunks, "__defaults__", (120,))
    assert torch.equal(L.vignette(x, strength=0.5), ref)
    assert torch.equal(L.depth_of_field(x, depth=depth, aperture=2.0), dof)


def test_bad_arguments_raise_value_error() -> None:
    x = clip()
    cases = [lambda: E.vignette(x, strength=1.5), lambda: E.motion_blur(x, taps=1),
             lambda: E.motion_blur(x, flow=torch.zeros(2, 9, 11, 2)),
             lambda: E.depth_of_field(x, depth=torch.zeros(3, 9, 11)),
             lambda: E.depth_of_field(x, depth=torch.ones(9, 11), focus_distance=[1.0, 2.0]),
             lambda: E.dolly_zoom(x, focal_ratio=0.0), lambda: E.lens_distortion(x, padding="wrap"),
             lambda: E.halation(x, tint=(1.0, 2.0, 0.0)), lambda: E.film_grain(x, seed=1.5)]
    for fn in cases:
        with pytest.raises(ValueError):
            fn()


@settings(max_examples=120, deadline=None)
@given(f=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 9), c=st.sampled_from([3, 4]),
       name=st.sampled_from(sorted(ON)), nan=st.sampled_from([False, False, False, True]), seed=st.integers(0, 99))
def test_lens_effects_odd_sizes_alpha_nan(f: int, h: int, w: int, c: int, name: str, nan: bool, seed: int) -> None:
    x = clip(f, h, w, c, seed)
    if nan:
        x[0, h // 2, w // 2, 1] = float("nan")
        with pytest.raises(ValueError):
            ON[name](x, seed)
        return
    y = ON[name](x, seed)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert bool(torch.isfinite(y).all()) and float(y.min()) >= 0.0 and float(y.max()) <= 1.0 + 1e-6
    if c == 4:
        assert torch.equal(y[..., 3], x[..., 3])
    assert torch.equal(ZERO[name](x), x)


def test_cpu_blur_matches_the_device_path() -> None:
    from draw_to_video.effects import _core as core
    g = torch.Generator().manual_seed(5)
    for shape in ((1, 1, 1, 1), (2, 3, 5, 7), (1, 3, 40, 61), (1, 1, 90, 3)):
        x = torch.rand(shape, generator=g)
        for sigma in (0.5, 2.0, 6.0):
            torch.testing.assert_close(core.gaussian_blur(x, sigma), core._blur_torch(x, sigma), rtol=0, atol=1e-6)


def test_half_precision_input_keeps_dtype() -> None:
    x = clip(2, 8, 8).half()
    y = L.vignette(x, strength=0.5)
    assert y.dtype == torch.float16 and math.isfinite(float(y.float().sum()))
