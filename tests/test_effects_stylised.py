"""Stylised effects: the Inception fold geometry against an independent ray-plane intersection, glitch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import draw_to_video.effects as E
from draw_to_video.effects import stylised as S


def clip(f: int = 4, h: int = 24, w: int = 32, c: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(f, h, w, c, generator=torch.Generator().manual_seed(seed))


def ray_plane_source(u: float, v: float, theta: float, h: int, w: int, hinge: float, fov: float) -> tuple[float, float, float]:
    """Independent 3-D computation: where the ray through output pixel (u, v) meets the folded plane,
    returned as the source pixel (u, v) of that plane point and the ray depth."""
    f = (h / 2) / math.tan(math.radians(fov) / 2)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    yh = hinge * (h - 1) - cy
    ray = np.array([(u - cx) / f, (v - cy) / f, 1.0])
    e1, e2 = np.array([1.0, 0, 0]), np.array([0.0, -math.cos(theta), -math.sin(theta)])
    p0 = np.array([0.0, yh, f])
    # lam * ray = p0 + s e1 + d e2
    lam, s, d = np.linalg.solve(np.stack([ray, -e1, -e2], 1), p0)
    return cx + s, cy + yh - d, lam


@pytest.mark.parametrize("theta_deg", [0.0, 20.0, 55.0, 89.0])
def test_fold_homography_matches_ray_plane_intersection(theta_deg: float) -> None:
    h, w, hinge, fov = 60, 80, 0.35, 60.0
    hm = S.fold_homographies(torch.tensor([math.radians(theta_deg)]), h, w, hinge, fov)[0].numpy()
    if theta_deg == 0.0:
        np.testing.assert_allclose(hm / hm[2, 2], np.eye(3), atol=1e-12)
    for u, v in [(0, 0), (10, 5), (79, 12), (40, 20), (33, 1)]:
        p = hm @ np.array([u, v, 1.0])
        us, vs, lam = ray_plane_source(u, v, math.radians(theta_deg), h, w, hinge, fov)
        if lam > 0:
            np.testing.assert_allclose(p[:2] / p[2], [us, vs], rtol=1e-6, atol=1e-6)


def test_fold_render_samples_the_plane_and_keeps_the_lower_part() -> None:
    h, w, hinge = 40, 56, 0.4
    x = clip(3, h, w, c=4)
    y = S.inception_fold(x, angle=60.0, hinge=hinge, shade=0.0, fill="black", fov=50.0)
    assert torch.equal(y[0], x[0])  # angle 0 at the start of the ramp
    row = math.ceil(hinge * (h - 1))
    assert torch.equal(y[:, row:], x[:, row:])  # below the hinge nothing moves
    assert torch.equal(y[..., 3], x[..., 3])
    # a pixel above the hinge shows the source where its ray meets the folded plane (bilinear)
    theta = math.radians(60.0)
    u, v = 20, 8
    us, vs, lam = ray_plane_source(u, v, theta, h, w, hinge, 50.0)
    assert lam > 0 and 0 <= vs <= hinge * (h - 1) and 0 <= us <= w - 1
    u0, v0 = int(us), int(vs)
    fu, fv = us - u0, vs - v0
    src = x[2, ..., :3]
    expect = ((1 - fu) * (1 - fv) * src[v0, u0] + fu * (1 - fv) * src[v0, u0 + 1]
              + (1 - fu) * fv * src[v0 + 1, u0] + fu * fv * src[v0 + 1, u0 + 1])
    torch.testing.assert_close(y[2, v, u, :3], expect, rtol=0, atol=1e-5)


def test_fold_fills_and_identity() -> None:
    x = clip(2, 30, 40)
    assert torch.equal(S.inception_fold(x, angle=0.0), x)
    black = S.inception_fold(x[:1], angle=90.0, fill="black", fov=40.0)
    assert bool((black[0, 0] == 0).all())  # the top row looks past the folded picture
    mirror = S.inception_fold(x[:1], angle=90.0, fill="mirror", fov=40.0)
    assert float(mirror[0, 0].abs().sum()) > 0  # the mirrored plane continues over the camera
    assert torch.equal(S.inception_fold(x, angle=80.0, seed=1), S.inception_fold(x, angle=80.0, seed=1))
    with pytest.raises(ValueError):
        S.inception_fold(x, start=0.6, end=0.5)
    with pytest.raises(ValueError):
        E.inception_fold(x, angle=120.0)


def test_glitch_selected_frames_only_seeded() -> None:
    x = clip(6, c=4)
    y = S.quantum_glitch(x, trigger="frames", at="1, 4", seed=3)
    changed = [not torch.equal(y[t], x[t]) for t in range(6)]
    assert changed == [False, True, False, False, True, False]
    assert torch.equal(y, S.quantum_glitch(x, trigger="frames", at="1, 4", seed=3))
    assert not torch.equal(y, S.quantum_glitch(x, trigger="frames", at="1, 4", seed=4))
    assert torch.equal(y[..., 3], x[..., 3])
    assert torch.equal(S.quantum_glitch(x, strength=0.0, trigger="all"), x)
    with pytest.raises(ValueError):
        E.quantum_glitch(x, trigger="sometimes")


def test_glitch_motion_trigger_finds_the_jump() -> None:
    base = torch.full((10, 8, 8, 3), 0.5)
    base += torch.linspace(0, 0.01, 10).view(10, 1, 1, 1)
    base[6:] = torch.rand(1, 8, 8, 3, generator=torch.Generator().manual_seed(0))  # one cut
    assert S.motion_peaks(base, 85.0) == [6]
    y = S.quantum_glitch(base, trigger="motion", percentile=85.0, rgb_split=0.2)
    assert [t for t in range(10) if not torch.equal(y[t], base[t])] == [6]
    assert S.motion_peaks(base[:2]) == []


@settings(max_examples=120, deadline=None)
@given(f=st.integers(1, 4), h=st.integers(1, 7), w=st.integers(1, 9), c=st.sampled_from([3, 4]),
       which=st.sampled_from(["fold", "glitch"]), nan=st.sampled_from([False, False, True]), seed=st.integers(0, 99),
       hinge=st.floats(0.0, 1.0), angle=st.floats(1.0, 90.0))
def test_stylised_odd_sizes(f: int, h: int, w: int, c: int, which: str, nan: bool, seed: int, hinge: float,
                            angle: float) -> None:
    x = clip(f, h, w, c, seed)
    run = (lambda: S.inception_fold(x, angle=angle, hinge=hinge, seed=seed)) if which == "fold" else \
        (lambda: S.quantum_glitch(x, trigger="all", seed=seed))
    if nan:
        x[-1, 0, -1, 0] = float("nan")
        with pytest.raises(ValueError):
            run()
        return
    y = run()
    assert y.shape == x.shape and bool(torch.isfinite(y).all()) and 0 <= float(y.min()) and float(y.max()) <= 1
    assert torch.equal(run(), y)
    if c == 4:
        assert torch.equal(y[..., 3], x[..., 3])
