"""Frame effects: letterbox bars, handheld and impulse shake, whip pan."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from draw_to_video.effects import frame as FR


def clip(f: int = 4, h: int = 18, w: int = 32, c: int = 3, seed: int = 0) -> torch.Tensor:
    return 0.05 + 0.9 * torch.rand(f, h, w, c, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("h", "w", "aspect", "top", "bottom"),
                         [(576, 1024, 2.39, 74, 74), (9, 16, 2.39, 1, 1), (10, 16, 2.39, 1, 2), (100, 100, 2.0, 25, 25), (7, 10, 10 / 7, 0, 0)])
def test_letterbox_bars_exactly_black_with_the_right_height(h: int, w: int, aspect: float, top: int, bottom: int) -> None:
    x = clip(2, h, w, c=4)
    y = FR.letterbox(x, aspect=aspect)
    assert top + bottom == h - round(w / aspect)
    if top:
        assert bool((y[:, :top, :, :3] == 0).all())
        assert not bool((y[:, top, :, :3] == 0).any())
    if bottom:
        assert bool((y[:, h - bottom:, :, :3] == 0).all())
        assert not bool((y[:, h - bottom - 1, :, :3] == 0).any())
    assert torch.equal(y[:, top:h - bottom, :, :3], x[:, top:h - bottom, :, :3])
    assert torch.equal(y[..., 3], x[..., 3])


def test_pillarbox_for_narrow_aspect() -> None:
    x = clip(1, 20, 40)
    y = FR.letterbox(x, aspect=1.0)
    assert bool((y[:, :, :10] == 0).all()) and bool((y[:, :, 30:] == 0).all())
    assert torch.equal(y[:, :, 10:30], x[:, :, 10:30])


def test_handheld_shake_seeded_identity_smooth() -> None:
    x = clip(24, 32, 48, c=4)
    a, b = FR.handheld_shake(x, seed=5), FR.handheld_shake(x, seed=5)
    assert torch.equal(a, b) and not torch.equal(a, FR.handheld_shake(x, seed=6))
    assert torch.equal(FR.handheld_shake(x, strength=0.0), x)
    assert torch.equal(a[..., 3], x[..., 3]) and not torch.equal(a[..., :3], x[..., :3])


def test_handheld_shake_is_low_pass() -> None:
    # a horizontal ramp reveals the x-translation: the value at the centre pixel moves with the shake
    w = 64
    ramp = torch.linspace(0, 1, w).view(1, 1, w, 1).expand(48, 33, w, 3).contiguous()
    slow = FR.handheld_shake(ramp, translation=0.05, rotation=0.0, frequency=0.5, crop=False, seed=1)[:, 16, 32, 0]
    fast = FR.handheld_shake(ramp, translation=0.05, rotation=0.0, frequency=8.0, crop=False, seed=1)[:, 16, 32, 0]
    rough = lambda s: float(s.diff().abs().mean() / (s.std() + 1e-9))  # noqa: E731
    assert rough(slow) < 0.5 * rough(fast)


def test_shake_impulse_starts_at_the_hit_and_decays() -> None:
    x = clip(30, 24, 40)
    y = FR.shake_impulse(x, at="10", amplitude=0.1, decay=8.0, frequency=6.0)
    assert torch.equal(y[:11], x[:11])  # sin(0) = 0 at the hit frame itself
    d = (y - x).abs().mean(dim=(1, 2, 3))
    assert float(d[11:14].max()) > 3 * float(d[25:].max())
    assert torch.equal(FR.shake_impulse(x, at="3", amplitude=0.0, rotation=0.0), x)
    assert torch.equal(FR.shake_impulse(x, at="5, -3", seed=2), FR.shake_impulse(x, at=[5, 27], seed=2))
    with pytest.raises(ValueError):
        FR.shake_impulse(x, at="5, x")
    with pytest.raises(ValueError):
        FR.shake_impulse(x, at="40")


def test_whip_pan_ramp_around_a_frame_and_as_transition() -> None:
    x = clip(12, 16, 40)
    y = FR.whip_pan(x, at=6, duration=4, blur=0.3)
    assert torch.equal(y[:4], x[:4]) and torch.equal(y[9:], x[9:])
    assert float(y[6, ..., :3].diff(dim=1).abs().mean()) < 0.5 * float(x[6, ..., :3].diff(dim=1).abs().mean())
    b = clip(5, 16, 40, seed=1)
    t = FR.whip_pan(x, clip_b=b, duration=6, blur=0.3)
    assert t.shape[0] == 17 and torch.equal(t[:8], x[:8]) and torch.equal(t[15:], b[3:])
    assert not torch.equal(t[11], x[11]) and not torch.equal(t[12], b[0])
    assert torch.equal(FR.whip_pan(x, clip_b=b, blur=0.0), torch.cat((x, b)))
    assert torch.equal(FR.whip_pan(x, blur=0.0), x)
    with pytest.raises(ValueError):
        FR.whip_pan(x, clip_b=clip(2, 16, 41))


@settings(max_examples=120, deadline=None)
@given(f=st.integers(1, 4), h=st.integers(1, 7), w=st.integers(1, 9), c=st.sampled_from([3, 4]),
       which=st.sampled_from(["letterbox", "handheld", "impulse", "whip"]), nan=st.sampled_from([False, False, True]),
       seed=st.integers(0, 99))
def test_frame_effects_odd_sizes(f: int, h: int, w: int, c: int, which: str, nan: bool, seed: int) -> None:
    x = clip(f, h, w, c, seed)
    run = {
        "letterbox": lambda: FR.letterbox(x, aspect=2.39),
        "handheld": lambda: FR.handheld_shake(x, strength=2.0, seed=seed),
        "impulse": lambda: FR.shake_impulse(x, at="0", amplitude=0.2, seed=seed),
        "whip": lambda: FR.whip_pan(x, at=-1, duration=3, blur=0.5),
    }[which]
    if nan:
        x[0, 0, 0, 0] = float("nan")
        with pytest.raises(ValueError):
            run()
        return
    before = x.clone()
    y = run()
    assert y.shape == x.shape and bool(torch.isfinite(y).all()) and float(y.max()) <= 1.0
    assert torch.equal(run(), y) and torch.equal(x, before)
    if c == 4:
        assert torch.equal(y[..., 3], x[..., 3])
