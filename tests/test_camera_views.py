"""Bullet time and camera-aware interpolation on a real photo with real (stereo ground-truth) depth."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from draw_to_video.effects.interpolation.camera_views import bullet_time, camera_interpolate, interpolate_poses
from draw_to_video.effects.interpolation.frames import interpolate_at, multiplier_positions
from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory
from draw_to_video.trajectory.fidelity.report import score_clip
from draw_to_video.trajectory.render.depth import depth_from_map
from draw_to_video.trajectory.render.warp import render_views

from comfy_harness import REPO

W, H = 256, 176


@pytest.fixture(scope="module")
def scene():
    img = Image.open(REPO / "assets" / "motorcycle.jpg").convert("RGB").resize((W, H), Image.BICUBIC)
    inv = np.asarray(Image.open(REPO / "assets" / "motorcycle_depth.png").resize((W, H), Image.NEAREST), np.float32)
    depth = depth_from_map(inv, "inverse_depth")[0]
    return torch.from_numpy(np.asarray(img, np.float32) / 255.0), depth


def _render(image, depth, traj):
    """The clip as the geometry gives it: without the renderer's edge cleanup (a finishing step on the 2.5D
    output that camera-aware interpolation, working on any clip, does not repeat)."""
    r = render_views(image.permute(2, 0, 1), depth, torch.tensor(traj.K[0]), torch.tensor(traj.K),
                     torch.tensor(traj.cam_T_world()), out_hw=(H, W), edge_median=0)
    return r.frames.permute(0, 2, 3, 1).clamp(0, 1), r.depth, r.visible


def _psnr(a, b, mask) -> float:
    return float(10 * torch.log10(1.0 / ((a - b) ** 2).mean(-1)[mask].mean()))


def test_bullet_time_freezes_one_instant_and_follows_the_orbit(scene):
    image, depth = scene
    clip = torch.stack([(image * (0.7 + 0.1 * i)).clamp(0, 1) for i in range(5)])  # five distinct instants
    traj = build_trajectory(None,
                            ShotOptions(preset="orbit", frames=7, width=W, height=H, strength=0.15, fov_deg=28.2),
                            depth=depth.numpy().astype(np.float64))
    out = bullet_time(clip, depth, traj.K, traj.cam_T_world(), at=2, round_trip=True)
    assert out.shape == (5 + 13, H, W, 3)
    assert torch.equal(out[:3], clip[:3]) and torch.equal(out[-2:], clip[3:])
    frozen = out[3:16]
    assert (frozen[0] - clip[2]).abs().max() < 1e-4 and (frozen[-1] - clip[2]).abs().max() < 1e-4
    means = frozen.mean(dim=(1, 2, 3))
    assert ((means - clip[2].mean()).abs() < 0.03).all()  # every frozen frame is the same instant (frame 2)
    rep = score_clip((frozen[:7] * 255).round().byte().numpy(), traj)
    assert rep["rot_err_deg"] < 1.0 and rep["trans_dir_err_deg"] < 5.0


def test_bullet_time_bad_input(scene):
    image, depth = scene
    with pytest.raises(ValueError, match="at must be"):
        bullet_time(image[None], depth, np.eye(3)[None], np.eye(4)[None], at=3)


@pytest.mark.parametrize("preset", ["arc_left", "dolly_in"])
def test_camera_aware_beats_flow_on_dropped_frames(scene, preset):
    image, depth = scene
    # linear easing: the in-between poses are then what interpolating the kept frames' poses gives
    full = build_trajectory(None,
                            ShotOptions(preset=preset, frames=9, width=W, height=H, strength=0.6, fov_deg=28.2,
                                        easing="linear"),
                            depth=depth.numpy().astype(np.float64))
    truth, seen_depth, visible = _render(image, depth, full)
    keep = np.arange(0, 9, 2)
    half_frames, half_depth = truth[keep], seen_depth[keep]
    pos = multiplier_positions(len(keep), 2)
    flow = interpolate_at(half_frames, pos, mode="flow")
    cam, covered = camera_interpolate(half_frames, half_depth, full.K[keep], np.asarray(full.world_T_cam)[keep], pos,
                                      fallback=flow)
    assert cam.shape == truth.shape and torch.equal(cam[::2], truth[::2])  # originals untouched
    odd = slice(1, None, 2)
    seen = visible[odd] > 0  # judged where the truth itself is real, not filled
    p_cam, p_flow = _psnr(cam[odd], truth[odd], seen), _psnr(flow[odd], truth[odd], seen)
    assert p_cam > p_flow + 1.0, (p_cam, p_flow)
    assert covered[odd][seen].mean() > 0.95


def test_interpolated_poses_are_exact_at_integers_and_rotations():
    traj = build_trajectory(None, ShotOptions(preset="orbit", frames=5, width=64, height=48))
    K, T = interpolate_poses(traj.K, np.asarray(traj.world_T_cam), np.array([0.0, 1.0, 1.5, 4.0]))
    np.testing.assert_allclose(T[[0, 1, 3]], np.asarray(traj.world_T_cam)[[0, 1, 4]], atol=1e-12)
    R = T[2, :3, :3]
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)


FIDELITY_PRESETS = ["dolly_in", "pull_back", "truck_left", "pedestal_up", "crane_down", "pan_right", "tilt_up",
                    "zoom_in", "vertigo", "arc_left", "orbit", "crash_zoom_in", "dutch_roll", "follow_path"]


@pytest.mark.parametrize("preset", FIDELITY_PRESETS)
def test_fidelity_recovers_each_preset_from_its_render(scene, preset):
    """Render the real photo (real depth) along a preset; the fidelity score must recover the camera:
    <= 1 degree rotation error and <= 5 degrees translation-direction error where they are measurable."""
    image, depth = scene
    traj = build_trajectory(None, ShotOptions(preset=preset, frames=7, width=W, height=H, strength=0.4, fov_deg=28.2),
                            depth=depth.numpy().astype(np.float64))
    frames, _, _ = _render(image, depth, traj)
    rep = score_clip((frames * 255).round().byte().numpy(), traj)
    assert rep["rot_err_deg"] <= 1.0, rep
    if not np.isnan(rep["trans_dir_err_deg"]):
        assert rep["trans_dir_err_deg"] <= 5.0, rep
    assert len(rep["degenerate_frames"]) <= 3, rep
