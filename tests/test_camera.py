"""CameraTrajectory: construction checks, views, rescaling, the JSON form."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from draw_to_video.trajectory.camera.model import (
    CameraTrajectory,
    K_from_fov,
    TrajectoryError,
    intrinsics,
    normalised_intrinsics,
    pixel_intrinsics,
)
from draw_to_video.trajectory.conventions import CONVENTION


def make_traj(F: int = 7, W: int = 640, H: int = 360, seed: int = 0, first_identity: bool = True) -> CameraTrajectory:
    rng = np.random.default_rng(seed)
    R = Rotation.from_rotvec(rng.normal(0, 0.3, (F, 3))).as_matrix()
    T = np.tile(np.eye(4), (F, 1, 1))
    T[:, :3, :3] = R
    T[:, :3, 3] = rng.normal(0, 0.5, (F, 3))
    if first_identity:
        T[0] = np.eye(4)
    K = intrinsics(500 + 10 * np.arange(F), 470 + 7 * np.arange(F), 331.25 - np.arange(F), 170.5 + 0.5 * np.arange(F))
    return CameraTrajectory(W, H, 24.0, K, T, 1.0 + 0.1 * np.arange(F), np.full(F, 2.8), intent="circle",
                            preset="orbit", meta={"subject_depth": 1.0, "seed": 3, "list": [1, 2.5]})


def project(traj: CameraTrajectory, X: np.ndarray) -> np.ndarray:
    """Pixel coordinates [F, 2] of world point X through every frame."""
    Xc = np.einsum("fij,j->fi", traj.cam_T_world()[:, :3, :3], X) + traj.cam_T_world()[:, :3, 3]
    uvw = np.einsum("fij,fj->fi", traj.K, Xc)
    return uvw[:, :2] / uvw[:, 2:]


def test_json_round_trip_is_exact() -> None:
    tr = make_traj()
    text = tr.to_json()
    back = CameraTrajectory.from_json(text)
    d = json.loads(text)
    assert d["convention"] == CONVENTION and d["version"] == 1 and len(d["frames"]) == 7
    for name in ("K", "world_T_cam", "focus_distance", "aperture"):
        assert np.array_equal(getattr(back, name), getattr(tr, name)), name
    assert (back.width, back.height, back.fps, back.intent, back.preset) == (640, 360, 24.0, "circle", "orbit")
    assert back.meta == tr.meta
    assert back.to_json() == text


def test_views() -> None:
    tr = make_traj()
    assert tr.num_frames == 7
    assert np.allclose(tr.cam_T_world() @ tr.world_T_cam, np.eye(4), atol=1e-12)
    assert np.array_equal(tr.centres(), tr.world_T_cam[:, :3, 3])
    assert tr.duration_s == pytest.approx(6 / 24)
    K = K_from_fov(50.0, 1024, 576)
    st = CameraTrajectory.static(1024, 576, 3, fov_y_deg=50.0)
    fov = st.fov_deg()
    assert fov.shape == (3, 2)
    assert np.allclose(fov[:, 1], 50.0)
    assert np.allclose(fov[:, 0], np.degrees(2 * np.arctan(1024 / 576 * np.tan(np.radians(25.0)))))
    assert K[0, 2] == pytest.approx(511.5) and K[1, 2] == pytest.approx(287.5)


def test_arrays_are_read_only_copies() -> None:
    K = K_from_fov(40, 64, 48)[None]
    T = np.eye(4)[None]
    tr = CameraTrajectory(64, 48, 12, K, T, [1.0], [2.0])
    T[0, 0, 3] = 5.0
    assert tr.world_T_cam[0, 0, 3] == 0.0
    with pytest.raises(ValueError):
        tr.K[0, 0, 0] = 1.0


def test_rescaled_keeps_pixel_centres() -> None:
    tr = make_traj(W=640, H=360)
    X = np.array([0.3, -0.2, 4.0])
    uv = project(tr, X)
    r = tr.rescaled(320, 270)
    uv2 = project(r, X)
    s = np.array([320 / 640, 270 / 360])
    assert np.allclose(uv2, (uv + 0.5) * s - 0.5, atol=1e-9)
    back = r.rescaled(640, 360)
    assert np.allclose(back.K, tr.K, atol=1e-9)
    assert np.array_equal(back.world_T_cam, tr.world_T_cam)


def test_normalised_intrinsics_round_trip() -> None:
    K = intrinsics([500.0, 510.0], [450.0, 460.0], [300.25, 310.0], [170.5, 160.0])
    n = normalised_intrinsics(K, 640, 360)
    assert np.allclose(n[0], [500 / 640, 450 / 360, 300.75 / 640, 171.0 / 360])
    assert np.allclose(pixel_intrinsics(n, 640, 360), K, atol=1e-12)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"width": 0}, "width"),
        ({"height": 2.5}, "height"),
        ({"fps": float("nan")}, "fps"),
        ({"fps": True}, "fps"),
        ({"K": np.zeros((0, 3, 3))}, "K"),
        ({"K": np.ones((2, 3, 3))}, "K"),
        ({"world_T_cam": np.tile(np.eye(4), (3, 1, 1))}, "world_T_cam"),
        ({"focus_distance": [1.0, -1.0]}, "focus_distance"),
        ({"aperture": [1.0, float("inf")]}, "aperture"),
        ({"meta": {"x": float("nan")}}, "meta"),
        ({"meta": {"x": object()}}, "meta"),
        ({"intent": 3}, "intent"),
    ],
)
def test_validation_errors(change: dict, fragment: str) -> None:
    base = dict(width=64, height=48, fps=24.0, K=np.tile(K_from_fov(50, 64, 48), (2, 1, 1)),
                world_T_cam=np.tile(np.eye(4), (2, 1, 1)), focus_distance=[1.0, 1.0], aperture=[2.0, 2.0])
    base.update(change)
    with pytest.raises(TrajectoryError) as e:
        CameraTrajectory(**base)
    assert fragment in _one_line(e)


def test_rotation_and_focal_checks() -> None:
    K = np.tile(K_from_fov(50, 64, 48), (2, 1, 1))
    T = np.tile(np.eye(4), (2, 1, 1))
    bad = T.copy()
    bad[1, :3, :3] = np.diag([1.0, 1.0, -1.0])  # reflection, det -1
    with pytest.raises(TrajectoryError, match=r"world_T_cam\[1\]"):
        CameraTrajectory(64, 48, 24, K, bad, [1, 1], [2, 2])
    skew = T.copy()
    skew[1, 0, 1] = 1e-4
    with pytest.raises(TrajectoryError, match="not proper"):
        CameraTrajectory(64, 48, 24, K, skew, [1, 1], [2, 2])
    ok = T.copy()
    ok[1, 0, 1] = 1e-8  # within tolerance
    CameraTrajectory(64, 48, 24, K, ok, [1, 1], [2, 2])
    negf = K.copy()
    negf[1, 1, 1] = -3.0
    with pytest.raises(TrajectoryError, match="focal"):
        CameraTrajectory(64, 48, 24, negf, T, [1, 1], [2, 2])
    form = K.copy()
    form[0, 2, 0] = 0.1
    with pytest.raises(TrajectoryError, match=r"K\[0\]"):
        CameraTrajectory(64, 48, 24, form, T, [1, 1], [2, 2])
    last = T.copy()
    last[0, 3, 0] = 1.0
    with pytest.raises(TrajectoryError, match="last row"):
        CameraTrajectory(64, 48, 24, K, last, [1, 1], [2, 2])


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.pop("frames"), "frames"),
        (lambda d: d.update(convention="opengl"), "convention"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.update(version=True), "version"),
        (lambda d: d.update(frames=[]), "frames"),
        (lambda d: d["frames"][1].pop("K"), "frames[1]"),
        (lambda d: d["frames"][0].update(K=[[1, 2], [3, 4]]), "frames[0].K"),
        (lambda d: d["frames"][0].update(world_T_cam="eye"), "frames[0].world_T_cam"),
        (lambda d: d["frames"][2].update(aperture=None), "frames[2].aperture"),
        (lambda d: d["frames"].__setitem__(1, 5), "frames[1]"),
        (lambda d: d.update(width="wide"), "width"),
        (lambda d: d.update(meta=[1]), "meta"),
    ],
)
def test_from_dict_errors_are_one_line(mutate, fragment: str) -> None:
    d = make_traj(F=3).to_dict()
    mutate(d)
    with pytest.raises(ValueError) as e:
        CameraTrajectory.from_dict(d)
    assert fragment in _one_line(e)


def test_from_json_garbage() -> None:
    for text in ("", "{", "[1, 2]", "null", '{"convention": "opencv"}'):
        with pytest.raises(ValueError) as e:
            CameraTrajectory.from_json(text)
        _one_line(e)


def test_intrinsics_helpers() -> None:
    K = intrinsics(np.array([1.0, 2.0]), 3.0, 4.0, 5.0)
    assert K.shape == (2, 3, 3)
    assert np.array_equal(K[1], [[2, 0, 4], [0, 3, 5], [0, 0, 1]])
    with pytest.raises(ValueError):
        K_from_fov(180.0, 64, 64)
    with pytest.raises(ValueError):
        K_from_fov(50.0, 0, 64)
