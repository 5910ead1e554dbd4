"""A photo of another aspect than the video (a 4:3 or portrait photo in a 16:9 clip, the bundled 1024x688 photo in
the SVD and Wan workflows' 1024x576 and 832x480): every stage shows it as ComfyUI's centre crop does (what core's
SVD and Wan image-to-video nodes do to the start image), never squashed into the frame. Checked against core's own
``comfy.utils.common_upscale``, run in the pinned ComfyUI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from draw_to_video.trajectory.camera.budget import budget_depth
from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory
from draw_to_video.trajectory.camera.lift import canvas_to_pixels
from draw_to_video.trajectory.conventions import centre_crop
from draw_to_video.trajectory.poses.tracks import start_frame, wan_tracks
from draw_to_video.trajectory.render.depth import depth_from_map
from draw_to_video.trajectory.render.warp import render_views
from draw_to_video.trajectory.stroke.format import make_stroke_set

from comfy_harness import COMFY, REPO

#: Runs inside the pinned ComfyUI (cwd = its root): core's centre crop, for a list of (picture, frame) sizes (the
#: part it keeps, read where it hands that part to the resize), and core's bilinear centre-cropped resize of photos.
_CORE = r"""
import json, sys
import torch
import comfy.cli_args
comfy.cli_args.args.cpu = True
import comfy.utils
job = json.load(open(sys.argv[1]))
real = torch.nn.functional.interpolate
kept = []
def spy(s, size=None, mode=None, **kw):
    kept.append(list(s.shape[-2:]))
    return torch.zeros(tuple(s.shape[:-2]) + tuple(size))
torch.nn.functional.interpolate = spy
crops = []
for w, h, fw, fh in job["sizes"]:
    kept.clear()
    comfy.utils.common_upscale(torch.zeros(1, 1, h, w), fw, fh, "bilinear", "center")
    (kh, kw), = kept
    crops.append([(w - kw) // 2, (h - kh) // 2, w - kw, h - kh])
torch.nn.functional.interpolate = real
out = {"crops": crops}
for name, (fw, fh) in job["frames"].items():
    img = torch.load(job["photo"])
    out[name] = comfy.utils.common_upscale(img, fw, fh, "bilinear", "center")
torch.save(out, sys.argv[2])
"""


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1.0 / ((a - b) ** 2).mean()))


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    """Core's crops for random and edge-case sizes, and its centre-cropped resizes of the bundled photo."""
    rng = np.random.default_rng(7)
    sizes = [[int(v) for v in rng.integers(1, 3000, 4)] for _ in range(300)]
    sizes += [[1024, 688, 1024, 576], [1024, 688, 832, 480], [1000, 750, 1024, 576], [576, 1024, 1024, 576],
              [1024, 576, 1024, 576], [1024, 576, 512, 288], [3, 1000, 1000, 3], [1000, 3, 3, 1000], [1, 1, 7, 3]]
    tmp = tmp_path_factory.mktemp("aspect")
    img = torch.from_numpy(np.asarray(Image.open(REPO / "assets" / "motorcycle.jpg").convert("RGB"), np.float32)
                           / 255.0).permute(2, 0, 1)[None].contiguous()
    torch.save(img, tmp / "photo.pt")
    job = {"sizes": sizes, "photo": str(tmp / "photo.pt"), "frames": {"svd": [768, 432], "portrait": [432, 768]}}
    (tmp / "job.json").write_text(json.dumps(job))
    code = "import sys; exec(sys.argv.pop(1))"
    run = subprocess.run([sys.executable, "-c", code, _CORE, str(tmp / "job.json"), str(tmp / "out.pt")],
                         cwd=COMFY, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return sizes, torch.load(tmp / "out.pt"), img[0]


def test_centre_crop_is_the_crop_of_comfyui_common_upscale(core):
    sizes, out, _ = core
    for (w, h, fw, fh), (x, y, dx, dy) in zip(sizes, out["crops"], strict=True):
        if w - dx < 1 or h - dy < 1:  # core keeps nothing (and fails to resize): the pack keeps one pixel
            assert centre_crop(w, h, fw, fh) == (min(x, (w - 1) // 2), min(y, (h - 1) // 2))
            continue
        assert (dx, dy) == (2 * x, 2 * y)  # core cuts both sides alike
        assert centre_crop(w, h, fw, fh) == (x, y), (w, h, fw, fh)


@pytest.mark.parametrize("frame", ["svd", "portrait"])
def test_frame_0_of_a_photo_of_another_aspect_is_the_start_image_core_makes(core, frame):
    """The bundled 1024x688 photo in a 768x432 clip (and a portrait 432x768 one), strength 0: the 2.5D render's
    frame 0 and the Wan tracks' start image are core's centre-cropped resize of the photo, pixel for pixel (the same
    bilinear samples; before, the render squashed the whole photo into the frame: 13.1 and 10.5 dB)."""
    _, out, img = core
    want = out[frame][0]
    fh, fw = want.shape[1:]
    h, w = img.shape[1:]
    traj = build_trajectory(None, ShotOptions(preset="static", frames=1, width=fw, height=fh, strength=0.0,
                                              budget=None, overscan=1.0))
    depth = torch.ones(h, w)
    r = render_views(img, depth, traj.source_K(w, h), traj.K, traj.cam_T_world(), out_hw=(fh, fw), fill="none")
    assert r.visible.mean() == 1.0
    assert _psnr(r.frames[0], want) > 45.0
    start = start_frame(img.permute(1, 2, 0), traj)[0].permute(2, 0, 1)
    x0, y0 = (fw - start.shape[2]) // 2, (fh - start.shape[1]) // 2
    assert _psnr(start, want[:, y0:y0 + start.shape[1], x0:x0 + start.shape[2]]) > 35.0  # antialiased resize


def test_a_stroke_on_the_photo_maps_to_the_frame_as_the_crop_shows_it():
    """Canvas 1000x750 (the photo) on a 1024x576 frame: the crop keeps rows 94..656 of the canvas; a point's frame
    pixel follows one scale on both axes, and the canvas centre stays the frame centre."""
    x0, y0 = centre_crop(1000, 750, 1024, 576)
    assert (x0, y0) == (0, 94)
    pts = np.array([[500.0, 375.0], [0.0, 94.0], [1000.0, 656.0], [250.0, 375.0], [500.0, 187.5]])
    px = canvas_to_pixels(pts, (1000, 750), 1024, 576)
    np.testing.assert_allclose(px[0], [511.5, 287.5])
    np.testing.assert_allclose(px[1], [-0.5, -0.5 + (94 - y0) * 576 / 562], atol=1e-9)
    np.testing.assert_allclose(px[2], [1023.5, 575.5], atol=1e-9)
    sx, sy = (px[0] - px[3])[0] / 250.0, (px[0] - px[4])[1] / 187.5
    assert sx == pytest.approx(sy, rel=3e-3)  # square canvas pixels stay square (the crop is whole pixels)
    same = canvas_to_pixels(pts, (1024, 576), 1024, 576)
    np.testing.assert_array_equal(same, pts - 0.5)  # matching aspects: as before, bit for bit
    square = canvas_to_pixels(pts, (1000, 1000), 1024, 576, photo_wh=(2048, 1152))  # a canvas squashing the photo
    np.testing.assert_array_equal(square, pts * np.array([1024 / 1000, 576 / 1000]) - 0.5)  # the photo: no crop
    on_photo = canvas_to_pixels(pts, (2000, 1500), 1024, 576, photo_wh=(1000, 750))  # the canvas at twice its size
    np.testing.assert_allclose(on_photo, canvas_to_pixels(pts / 2, (1000, 750), 1024, 576), atol=1e-9)


def test_the_stroke_the_render_and_the_budget_agree_on_a_photo_of_another_aspect():
    """A dolly drawn to the bike on the real stereo photo (741x500, drawn on a canvas of its size) in a 1024x576
    clip: the lifted end point projects onto the photo where the stroke ends, and in frame 0 where the crop shows
    that point, at one scale on both axes; the budget judges the part frame 0 shows."""
    inv = np.asarray(Image.open(REPO / "assets" / "motorcycle_depth.png"), np.float32)
    depth = depth_from_map(inv, "inverse_depth")[0].numpy().astype(np.float64)
    h, w = depth.shape
    x0, y0 = centre_crop(w, h, 1024, 576)
    assert (x0, y0) == (0, 42)
    end = (450.0, 200.0)  # canvas = photo pixels (edges)
    strokes = make_stroke_set([(370.0, 450.0), (400.0, 300.0), end], w, h)
    traj = build_trajectory(strokes, ShotOptions(preset="dolly", frames=9, width=1024, height=576, strength=0.5,
                                                 overscan=1.0), depth=depth)
    subject = np.asarray(traj.meta["subject"])
    u, v, s = traj.source_K(w, h) @ subject
    np.testing.assert_allclose([u / s, v / s], [end[0] - 0.5, end[1] - 0.5], atol=1e-6)  # back onto the photo
    u, v, s = traj.K[0] @ subject
    scale = 576 / (h - 2 * y0)
    np.testing.assert_allclose([u / s, v / s], [end[0] * 1024 / w - 0.5, (end[1] - y0) * scale - 0.5], atol=1e-6)
    assert 1024 / w == pytest.approx(scale, rel=3e-3)  # one scale on both axes
    view, _ = budget_depth(depth, 1024, 576)
    np.testing.assert_array_equal(view, depth[y0:h - y0])


def test_tracks_start_inside_frame_0_on_a_photo_of_another_aspect():
    """Grid points of a 1024x688 photo in a 1024x576 clip lie in the part frame 0 shows, so none is lost to the
    cut-off rows: a static camera keeps every track, each where its photo pixel lands in the frame."""
    h, w = 688, 1024
    traj = build_trajectory(None, ShotOptions(preset="static", frames=17, width=1024, height=576, strength=0.0,
                                              budget=None, overscan=1.0))
    gray = np.random.default_rng(0).random((h, w))
    tr = wan_tracks(traj, np.ones((h, w)), gray, sampling="grid", max_points=64, occlusion=False)
    assert tr.count >= 60 and tr.dropped == 0
    np.testing.assert_allclose(tr.xy[:, 0] - 0.5, tr.source_uv - np.array([0.0, 56.0]), atol=1e-6)
