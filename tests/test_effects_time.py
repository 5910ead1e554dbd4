"""Time effects: speed-ramp timing against the curve, freeze/reverse/boomerang/tenet content, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from draw_to_video.effects import time as T


def clip(f: int = 6, h: int = 5, w: int = 7, c: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(f, h, w, c, generator=torch.Generator().manual_seed(seed))


def test_constant_half_speed_doubles_frames() -> None:
    for n in (1, 2, 7, 24):
        ts = T.retime_timestamps(n, "0:0.5, 1:0.5", fps=24)
        assert len(ts) == 2 * n
        # half a frame per output frame; the last one would be 0.5 past the end and is clamped
        np.testing.assert_allclose(np.diff(ts[:-1]) * 24, 0.5, atol=1e-9, rtol=0)
        assert ts[-1] * 24 == n - 1
    assert len(T.retime_timestamps(20, "0:2", fps=10)) == 10


def test_unit_speed_is_identity_timing_and_frames() -> None:
    ts = T.retime_timestamps(9, "0:1, 1:1", fps=30)
    np.testing.assert_array_equal(ts * 30, np.arange(9))
    x = clip(9)
    assert torch.equal(T.speed_ramp(x, curve="0:1,1:1", fps=30), x)


def test_strength_zero_is_identity() -> None:
    x = clip(8, c=4)
    for curve in T.PRESET_CURVES:
        y = T.speed_ramp(x, curve=curve, strength=0.0)
        assert torch.equal(y, x) and y is not x


def _speed_at(curve: list[tuple[float, float]], u: np.ndarray) -> np.ndarray:
    ku = np.array([k[0] for k in curve])
    kv = np.array([k[1] for k in curve])
    return np.interp(u, ku, kv)


@pytest.mark.parametrize("name", list(T.PRESET_CURVES))
def test_timing_follows_the_curve_integral(name: str) -> None:
    n, fps = 120, 24.0
    keys = T.parse_speed_curve(name)
    ts = T.retime_timestamps(n, name, fps)
    grid = np.linspace(0, 1, 100001)
    mean_speed = np.trapezoid(_speed_at(keys, grid), grid)
    assert len(ts) == round(n / mean_speed)
    assert ts[0] == 0.0 and np.all(np.diff(ts) >= 0) and ts[-1] <= (n - 1) / fps
    # local speed (source frames per output frame) equals the curve at the step's midpoint, up to the
    # global rescale n_out * mean / n that makes the integral cover the clip exactly
    n_out = len(ts)
    u_mid = (np.arange(n_out - 1) + 0.5) / n_out
    scale = n / (n_out * mean_speed)
    local = np.diff(ts) * fps
    expect = _speed_at(keys, u_mid) * scale
    ok = ts[1:] < (n - 1) / fps  # the clamped tail
    np.testing.assert_allclose(local[ok], expect[ok], atol=2e-3)
    # integral check: source time reached at output frame k = integral of speed up to k/n_out
    k = n_out // 2
    cum = np.trapezoid(_speed_at(keys, grid[grid <= k / n_out]), grid[grid <= k / n_out])
    assert abs(ts[k] * fps - cum * n_out * scale) < 0.05


def test_speed_ramp_blends_neighbours_and_keeps_alpha_with_frames() -> None:
    x = clip(4, c=4)
    y = T.speed_ramp(x, curve="0:0.5")
    assert y.shape[0] == 8
    torch.testing.assert_close(y[1], 0.5 * (x[0] + x[1]), rtol=0, atol=1e-6)
    assert torch.equal(y[2], x[1])
    nearest = T.speed_ramp(x, curve="0:0.5", blend=False)
    assert all(any(torch.equal(nearest[i], x[j]) for j in range(4)) for i in range(8))


def test_freeze_reverse_boomerang() -> None:
    x = clip(5)
    y = T.freeze_frame(x, index=2, duration=3)
    assert y.shape[0] == 8 and all(torch.equal(y[i], x[2]) for i in (2, 3, 4, 5)) and torch.equal(y[6], x[3])
    hold = T.freeze_frame(x, index=-2, duration=5, mode="hold")
    assert hold.shape[0] == 5 and torch.equal(hold[4], x[3]) and torch.equal(hold[2], x[2])
    assert torch.equal(T.freeze_frame(x, index=0, duration=0), x)
    assert torch.equal(T.reverse(x)[0], x[4])
    b = T.boomerang(x)
    assert [int(torch.nonzero((x == b[i]).all(dim=(1, 2, 3)))[0]) for i in range(len(b))] == [0, 1, 2, 3, 4, 3, 2, 1]
    assert T.boomerang(x, seamless=False).shape[0] == 9
    assert T.boomerang(x[:1]).shape[0] == 1


def test_tenet_reverse_masked_region_runs_backward() -> None:
    x = clip(5, 6, 8)
    mask = torch.zeros(6, 8)
    mask[:, :4] = 1.0
    y = T.tenet_reverse(x, mask=mask)
    for t in range(5):
        assert torch.equal(y[t, :, :4], x[4 - t, :, :4])
        assert torch.equal(y[t, :, 4:], x[t, :, 4:])
    assert torch.equal(T.tenet_reverse(x, mask=mask, strength=0.0), x)
    # mask per frame, "source" mode picks the mask of the reversed frame
    mf = torch.zeros(5, 6, 8)
    mf[4, 0, 0] = 1.0
    y2 = T.tenet_reverse(x, mask=mf, mask_mode="source")
    assert torch.equal(y2[0, 0, 0], x[4, 0, 0]) and torch.equal(y2[4, 0, 0], x[4, 0, 0])
    assert torch.equal(y2[1], x[1])


def test_mask_from_depth() -> None:
    d = torch.linspace(1.0, 2.0, 10).view(1, 1, 10).expand(2, 3, 10)
    m = T.mask_from_depth(d, 0.5)
    assert m.shape == d.shape and torch.equal(m[0, 0], (torch.arange(10) < 5).float())
    assert float(T.mask_from_depth(d, 0.0).sum()) == 0 and float(T.mask_from_depth(d, 1.0).min()) == 1
    with pytest.raises(ValueError):
        T.mask_from_depth(torch.full((2, 2), float("nan")), 0.5)


@pytest.mark.parametrize("bad", ["", "   ", "0:1,", "0-1", "0:1:2", "a:1", "1.5:1", "0:-1", "0:1, 0:2",
                                 "0.5:1, 0.2:1", "0:nan", "0:0", "0:1e9", "slow"])
def test_malformed_curves_raise_one_line(bad: str) -> None:
    with pytest.raises(ValueError) as e:
        T.retime_timestamps(10, bad, 24)
    assert "\n" not in str(e.value) and str(e.value)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.:, -eab", max_size=24))
def test_random_curve_strings_parse_or_raise_value_error(s: str) -> None:
    try:
        ts = T.retime_timestamps(7, s, 24)
    except ValueError as e:
        assert "\n" not in str(e)
        return
    assert len(ts) >= 1 and np.all(np.isfinite(ts)) and np.all(np.diff(ts) >= 0)


@settings(max_examples=150, deadline=None)
@given(f=st.integers(1, 5), h=st.integers(1, 6), w=st.integers(1, 7), c=st.sampled_from([3, 4]),
       nan=st.booleans(), curve=st.sampled_from(["ramp_up", "pulse", "0:0.3", "0:3, 1:0.5"]), seed=st.integers(0, 9))
def test_time_effects_odd_sizes_alpha_and_nan(f: int, h: int, w: int, c: int, nan: bool, curve: str, seed: int) -> None:
    x = clip(f, h, w, c, seed)
    if nan:
        x[f - 1, h - 1, w - 1, 0] = float("nan")
        for fn in (lambda: T.speed_ramp(x, curve=curve), lambda: T.reverse(x), lambda: T.boomerang(x),
                   lambda: T.freeze_frame(x, index=0, duration=1), lambda: T.tenet_reverse(x, mask=torch.ones(h, w))):
            with pytest.raises(ValueError):
                fn()
        return
    before = x.clone()
    y = T.speed_ramp(x, curve=curve)
    assert y.shape[1:] == x.shape[1:] and bool(torch.isfinite(y).all())
    assert float(y.min()) >= float(x.min()) - 1e-6 and float(y.max()) <= float(x.max()) + 1e-6
    assert torch.equal(T.speed_ramp(x, curve=curve), y)  # deterministic
    assert T.boomerang(x).shape[0] == max(1, 2 * f - 2)
    z = T.tenet_reverse(x, mask=torch.ones(h, w))
    assert torch.equal(z, x.flip(0))
    assert torch.equal(x, before)  # never modified in place


def test_frames_validation_errors() -> None:
    for bad in (torch.rand(3, 4, 5), torch.rand(2, 3, 3, 2), torch.zeros(2, 3, 3, 3, dtype=torch.int64),
                torch.rand(0, 3, 3, 3), np.zeros((2, 3, 3, 3))):
        with pytest.raises(ValueError):
            T.reverse(bad)  # type: ignore[arg-type]
    x = clip(3)
    x[0, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        T.speed_ramp(x)
