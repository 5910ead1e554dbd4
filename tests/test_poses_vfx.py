"""Camera exports to VFX tools (issue 13 part 3): glTF 2.0 (validated and re-read with pygltflib), Nuke/Blender
.chan and nerfstudio camera_path.json; conventions pinned by projecting a point through the exported numbers by hand,
round trips with fx != fy and W != H, and what each format cannot hold stated."""

from __future__ import annotations

import json

import numpy as np
import pygltflib
import pytest
from pygltflib.validator import validate
from test_poses_lossless import re10k_file

from draw_to_video.cli import main
from draw_to_video.trajectory.camera.model import CameraTrajectory, intrinsics
from draw_to_video.trajectory.conventions import opencv_to_opengl
from draw_to_video.trajectory.poses.clock import TIMESTAMPS, times_s
from draw_to_video.trajectory.poses.formats import from_re10k
from draw_to_video.trajectory.poses.text import detect_format, trajectory_from_text, trajectory_to_text
from draw_to_video.trajectory.poses.vfx import from_chan, from_gltf, from_nerfstudio, to_chan, to_gltf, to_nerfstudio

pytestmark = pytest.mark.filterwarnings("ignore:pygltf.utils.validator is a provisional function")

W, H = 704, 384
X = np.array([0.3, -0.2, 2.5])  # a world point (OpenCV world)


def real_traj(zoom: bool = True) -> CameraTrajectory:
    """An imported real-style path: not starting at the identity, 29.97 fps with a dropped frame, fx != fy,
    off-centre principal point, and a focal pull when ``zoom``."""
    tr = from_re10k(re10k_file(F=10, seed=7), W, H)
    K = tr.K.copy()
    if zoom:
        K[:, 0, 0] *= np.linspace(1.0, 1.6, tr.num_frames)
        K[:, 1, 1] *= np.linspace(1.0, 1.6, tr.num_frames)
    return CameraTrajectory(W, H, tr.fps, K, tr.world_T_cam, tr.focus_distance, tr.aperture, meta=tr.meta)


def cv_pixels(tr: CameraTrajectory, K: np.ndarray | None = None) -> np.ndarray:
    Xc = np.einsum("fij,j->fi", tr.cam_T_world()[:, :3], np.r_[X, 1.0])
    uvw = np.einsum("fij,fj->fi", tr.K if K is None else K, Xc)
    return uvw[:, :2] / uvw[:, 2:]


def gl_pixels(world_T_cam_gl: np.ndarray, fx: np.ndarray, fy: np.ndarray, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Project X the OpenGL way: y-up world (X flipped), camera looking down -z; image ``v`` counted down from the
    top edge (as image files are stored), principal point ``(cx, cy)`` in those edge-origin coordinates."""
    Xg = np.r_[X[0], -X[1], -X[2], 1.0]
    Xc = np.einsum("fij,j->fi", np.linalg.inv(world_T_cam_gl), Xg)
    assert (Xc[:, 2] < 0).all()  # in front of a camera that looks down -z
    return np.stack([cx + fx * Xc[:, 0] / -Xc[:, 2], cy - fy * Xc[:, 1] / -Xc[:, 2]], axis=-1)


def test_gltf_validates_rereads_and_pins_the_convention(tmp_path) -> None:
    tr = real_traj()
    path = tmp_path / "camera.gltf"
    path.write_text(to_gltf(tr))
    g = pygltflib.GLTF2().load(str(path))
    assert validate(g) == []
    assert g.asset.version == "2.0" and g.extensionsUsed == ["KHR_animation_pointer"]
    cam = g.cameras[g.nodes[0].camera]
    assert cam.type == "perspective"

    def data(i: int) -> np.ndarray:
        acc = g.accessors[i]
        view = g.bufferViews[acc.bufferView]
        raw = g.get_data_from_buffer_uri(g.buffers[view.buffer].uri)
        n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc.type]
        return np.frombuffer(raw[view.byteOffset:view.byteOffset + view.byteLength], "<f4").reshape(-1, n)

    anim = g.animations[0]
    by_path = {ch.target.path: anim.samplers[ch.sampler] for ch in anim.channels}
    t = data(by_path["translation"].input)[:, 0]
    assert np.allclose(t, times_s(tr), atol=1e-7) and np.diff(t).max() > 1.9 * np.diff(t).min()  # dropped frame
    trans, quat = data(by_path["translation"].output), data(by_path["rotation"].output)
    yfov = data(by_path["pointer"].output)[:, 0]
    from scipy.spatial.transform import Rotation

    gl = np.tile(np.eye(4), (tr.num_frames, 1, 1))
    gl[:, :3, :3] = Rotation.from_quat(quat).as_matrix()
    gl[:, :3, 3] = trans
    # the yfov and aspectRatio a viewer uses, with the principal point from extras, project X where OpenCV does
    fy = H / (2 * np.tan(yfov / 2))
    fx = W * fy / (H * cam.perspective.aspectRatio)
    ex = cam.extras
    uv = gl_pixels(gl, fx, fy, np.asarray(ex["cx"]) + 0.5, np.asarray(ex["cy"]) + 0.5)  # image edges at 0
    assert np.abs(uv - 0.5 - cv_pixels(tr)).max() < 1e-3  # ours: pixel centres at integers
    assert not np.allclose(fx, fy)
    back = from_gltf(path.read_text())
    assert (back.width, back.height) == (W, H)
    assert np.abs(back.world_T_cam - tr.world_T_cam).max() < 1e-5  # float32 storage
    assert np.abs(back.K - tr.K).max() / tr.K[:, 0, 0].min() < 1e-6
    assert back.meta[TIMESTAMPS] == [t - tr.meta[TIMESTAMPS][0] for t in tr.meta[TIMESTAMPS]]
    static = to_gltf(real_traj(zoom=False))
    assert "KHR_animation_pointer" not in static  # a constant focal length is the camera's own yfov


def test_chan_round_trip_and_axes() -> None:
    tr = real_traj()
    text = to_chan(tr)
    lines = text.splitlines()
    assert len(lines) == tr.num_frames and all(len(ln.split()) == 8 for ln in lines)
    frames = [int(ln.split()[0]) for ln in lines]
    assert frames[0] == 1 and np.diff(frames).max() == 2 and np.diff(frames).min() == 1  # the dropped frame
    back = from_chan(text, W, H, fps=tr.fps)
    assert np.abs(back.world_T_cam - tr.world_T_cam).max() < 1e-9
    assert np.abs(back.K[:, 1, 1] - tr.K[:, 1, 1]).max() < 1e-9  # the vertical FOV, so fy
    # cannot hold: fx != fy (square pixels come back), the principal point (centred), the size (given)
    assert np.allclose(back.K[:, 0, 0], back.K[:, 1, 1]) and np.allclose(back.K[:, 0, 2], (W - 1) / 2)
    # axes: the source camera is the identity; a pan to the right (OpenCV +yaw about y-down) is ry < 0 in Nuke
    a = np.radians(10.0)
    T = np.tile(np.eye(4), (2, 1, 1))
    T[1, :3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    T[1, :3, 3] = [0.5, -0.25, 1.0]  # right, up, forward
    pan = CameraTrajectory(W, H, 24.0, intrinsics(np.full(2, 400.0), 400.0, 351.5, 191.5), T, np.ones(2),
                           np.full(2, 2.8))
    f0, f1 = (np.array(ln.split(), float) for ln in to_chan(pan).splitlines())
    assert np.allclose(f0[1:7], 0) and f1[0] == 2
    assert np.allclose(f1[1:4], [0.5, 0.25, -1.0]) and np.allclose(f1[4:7], [0, -10.0, 0])
    assert f1[7] == pytest.approx(np.degrees(2 * np.arctan(H / 800)))
    with pytest.raises(ValueError, match="line 1"):
        from_chan("1 2 3\n", W, H)


def test_nerfstudio_round_trip() -> None:
    tr = real_traj()
    doc = json.loads(to_nerfstudio(tr))
    assert (doc["render_width"], doc["render_height"], doc["camera_type"]) == (W, H, "perspective")
    assert doc["seconds"] == pytest.approx(times_s(tr)[-1])
    c2w = np.asarray([c["camera_to_world"] for c in doc["camera_path"]]).reshape(-1, 4, 4)
    assert np.array_equal(c2w, opencv_to_opengl(tr.world_T_cam))
    # nerfstudio's own camera: fy from the vertical fov, square pixels, centre at W/2 (its pixel-centre convention)
    fov = np.radians([c["fov"] for c in doc["camera_path"]])
    f = H / (2 * np.tan(fov / 2))
    uv = gl_pixels(c2w, f, f, np.full(len(f), W / 2), np.full(len(f), H / 2))
    Ksq = intrinsics(f, f, (W - 1) / 2, (H - 1) / 2)
    assert np.abs(uv - 0.5 - cv_pixels(tr, Ksq)).max() < 1e-6
    back = from_nerfstudio(json.dumps(doc))
    assert np.abs(back.world_T_cam - tr.world_T_cam).max() < 1e-9 and back.fps == tr.fps
    assert np.abs(back.K[:, 1, 1] - tr.K[:, 1, 1]).max() < 1e-9 and np.allclose(back.K[:, 0, 0], back.K[:, 1, 1])


@pytest.mark.parametrize("fmt", ["gltf", "chan", "nerfstudio"])
def test_text_front_door_and_cli(fmt: str, tmp_path) -> None:
    tr = real_traj()
    text = trajectory_to_text(tr, fmt)
    assert detect_format(text) == fmt
    back = trajectory_from_text(text, "auto", width=W, height=H, fps=tr.fps)
    assert np.abs(back.world_T_cam - tr.world_T_cam).max() < 1e-5
    src = tmp_path / "in.txt"
    src.write_text(re10k_file(seed=8))
    out = tmp_path / f"cam.{fmt}"
    assert main(["poses", str(src), "--from", "re10k", "--to", fmt, "--out", str(out), "--width", "640",
                 "--height", "360"]) == 0
    again = trajectory_from_text(out.read_text(), fmt, width=640, height=360)
    ref = from_re10k(src.read_text(), 640, 360)
    assert np.abs(again.world_T_cam - ref.world_T_cam).max() < 1e-5
    if fmt == "gltf":
        assert validate(pygltflib.GLTF2().load(str(out))) == []
