"""Camera fidelity: render real photographs along known camera moves and recover the moves from the pixels."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from draw_to_video.trajectory.fidelity.estimate import FidelityError, estimate_motion, fidelity_plot, score
from draw_to_video.trajectory.render.depth import depth_from_map, disparity_to_depth, fallback_depth_prior
from draw_to_video.trajectory.render.warp import render_views

SCALE = 0.5  # the motorcycle pair at half size keeps this file fast


@pytest.fixture(scope="module")
def motorcycle():
    """Real photograph with real (Middlebury GT) depth, in scene units (median depth 1)."""
    left, _, disp = skimage.data.stereo_motorcycle()
    depth, valid = disparity_to_depth(disp, 994.978, 193.001, doffs=31.086)
    depth = depth_from_map(torch.where(valid, depth, torch.nan), "depth", normalise=False)[0]
    depth = depth / depth.median()
    h, w = int(500 * SCALE), int(741 * SCALE)
    img = cv2.resize(left, (w, h), interpolation=cv2.INTER_AREA)
    dep = cv2.resize(depth.numpy(), (w, h), interpolation=cv2.INTER_NEAREST)
    K = np.array([[994.978 * SCALE, 0, 311.193 * SCALE], [0, 994.978 * SCALE, 254.877 * SCALE], [0, 0, 1.0]])
    return torch.from_numpy(img).permute(2, 0, 1).float() / 255, torch.from_numpy(dep), K


def _rot(axis, deg: float) -> np.ndarray:
    return cv2.Rodrigues(np.asarray(axis, dtype=np.float64) * math.radians(deg))[0]


def _move(kind: str, K: np.ndarray, steps=(0.0, 0.5, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Requested ``K [F,3,3]`` and ``cam_T_src [F,4,4]`` for a named move."""
    Ks, Ts = [], []
    for a in steps:
        T, k = np.eye(4), K.copy()
        if kind == "pan":
            T[:3, :3] = _rot([0, 1, 0], 4 * a)
        elif kind == "tilt":
            T[:3, :3] = _rot([1, 0, 0], -3 * a)
        elif kind == "dolly":
            T[2, 3] = -0.15 * a
        elif kind == "truck":
            T[0, 3] = -0.08 * a
        elif kind == "orbit":  # arc around the subject at depth 1
            R = _rot([0, 1, 0], -6 * a)
            pose = np.eye(4)
            pose[:3, :3], pose[:3, 3] = R, np.array([0, 0, 1.0]) + R @ np.array([0, 0, -1.0])
            T = np.linalg.inv(pose)
        elif kind == "zoom":
            k[0, 0] *= 1 + 0.25 * a
            k[1, 1] *= 1 + 0.25 * a
        Ks.append(k)
        Ts.append(T)
    return np.array(Ks), np.array(Ts)


def _clip(img, depth, K, Ks, Ts) -> np.ndarray:
    r = render_views(img, depth, torch.from_numpy(K), torch.from_numpy(Ks), torch.from_numpy(Ts))
    return (r.frames.permute(0, 2, 3, 1).numpy() * 255).round().clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind", ["pan", "tilt", "dolly", "truck", "orbit", "zoom"])
def test_round_trip_recovers_the_requested_camera(motorcycle, kind):
    img, depth, K = motorcycle
    Ks, Ts = _move(kind, K)
    rep = score(_clip(img, depth, K, Ks, Ts), Ks, Ts)
    pf = rep["per_frame"]
    assert rep["n_frames"] == 3 and 2 not in rep["degenerate_frames"]  # the full move is always measured
    assert rep["rot_err_deg"] <= 1.0 and np.nanmax(pf["rot_err_deg"][1:]) <= 1.0
    if kind in ("dolly", "truck", "orbit"):
        assert pf["model"][2] == "essential"
        assert rep["trans_dir_err_deg"] <= 5.0 and pf["trans_dir_err_deg"][2] <= 5.0
    else:
        assert pf["model"][2] == "homography" and rep["static_translation_frames"] == [0, 1, 2]
        assert rep["focal_err"] <= 0.01 and abs(pf["focal_est"][2] - pf["focal_req"][2]) <= 0.01


def test_round_trip_on_a_photo_with_the_fallback_prior():
    """A real photograph (skimage coffee) with the ground/sky prior: truck + pan together. The prior is nearly
    planar and truck + pan nearly ambiguous: a single RANSAC essential matrix was ~18 deg off here."""
    img = torch.from_numpy(cv2.resize(skimage.data.coffee(), (300, 200), interpolation=cv2.INTER_AREA))
    img = img.permute(2, 0, 1).float() / 255
    K = np.array([[260.0, 0, 149.5], [0, 260.0, 99.5], [0, 0, 1]])
    Ks = np.repeat(K[None], 3, axis=0)
    Ts = np.repeat(np.eye(4)[None], 3, axis=0)
    for i, a in enumerate((0.0, 0.5, 1.0)):
        Ts[i, :3, :3], Ts[i, 0, 3] = _rot([0, 1, 0], 2.0 * a), -0.06 * a
    rep = score(_clip(img, fallback_depth_prior(200, 300), K, Ks, Ts), Ks, Ts)
    assert rep["rot_err_deg"] <= 1.0 and rep["trans_dir_err_deg"] <= 5.0 and 2 not in rep["degenerate_frames"]


def test_a_clip_that_ignores_the_request_scores_badly(motorcycle):
    img, depth, K = motorcycle
    Ks, Ts = _move("pan", K)
    wrong = _clip(img, depth, K, Ks, Ts)  # pans one way ...
    Ts_left = Ts.copy()
    Ts_left[:, :3, :3] = np.transpose(Ts[:, :3, :3], (0, 2, 1))  # the request was the opposite pan
    rep = score(wrong, Ks, Ts_left)
    assert rep["per_frame"]["rot_err_deg"][2] == pytest.approx(8.0, abs=0.5)
    static = np.repeat(_clip(img, depth, K, Ks[:1], Ts[:1]), 3, axis=0)  # the clip never moved
    Kt, Tt = _move("truck", K)
    rep2 = score(static, Kt, Tt)
    assert rep2["degenerate_frames"] == [1, 2] and math.isnan(rep2["trans_dir_err_deg"])


def test_estimate_motion_accepts_float_frames_and_is_deterministic(motorcycle):
    img, depth, K = motorcycle
    Ks, Ts = _move("orbit", K)
    clip = _clip(img, depth, K, Ks, Ts)
    a = estimate_motion(clip.astype(np.float32) / 255.0, Ks)
    b = estimate_motion(clip, Ks)
    assert np.array_equal(a.R, b.R) and np.array_equal(a.t_dir, b.t_dir, equal_nan=True)
    assert a.model[0] == "reference" and np.allclose(a.R[0], np.eye(3))


def test_fidelity_plot_draws_requested_and_achieved(motorcycle):
    img, depth, K = motorcycle
    Ks, Ts = _move("zoom", K)
    rep = score(_clip(img, depth, K, Ks, Ts), Ks, Ts)
    plot = fidelity_plot(rep)
    assert plot.dtype == np.uint8 and plot.shape == (480, 640, 3)
    requested = np.all(plot == (0, 90, 200), axis=-1).sum()
    achieved = np.all(plot == (220, 80, 0), axis=-1).sum()
    assert requested > 50 and achieved > 50


def test_bad_inputs_are_clear_errors():
    with pytest.raises(FidelityError):
        estimate_motion(np.zeros((2, 4, 4, 3), np.uint8), np.eye(3))
    with pytest.raises(FidelityError):
        estimate_motion(np.zeros((2, 32, 32, 3), np.uint8), -np.eye(3))
    with pytest.raises(FidelityError):
        score(np.zeros((2, 32, 32, 3), np.uint8), np.repeat(np.eye(3)[None], 2, 0), np.eye(4)[None])
    with pytest.raises(FidelityError):
        fidelity_plot({"rot_err_deg": 0.0})
