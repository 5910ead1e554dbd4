"""The 2.5D depth-warp renderer: convention pins, occlusion, holes, footprints, real stereo, robustness."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import skimage.data
import torch
from cameras import intrinsics, pose
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draw_to_video.trajectory.checks import Cancelled
from draw_to_video.trajectory.render.depth import disparity_to_depth
from draw_to_video.trajectory.render.warp import RenderError, iter_render, render_views

ALOE = "/usr/share/doc/opencv-doc/examples/data/"


def _textured(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Smooth random texture [3,H,W] in 0..1 (low-pass noise, so bilinear sampling is accurate)."""
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(1, 3, max(2, h // 6), max(2, w // 6), generator=g)
    return torch.nn.functional.interpolate(small, size=(h, w), mode="bicubic", align_corners=False)[0].clamp(0, 1)


def test_single_pixel_lands_where_K_R_X_plus_t_says():
    h, w = 23, 41  # non-square; asymmetric intrinsics on both sides, different output size
    Ks, Kt = intrinsics(30.0, 22.0, 19.3, 10.6), intrinsics(27.0, 35.0, 16.2, 13.9)
    img = torch.zeros(1, h, w)
    i0, j0, z0 = 9, 26, 2.5
    img[0, i0, j0] = 1.0
    depth = torch.full((h, w), z0)
    T = pose((0.03, -0.05, 0.02), (0.11, -0.07, 0.2))
    res = render_views(img, depth, Ks, Kt[None], T[None], out_hw=(21, 37), fill="none")
    X = z0 * np.linalg.inv(Ks.numpy()) @ np.array([j0, i0, 1.0])
    Y = T.numpy()[:3, :3] @ X + T.numpy()[:3, 3]
    u, v = (Kt.numpy() @ Y)[:2] / Y[2]
    f = res.frames[0, 0].numpy()
    assert f.sum() > 0.5 and np.unravel_index(f.argmax(), f.shape) == (round(v), round(u))
    # depth is that of the winning point (pixel-quantised on a slanted plane)
    assert res.depth[0, round(v), round(u)].item() == pytest.approx(Y[2], rel=5e-3)


def test_every_pixel_samples_the_exact_source_position():
    """Coordinate ramps (bilinear sampling is exact on them) read back the source position of every target pixel."""
    h, w, ho, wo = 23, 41, 21, 37
    Ks, Kt = intrinsics(30.0, 22.0, 19.3, 10.6), intrinsics(27.0, 35.0, 16.2, 13.9)
    iy, ix = np.mgrid[:h, :w].astype(np.float32)
    img = torch.from_numpy(np.stack([ix / (w - 1), iy / (h - 1)]))
    z0 = 2.5
    T = pose((0.03, -0.05, 0.02), (0.11, -0.07, 0.2)).numpy()
    res = render_views(img, torch.full((h, w), z0), Ks, Kt[None], torch.from_numpy(T)[None], out_hw=(ho, wo))
    # exact inverse: plane z = z0 in the source -> homography target -> source
    n = np.array([0.0, 0.0, 1.0])
    H = Kt.numpy() @ (T[:3, :3] + np.outer(T[:3, 3], n) / z0) @ np.linalg.inv(Ks.numpy())
    ty, tx = np.mgrid[:ho, :wo].astype(np.float64)
    src = np.linalg.inv(H) @ np.stack([tx.ravel(), ty.ravel(), np.ones(ho * wo)])
    su, sv = (src[0] / src[2]).reshape(ho, wo), (src[1] / src[2]).reshape(ho, wo)
    inside = (su > 0.5) & (su < w - 1.5) & (sv > 0.5) & (sv < h - 1.5)
    assert inside.mean() > 0.5 and bool((res.visible[0].numpy()[inside] == 1).all())
    got_u = res.frames[0, 0].numpy().astype(np.float64) * (w - 1)
    got_v = res.frames[0, 1].numpy().astype(np.float64) * (h - 1)
    assert np.abs(got_u - su)[inside].max() < 0.02 and np.abs(got_v - sv)[inside].max() < 0.02


def test_identity_camera_reproduces_input():
    h, w = 31, 47
    K = intrinsics(40.0, 33.0, 21.7, 14.2)
    img = _textured(h, w)
    depth = 0.5 + 3 * torch.rand(h, w, generator=torch.Generator().manual_seed(1))
    for snap in (1.5, 0.0):  # the default snaps this depth noise's in-between pixels: the depth it renders changes
        res = render_views(img, depth, K, K[None], torch.eye(4, dtype=torch.float64)[None], edge_snap=snap)
        assert torch.allclose(res.frames[0], img, atol=5e-5)  # float32 round-off of the sampler only
        assert bool((res.visible == 1).all())
    assert torch.allclose(res.depth[0], depth, rtol=1e-6)


def test_pure_rotation_is_depth_independent():
    h, w = 40, 56
    Ks, Kt = intrinsics(50.0, 46.0, 27.5, 19.0), intrinsics(55.0, 50.0, 28.0, 20.5)
    img = _textured(h, w, 2)
    T = pose((0.05, -0.12, 0.04))[None]
    flat = render_views(img, torch.ones(h, w), Ks, Kt[None], T, fill="none")
    bumpy_depth = 0.4 + 5 * torch.rand(h, w, generator=torch.Generator().manual_seed(3))  # a depth edge per pixel
    bumpy = render_views(img, bumpy_depth, Ks, Kt[None], T, fill="none")
    assert torch.equal(flat.visible, bumpy.visible)
    assert flat.visible.mean() > 0.6
    m = flat.visible[0] > 0
    assert (flat.frames[0][:, m] - bumpy.frames[0][:, m]).abs().max() < 2e-3


def test_a_camera_that_only_turns_maps_every_pixel_through_the_exact_homography():
    """Pan, tilt, roll and zoom (no translation at all) render by the inverse homography: coordinate ramps read
    back every target pixel's exact pre-image, a pixel is seen when the source pixel nearest its pre-image has a
    point, at that point's depth in the target camera, and the same view through the splat path (a translation
    far below a pixel of parallax) shows the same picture."""
    h, w, ho, wo = 30, 44, 27, 39
    Ks, Kt = intrinsics(40.0, 37.0, 21.3, 14.6), intrinsics(52.0, 49.0, 18.9, 13.1)  # a zoom too
    iy, ix = np.mgrid[:h, :w].astype(np.float32)
    img = torch.from_numpy(np.stack([ix / (w - 1), iy / (h - 1)]))
    depth = 0.5 + 3 * torch.rand(h, w, generator=torch.Generator().manual_seed(5))
    T = pose((0.05, -0.3, 0.07)).numpy()
    opts = {"out_hw": (ho, wo), "fill": "none", "edge_snap": 0.0, "dequantize": 0.0}
    res = render_views(img, depth, Ks, Kt[None], torch.from_numpy(T)[None], **opts)
    H = Kt.numpy().astype(np.float64) @ T[:3, :3] @ np.linalg.inv(Ks.numpy().astype(np.float64))
    ty, tx = np.mgrid[:ho, :wo].astype(np.float64)
    pre = np.linalg.inv(H) @ np.stack([tx.ravel(), ty.ravel(), np.ones(ho * wo)])
    su, sv, wz = (pre[0] / pre[2]).reshape(ho, wo), (pre[1] / pre[2]).reshape(ho, wo), pre[2].reshape(ho, wo)
    ju, jv = np.floor(su + 0.5), np.floor(sv + 0.5)
    seen = (ju >= 0) & (ju < w) & (jv >= 0) & (jv < h)
    vis = res.visible[0].numpy() > 0
    assert 0.4 < seen.mean() < 0.95 and np.array_equal(vis, seen)
    inner = seen & (su > 0) & (su < w - 1) & (sv > 0) & (sv < h - 1)  # ramps are linear there
    got_u, got_v = res.frames[0, 0].numpy() * (w - 1), res.frames[0, 1].numpy() * (h - 1)
    assert np.abs(got_u - su)[inner].max() < 2e-3 and np.abs(got_v - sv)[inner].max() < 2e-3
    z_ref = depth.numpy()[jv[seen].astype(int), ju[seen].astype(int)] / wz[seen]
    assert np.allclose(res.depth[0].numpy()[seen], z_ref, rtol=1e-5)
    T_splat = T.copy()
    T_splat[0, 3] = 1e-9  # translation: the splat path, with no visible parallax
    splat = render_views(img, depth, Ks, Kt[None], torch.from_numpy(T_splat)[None], **opts)
    both = vis & (splat.visible[0].numpy() > 0)
    assert both.sum() >= 0.97 * vis.sum()
    err = np.abs(splat.frames[0, 0].numpy() * (w - 1) - su)[both & inner]
    assert err.max() < 0.1 and np.abs(got_u - su)[both & inner].mean() < err.mean()


def test_dolly_zoom_keeps_subject_plane():
    h, w = 48, 64
    K = intrinsics(60.0, 60.0, 31.5, 23.5)
    img = _textured(h, w, 4)
    depth = torch.full((h, w), 4.0)
    depth[14:34, 20:44] = 1.0  # subject plane at 1
    d = 0.3  # camera moves forward by d and zooms out so the plane at 1 keeps its size
    Kt = K.clone()
    Kt[0, 0] = Kt[1, 1] = 60.0 * (1.0 - d)
    res = render_views(img, depth, K, Kt[None], pose(t=(0, 0, -d))[None])
    inner = (slice(16, 32), slice(22, 42))
    assert (res.frames[0][:, inner[0], inner[1]] - img[:, inner[0], inner[1]]).abs().max() < 1e-4
    assert bool((res.visible[0][inner] == 1).all())
    assert (res.frames[0][:, :8] - img[:, :8]).abs().mean() > 0.01  # the background did change


def test_near_square_occludes_and_disocclusion_is_filled_with_far_colour():
    h, w = 40, 80
    K = intrinsics(50.0, 50.0, 39.5, 19.5)
    img = torch.zeros(3, h, w)
    img[2] = 1.0  # far plane: blue
    depth = torch.full((h, w), 4.0)
    img[:, 12:28, 30:50] = torch.tensor([1.0, 0.0, 0.0])[:, None, None]  # near square: red
    depth[12:28, 30:50] = 1.0
    tx = 0.2  # camera moves right: near shifts left by 10 px, far by 2.5 px
    res = render_views(img, depth, K, K[None], pose(t=(-tx, 0, 0))[None], fill="background")
    f, vis = res.frames[0], res.visible[0]
    # the square lands at columns 20..39 and covers the far plane there (z-buffer)
    assert torch.allclose(f[:, 14:26, 21:39], torch.tensor([1.0, 0, 0])[:, None, None], atol=1e-4)
    assert torch.allclose(res.depth[0, 14:26, 21:39], torch.tensor(1.0), rtol=1e-5)
    # disoccluded strip right of the square: far columns 30+2.5=32.5 ... near right edge 40 -> hole ~ 40..47
    strip = vis[14:26, 41:46]
    assert bool((strip == 0).all())
    filled = f[:, 14:26, 41:46]
    assert bool((filled[2] > 0.95).all()) and bool((filled[0] < 0.05).all())  # far (blue), not smeared red
    assert bool((vis[14:26, 5:15] == 1).all())
    none = render_views(img, depth, K, K[None], pose(t=(-tx, 0, 0))[None], fill="none")
    assert float(none.frames[0][:, 14:26, 41:46].abs().max()) == 0.0


@pytest.mark.parametrize("push", [0.08, 0.15])
def test_a_slightly_magnified_near_surface_hides_what_is_behind_it(push):
    """A near square over a far plane, the camera pushed in so the square is magnified 1.09x / 1.18x (one pixel per
    point, below the footprint threshold): its points leave one-pixel gaps, and the far plane must not show through
    them (no lattice of far lines across the near surface, issue 18); frame 0 stays the image exactly."""
    h, w = 60, 80
    K = intrinsics(60.0, 60.0, 39.5, 29.5)
    img = _textured(h, w, seed=3)
    depth = torch.full((h, w), 6.0)
    depth[15:45, 20:60] = 1.0
    res = render_views(img, depth, K, K.expand(2, 3, 3), torch.stack([pose(), pose(t=(0, 0, -push))]),
                       edge_median=0)  # the footprints' own colour (the edge cleanup re-colours the outline)
    assert torch.allclose(res.frames[0], img, atol=5e-5) and bool((res.visible[0] == 1).all())
    # the magnified square spans centre +- half-size * m; its band next to the edge lies over far points that were
    # beside it in the photo (they are behind it now, and showed through its gaps)
    m = 1.0 / (1.0 - push)
    r0, r1 = math.ceil(29.5 - 15 * m + 1), math.floor(29.5 + 15 * m - 1)
    c0, c1 = math.ceil(39.5 - 20 * m + 1), math.floor(39.5 + 20 * m - 1)
    inner = res.depth[1, r0:r1 + 1, c0:c1 + 1]
    assert float(inner.max()) < 1.01, f"far points show through the near surface: {float((inner > 2).float().mean()):.1%}"
    # and its colour is the square's own texture, resampled (not far-plane lines)
    ys, xs = torch.meshgrid(torch.arange(r0, r1 + 1, dtype=torch.float64), torch.arange(c0, c1 + 1, dtype=torch.float64),
                            indexing="ij")
    src = torch.stack([(xs - 39.5) / m + 39.5, (ys - 29.5) / m + 29.5], -1)
    grid = torch.stack([(src[..., 0] + 0.5) / w * 2 - 1, (src[..., 1] + 0.5) / h * 2 - 1], -1).float()
    want = torch.nn.functional.grid_sample(img[None], grid[None], align_corners=False)[0]
    err = (res.frames[1][:, r0:r1 + 1, c0:c1 + 1] - want).abs()
    assert float(err.mean()) < 0.01 and float(err.max()) < 0.06, (float(err.mean()), float(err.max()))


@pytest.mark.parametrize("fill", ["background", "pushpull"])
def test_pull_back_reveals_borders_that_get_filled(fill):
    h, w = 36, 60
    K = intrinsics(45.0, 45.0, 29.5, 17.5)
    img = _textured(h, w, 5)
    res = render_views(img, torch.full((h, w), 2.0), K, K[None], pose(t=(0, 0, 1.0))[None], fill=fill)
    vis = res.visible[0]
    assert bool((vis[:, :4] == 0).all()) and bool((vis[:3] == 0).all())
    assert bool((vis[h // 2 - 4: h // 2 + 4, w // 2 - 4: w // 2 + 4] == 1).all())
    assert torch.isfinite(res.frames).all() and res.frames[0][:, vis == 0].abs().sum() > 0
    assert float(res.depth[0][vis == 0].abs().max()) == 0.0


@pytest.mark.parametrize("zoom", [1.15, 1.6, 3.4])
def test_zoom_in_leaves_no_cracks_and_samples_correctly(zoom):
    """Nearest (< 1.25), 3x3 (<= 2) and super-sampled (> 2) footprints: no holes, correct texture."""
    h, w = 40, 64
    K = intrinsics(50.0, 48.0, 31.5, 19.5)
    img = _textured(h, w, 6)
    Kt = K.clone()
    Kt[0, 0] *= zoom
    Kt[1, 1] *= zoom
    T = pose((0.0, 0.0, 0.05))  # with a little roll, so the footprint is not axis-aligned
    res = render_views(img, torch.full((h, w), 3.0), K, Kt[None], T[None], fill="none")
    assert bool((res.visible == 1).all())
    # reference: exact inverse map through the plane, sampled bilinearly by OpenCV
    H = Kt.numpy() @ T.numpy()[:3, :3] @ np.linalg.inv(K.numpy())
    iy, ix = np.mgrid[:h, :w].astype(np.float64)
    src = np.linalg.inv(H) @ np.stack([ix.ravel(), iy.ravel(), np.ones(h * w)])
    mx, my = (src[0] / src[2]).reshape(h, w).astype(np.float32), (src[1] / src[2]).reshape(h, w).astype(np.float32)
    ref = cv2.remap(img.permute(1, 2, 0).numpy(), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    err = np.abs(res.frames[0].permute(1, 2, 0).numpy() - ref)
    assert err.mean() < 2e-3 and err.max() < 0.03


def test_points_behind_camera_are_dropped():
    h, w = 20, 30
    K = intrinsics(20.0, 20.0, 14.5, 9.5)
    depth = torch.linspace(0.5, 3.0, w).expand(h, w).contiguous()
    res = render_views(_textured(h, w), depth, K, K[None], pose((0, math.radians(100), 0), (0, 0, 0.5))[None])
    assert torch.isfinite(res.frames).all() and res.visible.mean() < 0.6


def test_stereo_motorcycle_left_to_right_psnr():
    left, right, disp = skimage.data.stereo_motorcycle()
    f, cx, cy, doffs, baseline = 994.978, 311.193, 254.877, 31.086, 193.001  # skimage docstring calibration
    depth, valid = disparity_to_depth(disp, f, baseline, doffs=doffs)
    assert 0.9 < valid.float().mean() < 1.0  # inf marks the pixels without ground truth
    Kl, Kr = intrinsics(f, f, cx, cy), intrinsics(f, f, cx + doffs, cy)
    img = torch.from_numpy(left).permute(2, 0, 1).float() / 255
    res = render_views(img, depth, Kl, Kr[None], pose(t=(-baseline, 0, 0))[None])
    m = res.visible[0] > 0
    mse = ((res.frames[0] - torch.from_numpy(right).permute(2, 0, 1).float() / 255) ** 2).mean(0)[m].mean()
    psnr = 10 * math.log10(1 / float(mse))
    assert m.float().mean() > 0.8
    assert psnr >= 26.0, psnr  # measured 27.2 dB (brief's plain-warp reference: ~22 dB)


def test_stereo_aloe_left_to_right_psnr():
    left = cv2.imread(ALOE + "aloeL.jpg")[..., ::-1].copy()
    right = cv2.imread(ALOE + "aloeR.jpg")[..., ::-1].copy()
    gt = cv2.imread(ALOE + "aloeGT.png", cv2.IMREAD_GRAYSCALE).astype(np.float32)
    assert gt.shape == left.shape[:2] == right.shape[:2]  # full-size Aloe: GT is disparity in pixels, 0 = unknown
    f, baseline = 1000.0, 1.0  # any consistent pair: only f * baseline / depth = disparity matters
    depth, _ = disparity_to_depth(np.where(gt > 0, gt, np.nan), f, baseline)
    K = intrinsics(f, f, left.shape[1] / 2, left.shape[0] / 2)
    img = torch.from_numpy(left).permute(2, 0, 1).float() / 255
    res = render_views(img, depth, K, K[None], pose(t=(-baseline, 0, 0))[None], fill="none")
    m = res.visible[0] > 0
    mse = ((res.frames[0] - torch.from_numpy(right).permute(2, 0, 1).float() / 255) ** 2).mean(0)[m].mean()
    psnr = 10 * math.log10(1 / float(mse))
    assert m.float().mean() > 0.75
    assert psnr >= 27.5, psnr  # measured 28.6 dB (plain-warp reference ~23 dB; GT scaled x0.5 or x2: ~15 dB)


def _orbit(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    K = intrinsics(40.0, 38.0, 23.5, 15.5)
    Ts = torch.stack([pose((0.0, 0.08 * i, 0.01 * i), (-0.05 * i, 0.01 * i, -0.06 * i)) for i in range(n)])
    return K, Ts


def test_deterministic_and_chunking_invariant():
    h, w = 32, 48
    K, Ts = _orbit(6)
    img = _textured(h, w, 7)
    depth = 0.6 + 2 * torch.rand(h, w, generator=torch.Generator().manual_seed(8))
    a = render_views(img, depth, K, K, Ts, chunk=4)
    b = render_views(img, depth, K, K, Ts, chunk=4)
    c = render_views(img, depth, K, K, Ts, chunk=1)
    for x, y in ((a, b), (a, c)):
        assert x.frames.numpy().tobytes() == y.frames.numpy().tobytes()
        assert torch.equal(x.visible, y.visible) and torch.equal(x.depth, y.depth)


def test_iter_render_streams_progress_and_cancel():
    h, w = 16, 24
    K, Ts = _orbit(7)
    img, depth = _textured(h, w), torch.ones(h, w)
    calls: list[tuple[int, int]] = []
    chunks = list(iter_render(img, depth, K, K, Ts, chunk=3, workers=1,
                              progress=lambda d, t: calls.append((d, t))))
    assert [c.start for c in chunks] == [0, 3, 6] and [c.frames.shape[0] for c in chunks] == [3, 3, 1]
    assert calls == [(3, 7), (6, 7), (7, 7)]
    full = render_views(img, depth, K, K, Ts)
    assert torch.equal(torch.cat([c.frames for c in chunks]), full.frames)
    # two workers: parts of ceil(3 / 2) frames render side by side, arrive in order, the same bytes
    threads = torch.get_num_threads()
    calls.clear()
    two = list(iter_render(img, depth, K, K, Ts, chunk=3, workers=2, progress=lambda d, t: calls.append((d, t))))
    assert [c.start for c in two] == [0, 2, 4, 6] and [c.frames.shape[0] for c in two] == [2, 2, 2, 1]
    assert calls == [(2, 7), (4, 7), (6, 7), (7, 7)] and torch.get_num_threads() == threads
    assert torch.cat([c.frames for c in two]).numpy().tobytes() == full.frames.numpy().tobytes()
    assert torch.equal(torch.cat([c.visible for c in two]), full.visible)
    with pytest.raises(RenderError, match="workers"):
        iter_render(img, depth, K, K, Ts, workers=0)
    empty = render_views(img, depth, K, K, Ts[:0])
    assert empty.frames.shape == (0, 3, h, w) and empty.visible.shape == (0, h, w)
    with pytest.raises(RenderError):  # checked at call time, before iterating
        iter_render(img, depth, K, K, Ts, fill="smear")
    for workers in (1, 2):
        calls.clear()
        with pytest.raises(Cancelled):
            list(iter_render(img, depth, K, K, Ts, chunk=2, workers=workers, cancel=lambda: len(calls) > 1,
                             progress=lambda d, t: calls.append((d, t))))
        assert len(calls) == 2 and torch.get_num_threads() == threads  # stopped at once, threads restored


def test_bad_input_is_a_clear_value_error():
    img, depth, K, T = torch.rand(3, 8, 9), torch.ones(8, 9), intrinsics(5, 5, 4, 4), torch.eye(4)[None]
    for kwargs in ({"depth": torch.ones(9, 8)}, {"K_src": torch.zeros(3, 3)}, {"cam_T_src": torch.ones(2, 3, 3)},
                   {"image": torch.full((3, 8, 9), float("nan"))}, {"K": K.expand(2, 3, 3)}):
        args = {"image": img, "depth": depth, "K_src": K, "K": K[None], "cam_T_src": T} | kwargs
        with pytest.raises(RenderError):
            render_views(**args)
    with pytest.raises(RenderError):
        render_views(img, depth, K, K[None], T, fill="smear")
    for ss in (0, 5, 1.5, True, "2"):
        with pytest.raises(RenderError, match="supersample must be an integer from 1 to 4"):
            render_views(img, depth, K, K[None], T, supersample=ss)
    bad_T = torch.eye(4)[None].clone()
    bad_T[0, 0, 3] = float("inf")
    with pytest.raises(RenderError):
        render_views(img, depth, K, K[None], bad_T)


finite = st.floats(-3.0, 3.0, allow_nan=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=st.integers(1, 24), w=st.integers(1, 24), ho=st.integers(1, 24), wo=st.integers(1, 24),
    f_src=st.floats(-50.0, 50.0), f_tgt=st.floats(-50.0, 50.0), pp=st.tuples(finite, finite),
    rvec=st.tuples(finite, finite, finite), t=st.tuples(finite, finite, finite),
    nan_frac=st.floats(0.0, 1.0), depth_scale=st.floats(1e-4, 1e4), seed=st.integers(0, 2**16),
    fill=st.sampled_from(["background", "pushpull", "none"]), ss=st.sampled_from([1, 1, 2]),
)
def test_random_inputs_give_valid_output_or_value_error(h, w, ho, wo, f_src, f_tgt, pp, rvec, t, nan_frac,
                                                        depth_scale, seed, fill, ss):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(3, h, w, generator=g)
    depth = depth_scale * torch.rand(h, w, generator=g)
    depth[torch.rand(h, w, generator=g) < nan_frac] = float("nan")
    Ks = intrinsics(f_src, f_src * 0.9, w / 2 + pp[0], h / 2 + pp[1])
    Kt = intrinsics(f_tgt, f_tgt * 1.1, wo / 2 - pp[1], ho / 2 + pp[0])
    Ts = torch.stack([torch.eye(4, dtype=torch.float64), pose(rvec, t)])
    try:
        res = render_views(img, depth, Ks, Kt, Ts, out_hw=(ho, wo), fill=fill, supersample=ss)
    except RenderError:
        assert abs(f_src) < 2e-6  # the only input that may be refused: a singular K_src
        return
    assert res.frames.shape == (2, 3, ho, wo) and res.visible.shape == res.depth.shape == (2, ho, wo)
    assert torch.isfinite(res.frames).all() and torch.isfinite(res.depth).all()
    if ss == 1:
        assert bool(((res.visible == 0) | (res.visible == 1)).all())
    assert bool(((res.visible >= 0) & (res.visible <= 1)).all()) and bool((res.depth >= 0).all())
    assert bool((res.depth[res.visible == 0] == 0).all()) and bool((res.depth[res.visible > 0] > 0).all())
    assert res.frames.min() >= 0 and res.frames.max() <= 1  # convex combinations of input colours only
