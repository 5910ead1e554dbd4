"""Our Wan camera embedding against ComfyUI core's own WanCameraEmbedding node, on the same trajectory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import torch

from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory
from draw_to_video.trajectory.camera.model import normalised_intrinsics
from draw_to_video.trajectory.poses.formats import to_wan_embedding
from draw_to_video.trajectory.stroke.format import make_stroke_set

from comfy_harness import COMFY

# Runs inside the pinned ComfyUI (cwd = its root): core's node with its pose generator replaced by our poses.
_CORE = r"""
import json, sys
import numpy as np, torch
import comfy.cli_args
comfy.cli_args.args.cpu = True
import comfy_extras.nodes_camera_trajectory as core
job = json.load(open(sys.argv[1]))
c2w = np.asarray(job["c2w"], dtype=np.float64)            # [F,3,4] camera-to-world, what core reads from index 7
core.get_camera_motion = lambda angle, T, speed, n=81: c2w
out = core.WanCameraEmbedding.execute("Static", job["width"], job["height"], len(c2w), 1.0, *job["fxfycxcy"])
torch.save(out.result[0].cpu(), sys.argv[2])
"""


def _core_embedding(traj, tmp_path) -> torch.Tensor:
    norm = normalised_intrinsics(traj.K, traj.width, traj.height)[0]
    job = {"c2w": traj.world_T_cam[:, :3, :].tolist(), "width": traj.width, "height": traj.height,
           "fxfycxcy": [float(v) for v in norm]}
    (tmp_path / "job.json").write_text(json.dumps(job))
    code = "import sys; exec(sys.argv.pop(1))"
    run = subprocess.run([sys.executable, "-c", code, _CORE, str(tmp_path / "job.json"), str(tmp_path / "core.pt")],
                         cwd=COMFY, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return torch.load(tmp_path / "core.pt")


def test_wan_embedding_matches_core_node(tmp_path):
    # W != H, and an orbit (rotation + translation) so both halves of the Plücker rays are exercised
    a = np.linspace(0, 2 * np.pi, 60)
    strokes = make_stroke_set(np.c_[160 + 60 * np.cos(a), 96 + 50 * np.sin(a)], 320, 192)
    traj = build_trajectory(strokes, ShotOptions(preset="orbit", frames=9, width=160, height=96, strength=0.5))
    ours = to_wan_embedding(traj)
    core = _core_embedding(traj, tmp_path)
    assert ours.shape == core.shape == (1, 24, 3, 96, 160)
    assert ours.dtype == core.dtype
    err = (ours - core).abs().max().item()
    assert err < 1e-4, err
    assert core.abs().max().item() > 0.1  # a real, non-trivial embedding was compared


def test_wan_embedding_matches_core_node_on_imported_real_paths(tmp_path):
    # a real-style RealEstate10K file: absolute poses far from the identity, 29.97 fps with a dropped frame,
    # fx != fy and an off-centre principal point; imported as it is, and fitted to a shot (re-based, resampled)
    from test_poses_fit import smooth_re10k_file
    from test_poses_lossless import re10k_file

    from draw_to_video.trajectory.poses.formats import from_re10k
    from draw_to_video.trajectory.poses.retime import fit_camera_path

    raw = from_re10k(re10k_file(F=9, seed=11), 160, 96)
    assert not np.allclose(raw.world_T_cam[0], np.eye(4), atol=0.1)
    fitted = fit_camera_path(from_re10k(smooth_re10k_file(), 640, 360), 9, 24.0, 128, 80, scale=0.3)
    for traj in (raw, fitted):
        ours, core = to_wan_embedding(traj), _core_embedding(traj, tmp_path)
        assert ours.shape == core.shape
        err = (ours - core).abs().max().item()
        assert err < 1e-4, err
        assert core.abs().max().item() > 0.1


def test_wan_embedding_type_plugs_into_core_wan_node(comfy):
    info = comfy.client().get_json("/object_info")
    ours = info["DTV_WanCameraEmbedding"]["output"][0]
    core_in = info["WanCameraImageToVideo"]["input"]["optional"]["camera_conditions"][0]
    assert ours == core_in == "WAN_CAMERA_EMBEDDING"
    assert info["DTV_ExportCameraCtrl"]["output"][0] == "CAMERACTRL_POSES"
