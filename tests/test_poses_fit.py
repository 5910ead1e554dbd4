"""A real camera path as the camera of a shot (issue 13 part 2): clock resampling from the file's timestamps, the
documented scale rules, kept intrinsics; and a RealEstate10K path through a 2.5D render on the real server."""

from __future__ import annotations

import io as _io

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.transform import Rotation

from draw_to_video.trajectory.camera.model import invert_rigid
from draw_to_video.trajectory.poses.clock import WORLD_T_FIRST
from draw_to_video.trajectory.poses.formats import from_re10k
from draw_to_video.trajectory.poses.retime import fit_camera_path

from graphs import link, preview_json

URL = "https://www.youtube.com/watch?v=0Y9Vyl3Ao3Y"
STEP = 33_367


def smooth_path(t: np.ndarray) -> np.ndarray:
    """A dolly-in with a slow pan, camera-to-world ``[n, 4, 4]`` at ``t`` seconds, in a world where it starts far
    from the identity."""
    W0 = np.eye(4)
    W0[:3, :3] = Rotation.from_euler("xyz", [10, -35, 5], degrees=True).as_matrix()
    W0[:3, 3] = [2.0, -0.5, 4.0]
    M = np.tile(np.eye(4), (len(t), 1, 1))
    M[:, :3, :3] = Rotation.from_euler("y", 9.0 * t[:, None], degrees=True).as_matrix()
    M[:, :3, 3] = np.stack([0.4 * t, 0.05 * t, 1.2 * t], axis=-1)
    return W0 @ M


def smooth_re10k_file(F: int = 17, drop: int = 6) -> str:
    """RealEstate10K text of :func:`smooth_path` at 29.97 fps with frame ``drop`` missing, six decimals."""
    k = np.delete(np.arange(F + 1), drop)
    ts = 91_057_633 + STEP * k
    w2c = invert_rigid(smooth_path((ts - ts[0]) * 1e-6))[:, :3].reshape(-1, 12)
    lines = [URL] + [" ".join([str(int(t)), "0.512345", "0.910234", "0.503100", "0.496200", "0.000000", "0.000000",
                               *(f"{v:.6f}" for v in m)]) for t, m in zip(ts, w2c)]
    return "\n".join(lines) + "\n"


def test_clock_is_resampled_from_the_timestamps_across_a_dropped_frame() -> None:
    tr = from_re10k(smooth_re10k_file(), 640, 360)
    fit = fit_camera_path(tr, 12, 24.0, 320, 176, scaling="none", scale=1.0)
    assert fit.num_frames == 12 and fit.fps == 24.0 and (fit.width, fit.height) == (320, 176)
    want = invert_rigid(smooth_path(np.zeros(1)))[0] @ smooth_path(np.arange(12) / 24.0)  # re-based truth
    assert np.abs(fit.world_T_cam[:, :3, 3] - want[:, :3, 3]).max() < 2e-3  # linear between 30 fps samples
    ang = Rotation.from_matrix(fit.world_T_cam[:, :3, :3]).inv() * Rotation.from_matrix(want[:, :3, :3])
    assert np.degrees(ang.magnitude()).max() < 0.01
    assert np.allclose(fit.meta[WORLD_T_FIRST], tr.world_T_cam[0], atol=0)
    assert fit.meta["source"]["url"] == URL and "timestamps_us" not in fit.meta  # its clock is now fps
    # past the end of the path the last pose is held; fit_to_frames spreads the path over the frames instead
    long = fit_camera_path(tr, 40, 24.0, 320, 176, scaling="none")
    assert np.array_equal(long.world_T_cam[-1], long.world_T_cam[-2])
    spread = fit_camera_path(tr, 5, 24.0, 320, 176, timing="fit_to_frames", scaling="none", scale=1.0)
    assert np.abs(spread.world_T_cam[-1] - invert_rigid(tr.world_T_cam[0]) @ tr.world_T_cam[-1]).max() < 1e-9


def test_scale_rules_and_intrinsics() -> None:
    tr = from_re10k(smooth_re10k_file(), 640, 360)
    base = fit_camera_path(tr, 9, 24.0, 320, 176, scaling="none", scale=1.0)
    reach = np.linalg.norm(base.centres(), axis=1).max()
    for scaling, scale, depth, factor in [("none", 2.0, 3.0, 2.0), ("median_depth", 0.5, 3.0, 1.5),
                                          ("travel", 0.25, 3.0, 0.75 / reach)]:
        fit = fit_camera_path(tr, 9, 24.0, 320, 176, scaling=scaling, scale=scale, median_depth=depth)
        assert np.allclose(fit.centres(), base.centres() * factor, atol=1e-12), scaling
        assert np.array_equal(fit.world_T_cam[:, :3, :3], base.world_T_cam[:, :3, :3])
        assert fit.meta["fit"]["translation_factor"] == pytest.approx(factor)
    travel = fit_camera_path(tr, 9, 24.0, 320, 176, scaling="travel", scale=0.25, median_depth=3.0)
    assert np.linalg.norm(travel.centres(), axis=1).max() == pytest.approx(0.75)
    # kept intrinsics: normalised, so fx != fy and the off-centre principal point carry over to any size
    assert np.allclose(base.K[:, 0, 0], 0.512345 * 320) and np.allclose(base.K[:, 1, 1], 0.910234 * 176)
    assert np.allclose(base.K[:, 0, 2], 0.5031 * 320 - 0.5) and np.allclose(base.K[:, 1, 2], 0.4962 * 176 - 0.5)
    own = fit_camera_path(tr, 9, 24.0, 320, 176, keep_intrinsics=False, fov_deg=40.0)
    assert np.allclose(own.fov_deg()[:, 1], 40.0)
    with pytest.raises(ValueError, match="timing"):
        fit_camera_path(tr, 9, 24.0, 320, 176, timing="warp")
    with pytest.raises(ValueError, match="scale"):
        fit_camera_path(tr, 9, 24.0, 320, 176, scale=0.0)


def test_re10k_path_drives_a_2_5d_render_on_the_server(comfy) -> None:
    import skimage.data

    buf = _io.BytesIO()
    Image.fromarray(skimage.data.astronaut()).resize((160, 96)).save(buf, format="PNG")
    name = comfy.client().upload_image("astro_160x96.png", buf.getvalue())
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "DTV_FallbackDepth", "inputs": {"image": link("1"), "horizon": 0.45, "subject_size": 0.3}},
        "3": {"class_type": "DTV_LoadTrajectory", "inputs": {"text": smooth_re10k_file(), "format": "auto",
                                                             "width": 640, "height": 360, "fps": 24.0,
                                                             "fov_deg": 50.0}},
        "4": {"class_type": "DTV_FitTrajectory", "inputs": {"trajectory": link("3"), "frames": 8, "fps": 24.0,
                                                            "width": 160, "height": 96, "timing": "source_clock",
                                                            "scaling": "travel", "scale": 0.25,
                                                            "keep_intrinsics": True, "fov_deg": 50.0,
                                                            "depth": link("2")}},
        "5": {"class_type": "DTV_Render25D", "inputs": {"image": link("1"), "depth": link("2"), "trajectory": link("4"),
                                                        "fill": "background", "chunk": 4}},
        "6": {"class_type": "DTV_CameraFidelity", "inputs": {"images": link("5"), "trajectory": link("4")}},
        "7": {"class_type": "PreviewAny", "inputs": {"source": link("6")}},
        "8": {"class_type": "DTV_SaveTrajectory", "inputs": {"trajectory": link("4"), "format": "re10k",
                                                             "filename_prefix": "dtv_test/fit"}},
    }
    out = comfy.client().run(prompt, timeout=300).outputs
    rep = preview_json(out, "7")
    assert rep["n_frames"] == 8 and rep["rot_err_deg"] < 1.0 and rep["trans_dir_err_deg"] < 10.0, rep
    text = "".join(out["8"]["text"])
    assert text.splitlines()[0] == URL and len(text.splitlines()) == 9  # the source's URL line rides along


def test_save_trajectory_refuses_an_empty_prefix(comfy) -> None:
    from draw_to_video.cli.client import ComfyError

    prompt = {
        "1": {"class_type": "DTV_LoadTrajectory", "inputs": {"text": smooth_re10k_file(), "format": "re10k",
                                                             "width": 64, "height": 48, "fps": 24.0, "fov_deg": 50.0}},
        "2": {"class_type": "DTV_SaveTrajectory", "inputs": {"trajectory": link("1"), "format": "json",
                                                             "filename_prefix": " "}},
    }
    with pytest.raises(ComfyError) as e:
        comfy.client().run(prompt, timeout=60)
    assert "filename_prefix is empty" in str(e.value.details)


def test_an_imported_path_is_held_to_the_coverage_budget_like_any_move() -> None:
    import skimage.data
    import torch

    from draw_to_video.trajectory.camera.budget import limit_path
    from draw_to_video.trajectory.render.depth import fallback_depth_prior
    from draw_to_video.trajectory.render.warp import render_views

    W, H = 192, 112
    big = fit_camera_path(from_re10k(smooth_re10k_file(), 640, 360), 9, 24.0, W, H, timing="fit_to_frames",
                          scaling="median_depth", scale=4.0)  # a large move: file units as 4 median depths
    depth = fallback_depth_prior(H, W)
    image = torch.from_numpy(skimage.data.coffee()[::4, ::4][:H, :W].astype(np.float32) / 255).permute(2, 0, 1)
    image = torch.nn.functional.interpolate(image[None], size=(H, W), mode="area")[0].clamp_min(1 / 255)

    def worst_uncovered(tr) -> float:
        cam_T_src = np.linalg.inv(tr.world_T_cam)
        out = render_views(image, depth, tr.K[0], tr.K, cam_T_src, fill="none").frames
        return float((out.amax(dim=1) == 0).flatten(1).float().mean(1).max())

    assert worst_uncovered(big) > 0.10  # the film's move outruns what one photo shows
    held = limit_path(big, depth.numpy().astype(np.float64), 0.03)
    assert held.meta["limited"] and 0 < held.meta["strength"] < 1 and held.meta["budget_depth"] == "depth"
    assert worst_uncovered(held) <= 0.03 + 0.01  # the model's measured error is about 1%
    assert np.allclose(held.world_T_cam[0], big.world_T_cam[0]) and np.array_equal(held.K, big.K)
    measured_only = limit_path(big, depth.numpy().astype(np.float64), 0.03, auto=False)
    assert np.array_equal(measured_only.world_T_cam, big.world_T_cam) and measured_only.meta["over_budget"]


def test_fit_node_says_what_the_budget_limited(comfy) -> None:
    fit = {"frames": 6, "fps": 24.0, "width": 128, "height": 80, "timing": "fit_to_frames", "scaling": "median_depth",
           "scale": 4.0, "keep_intrinsics": True, "fov_deg": 50.0, "coverage_budget": 0.03}
    prompt = {
        "1": {"class_type": "DTV_LoadTrajectory", "inputs": {"text": smooth_re10k_file(), "format": "auto",
                                                             "width": 640, "height": 360, "fps": 24.0,
                                                             "fov_deg": 50.0}},
        "2": {"class_type": "DTV_FitTrajectory", "inputs": {**fit, "trajectory": link("1"), "strength_mode": "auto"}},
        "3": {"class_type": "DTV_FitTrajectory", "inputs": {**fit, "trajectory": link("1"), "strength_mode": "manual"}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": link("2", 1)}},
        "5": {"class_type": "PreviewAny", "inputs": {"source": link("3", 1)}},
    }
    out = comfy.client().run(prompt, timeout=120).outputs
    note = "".join(out["4"]["text"])
    assert "strength auto limited the move" in note and "coverage budget 3%" in note, note
    assert "".join(out["5"]["text"]) == ""
