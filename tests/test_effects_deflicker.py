"""Deflicker: exposure flicker is removed, flow-guided blending steadies noise, steady clips pass through."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import draw_to_video.effects as E
from draw_to_video.effects.deflicker import deflicker, exposure_targets


def texture(h: int = 48, w: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(1, 3, h // 8, w // 8, generator=g)
    img = torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return (0.2 + 0.6 * img).permute(0, 2, 3, 1)


def test_exposure_flicker_is_removed() -> None:
    g = torch.Generator().manual_seed(1)
    gains = 0.8 + 0.4 * torch.rand(16, generator=g)
    x = (texture() * gains.view(-1, 1, 1, 1)).clamp(0, 1)
    y = deflicker(x, temporal=0.0, sigma=6.0)
    before = x.mean(dim=(1, 2, 3)).std()
    after = y.mean(dim=(1, 2, 3)).std()
    assert float(after) < 0.25 * float(before)
    # colour flicker: one channel pumping
    xc = texture().repeat(16, 1, 1, 1)
    xc[..., 2] *= gains.view(-1, 1, 1)
    yc = deflicker(xc.clamp(0, 1), temporal=0.0, sigma=6.0)
    assert float(yc[..., 2].mean(dim=(1, 2)).std()) < 0.25 * float(xc[..., 2].mean(dim=(1, 2)).std())


def test_steady_clip_passes_through_and_strength_zero_is_identity() -> None:
    x = texture().repeat(6, 1, 1, 1)
    y = deflicker(x)
    torch.testing.assert_close(y, x, rtol=0, atol=2e-6)
    xa = torch.cat((x, torch.rand(6, 48, 64, 1)), -1)
    assert torch.equal(deflicker(xa, strength=0.0), xa)
    assert torch.equal(deflicker(xa)[..., 3], xa[..., 3])


def test_flow_guided_blend_reduces_temporal_noise_on_moving_content(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(2)
    base = texture(48, 96)
    frames = torch.cat([torch.roll(base, shifts=2 * t, dims=2) for t in range(8)])  # pans 2 px per frame
    noisy = (frames + 0.03 * torch.randn(frames.shape, generator=g)).clamp(0, 1)
    y = deflicker(noisy, temporal=0.6, tolerance=0.2)
    err_in = float((noisy[4:, :, 8:-8] - frames[4:, :, 8:-8]).abs().mean())
    err_out = float((y[4:, :, 8:-8] - frames[4:, :, 8:-8]).abs().mean())
    assert err_out < 0.8 * err_in
    assert torch.equal(y, deflicker(noisy, temporal=0.6, tolerance=0.2))  # deterministic
    # the same blend without the flow (zero motion) smears the pan and does worse than the input
    from draw_to_video.effects import _flow
    monkeypatch.setattr(_flow.FlowEstimator, "flow_grey", lambda self, a, b, h, w, d: torch.zeros(h, w, 2))
    z = deflicker(noisy, temporal=0.6, tolerance=0.2)
    assert float((z[4:, :, 8:-8] - frames[4:, :, 8:-8]).abs().mean()) > 1.5 * err_out


def test_targets_and_errors() -> None:
    x = texture().repeat(3, 1, 1, 1)
    gain, offset = exposure_targets(x, 2.0)
    torch.testing.assert_close(gain, torch.ones(3, 3, dtype=torch.float64))
    torch.testing.assert_close(offset, torch.zeros(3, 3, dtype=torch.float64), rtol=0, atol=1e-9)
    for kw in ({"strength": 2.0}, {"temporal": 1.0}, {"sigma": -1.0}):
        with pytest.raises(ValueError):
            E.deflicker(x, **kw)  # the checked entry point


@settings(max_examples=100, deadline=None)
@given(f=st.integers(1, 4), h=st.integers(1, 7), w=st.integers(1, 9), c=st.sampled_from([3, 4]),
       nan=st.sampled_from([False, False, True]), seed=st.integers(0, 50))
def test_deflicker_odd_sizes(f: int, h: int, w: int, c: int, nan: bool, seed: int) -> None:
    x = torch.rand(f, h, w, c, generator=torch.Generator().manual_seed(seed))
    if nan:
        x[0, 0, 0, 0] = float("nan")
        with pytest.raises(ValueError):
            deflicker(x)
        return
    y = deflicker(x, temporal=0.5)
    assert y.shape == x.shape and bool(torch.isfinite(y).all()) and 0 <= float(y.min()) and float(y.max()) <= 1
    if c == 4:
        assert torch.equal(y[..., 3], x[..., 3])
