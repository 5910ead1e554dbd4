"""``draw-to-video render`` and ``fidelity`` through the real executor, and the fidelity node on the server."""

from __future__ import annotations

import json
import subprocess

import av
import numpy as np
from PIL import Image

from draw_to_video.trajectory.camera.model import CameraTrajectory

from comfy_harness import REPO
from graphs import link, preview_json

CLI = str(REPO / ".venv" / "bin" / "draw-to-video")
ASSETS = REPO / "assets"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=600)


def test_render_to_png_frames_with_real_depth_then_fidelity(tmp_path):
    out, traj = tmp_path / "frames", tmp_path / "t.json"
    run = _cli("render", str(ASSETS / "motorcycle.jpg"), "--stroke", str(ASSETS / "demo_stroke.json"), "--depth",
               str(ASSETS / "motorcycle_depth.png"), "--frames", "6", "--size", "256", "--set",
               "Camera trajectory.fov_deg=28.2", "--out", str(out), "--trajectory-out", str(traj))
    assert run.returncode == 0, run.stderr[-2000:]
    pngs = sorted(out.glob("*.png"))
    assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(6)]
    assert np.asarray(Image.open(pngs[0])).shape == (176, 256, 3)  # 741x500 aspect kept, multiple of 8
    t = CameraTrajectory.from_json(traj.read_text())
    assert (t.num_frames, t.width, t.height, t.preset) == (6, 256, 176, "dolly")
    fid = _cli("fidelity", str(out), str(traj))
    assert fid.returncode == 0, fid.stderr
    rep = json.loads(fid.stdout)
    assert rep["n_frames"] == 6 and rep["rot_err_deg"] < 1.0 and rep["trans_dir_err_deg"] < 5.0


def test_render_to_video_with_prior_and_bad_inputs(tmp_path):
    out = tmp_path / "clip.mp4"
    run = _cli("render", str(ASSETS / "motorcycle.jpg"), "--stroke", str(ASSETS / "demo_stroke.json"), "--frames",
               "4", "--size", "128", "--preset", "orbit", "--out", str(out))
    assert run.returncode == 0, run.stderr[-2000:]
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 4 and frames[0].shape == (88, 128, 3)
    for args, fragment in [
        (["--set", "Nope.x=1"], "no node titled 'Nope'"),
        (["--set", "garbage"], "TITLE.INPUT=VALUE"),
        (["--preset", "warp_speed"], "preset"),
    ]:
        bad = _cli("render", str(ASSETS / "motorcycle.jpg"), "--stroke", str(ASSETS / "demo_stroke.json"), *args,
                   "--out", str(tmp_path / "bad.mp4"))
        assert bad.returncode == 2 and fragment in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
        assert not (tmp_path / "bad.mp4").exists()


def test_fidelity_cli_errors(tmp_path):
    traj = CameraTrajectory.static(64, 48, 3)
    (tmp_path / "t.json").write_text(traj.to_json())
    d = tmp_path / "f"
    d.mkdir()
    for i in range(2):
        Image.fromarray(np.full((48, 64, 3), 100, np.uint8)).save(d / f"{i}.png")
    bad = _cli("fidelity", str(d), str(tmp_path / "t.json"))
    assert bad.returncode == 2 and "2 frames but the trajectory 3" in bad.stderr


def test_fidelity_node_scores_a_render(comfy):
    import io as _io

    import skimage.data

    img = Image.fromarray(skimage.data.astronaut()).resize((128, 128))
    buf = _io.BytesIO()
    img.save(buf, format="PNG")
    name = comfy.client().upload_image("astro_128.png", buf.getvalue())
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "DTV_FallbackDepth", "inputs": {"image": link("1"), "horizon": 0.45, "subject_size": 0.3}},
        "3": {"class_type": "DTV_CameraTrajectory", "inputs": {"preset": "pan_right", "frames": 5, "fps": 24.0,
                                                               "width": 128, "height": 128, "strength": 0.5,
                                                               "easing": "linear", "fov_deg": 50.0, "shake": 0.0,
                                                               "seed": 11}},
        "4": {"class_type": "DTV_Render25D", "inputs": {"image": link("1"), "depth": link("2"), "trajectory": link("3"),
                                                        "fill": "background", "chunk": 4}},
        "5": {"class_type": "DTV_CameraFidelity", "inputs": {"images": link("4"), "trajectory": link("3")}},
        "6": {"class_type": "PreviewAny", "inputs": {"source": link("5")}},
        "7": {"class_type": "PreviewImage", "inputs": {"images": link("5", 1)}},
    }
    out = comfy.client().run(prompt, timeout=300).outputs
    rep = preview_json(out, "6")
    assert rep["n_frames"] == 5 and rep["rot_err_deg"] < 1.0
    assert out["7"]["images"]


def test_render_along_a_real_re10k_camera_path_then_fidelity(tmp_path):
    from test_poses_fit import URL, smooth_re10k_file

    src, out, traj = tmp_path / "0Y9Vyl3Ao3Y.txt", tmp_path / "frames", tmp_path / "t.json"
    src.write_text(smooth_re10k_file())
    run = _cli("render", str(ASSETS / "motorcycle.jpg"), "--trajectory", str(src), "--depth",
               str(ASSETS / "motorcycle_depth.png"), "--frames", "8", "--size", "256", "--set",
               "Camera trajectory.scale=0.2", "--out", str(out), "--trajectory-out", str(traj))
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(sorted(out.glob("*.png"))) == 8
    t = CameraTrajectory.from_json(traj.read_text())
    assert (t.num_frames, t.width, t.height, t.fps) == (8, 256, 176, 24.0)
    assert t.meta["source"]["url"] == URL and t.meta["fit"]["scale"] == 0.2
    assert np.allclose(t.K[:, 0, 0], 0.512345 * 256)  # the file's intrinsics, kept
    fid = _cli("fidelity", str(out), str(traj))
    assert fid.returncode == 0, fid.stderr
    rep = json.loads(fid.stdout)
    assert rep["n_frames"] == 8 and rep["rot_err_deg"] < 1.0 and rep["trans_dir_err_deg"] < 10.0, rep
    bad = _cli("render", str(ASSETS / "motorcycle.jpg"), "--trajectory", str(src), "--preset", "orbit",
               "--out", str(tmp_path / "bad.mp4"))
    assert bad.returncode == 2 and "--preset" in bad.stderr and "Traceback" not in bad.stderr
