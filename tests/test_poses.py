"""Pose exporters/importers: RealEstate10K text, CAMERACTRL_POSES, MotionCtrl RT, core's Wan Plücker embedding.

Conventions are pinned with fx != fy, cx != cy, W != H by projecting a known 3D point through the exported
numbers read back by hand (not by our importers).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_camera import make_traj, project

from draw_to_video.trajectory.camera.model import CameraTrajectory, intrinsics
from draw_to_video.trajectory.poses.formats import (
    from_cameractrl_poses,
    from_motionctrl,
    from_re10k,
    to_cameractrl_poses,
    to_motionctrl,
    to_re10k,
    to_wan_embedding,
    wan_cam_params,
)

X = np.array([0.31, -0.17, 3.3])


def assert_same(a: CameraTrajectory, b: CameraTrajectory, tol: float = 1e-6) -> None:
    assert a.num_frames == b.num_frames and (a.width, a.height) == (b.width, b.height)
    assert np.abs(a.K - b.K).max() < tol
    assert np.abs(a.world_T_cam - b.world_T_cam).max() < tol


def by_hand(norm: np.ndarray, w2c12: np.ndarray, W: int, H: int) -> np.ndarray:
    """Project X with normalised intrinsics (image spans [0, 1]) and a row-major w2c; our pixel index."""
    M = w2c12.reshape(3, 4)
    x = M[:, :3] @ X + M[:, 3]
    u = norm[0] * W * x[0] / x[2] + norm[2] * W - 0.5
    v = norm[1] * H * x[1] / x[2] + norm[3] * H - 0.5
    return np.array([u, v])


# -- RealEstate10K ---------------------------------------------------------------------------------


def test_re10k_layout_pins_convention() -> None:
    tr = make_traj(W=640, H=360)
    text = to_re10k(tr)
    lines = text.splitlines()
    assert lines[0].startswith("http")
    assert len(lines) == 1 + tr.num_frames
    uv = project(tr, X)
    for i, line in enumerate(lines[1:]):
        tok = line.split()
        assert len(tok) == 19
        assert int(tok[0]) == round(i * 1e6 / 24.0)
        assert tok[5] == "0" and tok[6] == "0"
        vals = np.array([float(t) for t in tok[1:]])
        assert np.allclose(by_hand(vals[:4], vals[6:], 640, 360), uv[i], atol=1e-9)
        assert np.allclose(vals[6:].reshape(3, 4), tr.cam_T_world()[i, :3], atol=0)


def test_re10k_round_trip() -> None:
    tr = make_traj(W=640, H=360)
    back = from_re10k(to_re10k(tr), 640, 360, fps=24.0)
    assert_same(tr, back)
    assert from_re10k(to_re10k(tr), 640, 360).fps == pytest.approx(24.0, rel=1e-5)
    # absolute (non-identity first) poses survive with relative=False on both sides
    tr2 = make_traj(W=500, H=700, first_identity=False, seed=4)
    assert_same(tr2, from_re10k(to_re10k(tr2), 500, 700, fps=24.0))  # absolute by default
    rel = from_re10k(to_re10k(tr2), 500, 700, relative=True)  # re-basing is explicit
    assert np.allclose(rel.world_T_cam[0], np.eye(4))
    assert np.allclose(rel.world_T_cam, np.linalg.inv(tr2.world_T_cam[0]) @ tr2.world_T_cam, atol=1e-9)


def test_re10k_accepts_printed_precision() -> None:
    tr = make_traj()
    lines = to_re10k(tr).splitlines()
    short = [lines[0]] + [" ".join(f"{float(t):.7f}" for t in ln.split()) for ln in lines[1:]]
    back = from_re10k("\n".join(short), tr.width, tr.height, fps=24.0)
    assert np.abs(back.world_T_cam - tr.world_T_cam).max() < 1e-5
    assert np.allclose(np.linalg.det(back.world_T_cam[:, :3, :3]), 1.0, atol=1e-9)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("url\n", "no pose lines"),
        ("url\n0 1 2 3\n", "line 2"),
        ("url\n\n0 0.5 0.5 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 x 0\n", "line 3: value 18"),
        ("url\n0 0.5 0.5 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 nan 0\n", "not finite"),
        ("url\n0 0.5 0.5 0.5 0.5 0 0 2 0 0 0 0 1 0 0 0 0 1 0\n", "not a rotation"),
        ("url\n0 -0.5 0.5 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n", "fx and fy"),
    ],
)
def test_re10k_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as e:
        from_re10k(text, 64, 48)
    assert fragment in str(e.value) and "\n" not in str(e.value)


# -- CAMERACTRL_POSES ------------------------------------------------------------------------------


def _consumer_K(entry: list[float], W: int, H: int, pose_size: tuple[float, float]) -> np.ndarray:
    """The intrinsics AnimateDiff-Evolved / the Wan wrapper compute from one entry (their aspect fix)."""
    fx, fy, cx, cy = entry[1:5]
    P = pose_size[0] / pose_size[1]
    if P > W / H:
        fx = H * P * fx / W
    else:
        fy = W / P * fy / H
    return np.array([fx * W, fy * H, cx * W, cy * H])


def test_cameractrl_layout_and_consumers() -> None:
    tr = make_traj(W=640, H=480)
    poses = to_cameractrl_poses(tr)
    assert isinstance(poses, list) and len(poses) == tr.num_frames
    assert all(isinstance(p, list) and len(p) == 19 for p in poses)
    assert all(isinstance(v, float) for v in poses[3])
    uv = project(tr, X)
    want = np.stack([tr.K[:, 0, 0], tr.K[:, 1, 1], tr.K[:, 0, 2] + 0.5, tr.K[:, 1, 2] + 0.5], axis=-1)
    for i, p in enumerate(poses):
        assert p[5:7] == [640.0, 480.0]
        assert np.allclose(by_hand(np.array(p[1:5]), np.array(p[7:]), 640, 480), uv[i], atol=1e-9)
        # AnimateDiff-Evolved reads the pose size from indices 5-6: K comes back exactly
        assert np.allclose(_consumer_K(p, 640, 480, (p[5], p[6])), want[i], atol=1e-9)
    # written for 1280x720: AnimateDiff (indices 5-6) and the Wan wrapper (fixed 1280x720) both recover K
    wan = to_cameractrl_poses(tr, pose_size=(1280, 720))
    for i, p in enumerate(wan):
        assert p[5:7] == [1280.0, 720.0]
        assert np.allclose(_consumer_K(p, 640, 480, (1280, 720)), want[i], atol=1e-9)
    assert not np.allclose(wan[0][1:5], poses[0][1:5])


@pytest.mark.parametrize("pose_size", [None, (1280, 720), (512, 1024)])
def test_cameractrl_round_trip(pose_size) -> None:
    tr = make_traj(W=704, H=384, seed=2)
    back = from_cameractrl_poses(to_cameractrl_poses(tr, pose_size=pose_size), 704, 384, fps=24.0)
    assert_same(tr, back)


def test_cameractrl_accepts_re10k_rows_and_rejects_garbage() -> None:
    tr = make_traj(W=320, H=240)
    rows = [[float(t) for t in ln.split()] for ln in to_re10k(tr).splitlines()[1:]]
    assert_same(tr, from_cameractrl_poses(rows, 320, 240, fps=24.0))
    with pytest.raises(ValueError, match=r"\[F, 19\]"):
        from_cameractrl_poses([[1, 2, 3]], 320, 240)
    with pytest.raises(ValueError, match="poses"):
        from_cameractrl_poses([["a"] * 19], 320, 240)


# -- MotionCtrl ------------------------------------------------------------------------------------


def test_motionctrl_layout_and_round_trip() -> None:
    tr = make_traj(W=576, H=320)
    rt = to_motionctrl(tr)
    assert len(rt) == tr.num_frames and all(len(r) == 12 for r in rt)
    assert np.allclose(np.array(rt).reshape(-1, 3, 4), tr.cam_T_world()[:, :3], atol=1e-12)
    back = from_motionctrl(rt, 576, 320, K=tr.K)
    assert_same(tr, back)
    back_json = from_motionctrl(json.dumps(rt), 576, 320, K=tr.K)
    assert_same(tr, back_json)
    back_34 = from_motionctrl(np.array(rt).reshape(-1, 3, 4), 576, 320, fov_deg=40.0)
    assert np.allclose(back_34.world_T_cam, tr.world_T_cam, atol=1e-9)
    assert np.allclose(back_34.fov_deg()[:, 1], 40.0)
    # relative to frame 0 (MotionCtrl's create_relative)
    tr2 = make_traj(first_identity=False, seed=5)
    rel = np.array(to_motionctrl(tr2)).reshape(-1, 3, 4)
    assert np.allclose(rel[0], np.eye(4)[:3], atol=1e-12)
    with pytest.raises(ValueError, match="fov_deg or K"):
        from_motionctrl(rt, 576, 320, fov_deg=None)
    with pytest.raises(ValueError, match="K must be"):
        from_motionctrl(rt, 576, 320, K=np.eye(2))
    with pytest.raises(ValueError, match="invalid JSON"):
        from_motionctrl("[[1,", 576, 320)


# -- Wan camera embedding ---------------------------------------------------------------------------


def _wan_traj(F: int = 5, W: int = 12, H: int = 8) -> CameraTrajectory:
    T = np.tile(np.eye(4), (F, 1, 1))
    T[:, :3, 3] = np.stack([0.1 * np.arange(F), -0.05 * np.arange(F), 0.2 * np.arange(F)], axis=-1)
    ang = 0.1 * np.arange(F)
    T[:, 0, 0], T[:, 0, 2], T[:, 2, 0], T[:, 2, 2] = np.cos(ang), np.sin(ang), -np.sin(ang), np.cos(ang)
    K = intrinsics(np.full(F, 9.0), np.full(F, 7.5), np.full(F, 5.25), np.full(F, 3.75))
    return CameraTrajectory(W, H, 16.0, K, T, np.ones(F), np.full(F, 2.8))


def test_wan_cam_params_layout() -> None:
    tr = _wan_traj()
    p = wan_cam_params(tr)
    assert p.shape == (5, 23)
    assert np.array_equal(p[:, 7:].reshape(-1, 4, 4), tr.world_T_cam)  # core reads a 4x4 camera-to-world
    assert np.allclose(p[0, 1:5], [9 / 12, 7.5 / 8, 5.75 / 12, 4.25 / 8])
    assert not p[:, [0, 5, 6]].any()


def test_wan_embedding_hand_computed_rays() -> None:
    tr = _wan_traj()
    emb = to_wan_embedding(tr, exact_intrinsics=True)
    assert emb.shape == (1, 24, 2, 8, 12) and emb.dtype == torch.float32
    e = emb[0].view(6, 4, 2, 8, 12).numpy()  # channel 4c + k, padded frame 4g + k
    for f, (k, g) in [(0, (0, 0)), (0, (2, 0)), (0, (3, 0)), (1, (0, 1)), (4, (3, 1))]:
        for (j, i) in [(0, 0), (3, 7), (7, 11)]:
            d = np.array([(i - 5.25) / 9.0, (j - 3.75) / 7.5, 1.0])  # ray through our pixel centre (i, j)
            d /= np.linalg.norm(d)
            dw = tr.world_T_cam[f, :3, :3] @ d
            m = np.cross(tr.world_T_cam[f, :3, 3], dw)
            assert np.allclose(e[3:, k, g, j, i], dw, atol=1e-6), (f, k, g)
            assert np.allclose(e[:3, k, g, j, i], m, atol=1e-6), (f, k, g)


def test_wan_embedding_core_aspect_quirk_and_relative_poses() -> None:
    tr = _wan_traj(W=12, H=8)  # 16/9 > 1.5: core multiplies fx_n by H * (16/9) / W
    raw = to_wan_embedding(tr)[0].view(6, 4, 2, 8, 12).numpy()
    j, i = 7, 4
    fx = 9.0 * 8 * (1280 / 720) / 12
    d = np.array([(i + 0.5 - 5.75) / fx, (j - 3.75) / 7.5, 1.0])
    d /= np.linalg.norm(d)
    assert np.allclose(raw[3:, 0, 0, j, i], d, atol=1e-6)
    tall = _wan_traj(W=8, H=12)  # 16/9 > 2/3 as well; a very wide image takes the other branch
    wide = CameraTrajectory(40, 8, 16.0, intrinsics(np.full(5, 30.0), 7.5, 19.5, 3.5), tall.world_T_cam,
                            tall.focus_distance, tall.aperture)
    rw = to_wan_embedding(wide)[0].view(6, 4, 2, 8, 40).numpy()
    fy = 7.5 * 40 / (1280 / 720) / 8
    d = np.array([(i - 19.5) / 30.0, (j + 0.5 - 4.0) / fy, 1.0])
    d /= np.linalg.norm(d)
    assert np.allclose(rw[3:, 0, 0, j, i], d, atol=1e-6)
    # poses are made relative to frame 0 first
    moved = CameraTrajectory(12, 8, 16.0, tr.K, np.linalg.inv(tr.world_T_cam[2]) @ tr.world_T_cam,
                             tr.focus_distance, tr.aperture)
    a = to_wan_embedding(tr, exact_intrinsics=True)
    b = to_wan_embedding(moved, exact_intrinsics=True)
    assert torch.allclose(a, b, atol=1e-5)
    big = to_wan_embedding(tr, width=24, height=16, exact_intrinsics=True)
    assert big.shape == (1, 24, 2, 16, 24)


def test_wan_embedding_needs_4k_plus_1_frames() -> None:
    with pytest.raises(ValueError, match="4k"):
        to_wan_embedding(_wan_traj(F=6))
    assert to_wan_embedding(_wan_traj(F=1)).shape == (1, 24, 1, 8, 12)
