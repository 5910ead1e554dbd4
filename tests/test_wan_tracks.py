"""Wan 2.1 ATI tracks: the projection (a static camera gives static tracks, a pan and a truck move them the OpenCV
way, occluded and out-of-frame points end their tracks), the JSON read back by ComfyUI core's own
``parse_json_tracks`` / ``pad_pts`` / ``process_tracks`` and run through ``WanTrackToVideo`` (with the tiny random
Wan VAE and I2V model of ``test_wan_vace``, up to a two-step toy sampling; the text encoder is a random tensor of
its shape), and the node through the real server."""

from __future__ import annotations

import io as _io
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from test_wan_vace import run_core

from draw_to_video.cli.client import ComfyError, output_items
from draw_to_video.trajectory.camera.model import CameraTrajectory, K_from_fov
from draw_to_video.trajectory.poses.tracks import (
    SAMPLES,
    TrackError,
    core_sample_index,
    sample_points,
    sample_positions,
    start_frame,
    wan_tracks,
)

from graphs import link, preview_json, preview_text, upload_astronaut

W, H = 160, 96
BOX = (slice(30, 66), slice(60, 100))  # rows, columns of the near box in the photo


def camera(frames: int = 17, tx: float = 0.0, yaw_deg: float = 0.0, tz: float = 0.0, W: int = W,
           H: int = H) -> CameraTrajectory:
    """A camera that moves linearly from the photo's camera: ``tx`` right, ``tz`` forward, turning ``yaw_deg`` to
    the right (OpenCV: x right, y down, z forward)."""
    a = np.linspace(0.0, 1.0, frames)
    th = np.radians(yaw_deg) * a
    T = np.tile(np.eye(4), (frames, 1, 1))
    T[:, 0, 0], T[:, 0, 2], T[:, 2, 0], T[:, 2, 2] = np.cos(th), np.sin(th), -np.sin(th), np.cos(th)
    T[:, 0, 3], T[:, 2, 3] = tx * a, tz * a
    K = np.broadcast_to(K_from_fov(50.0, W, H), (frames, 3, 3))
    return CameraTrajectory(W, H, 24.0, K, T, np.ones(frames), np.full(frames, 2.8))


def wall_and_box(wall: float = 4.0, box: float = 1.0) -> np.ndarray:
    d = np.full((H, W), wall)
    d[BOX] = box
    return d


GRAY = np.random.default_rng(0).random((H, W))


# -- core's resampling, inverted ---------------------------------------------------------------------------------


def test_sample_positions_put_camera_k_where_core_reads_frame_k():
    for length in (5, 9, 17, 33, 49, 81, 117, 125):
        idx = core_sample_index(length)
        pos = sample_positions(length)
        assert pos.shape == (SAMPLES,) and pos[0] == 0 and (np.diff(pos) >= -1e-12).all()
        if length <= SAMPLES:
            assert np.array_equal(pos[idx], np.arange(length))  # exact where core reads
    n = 80  # 81 frames: core reads sample 1 + (1 + 3 (k - 1)) // 2 for frame k
    assert core_sample_index(81)[1:].tolist() == [1 + (1 + 3 * (k - 1)) // 2 for k in range(1, n + 1)]


# -- the projection ----------------------------------------------------------------------------------------------


def test_static_camera_gives_static_tracks():
    tr = wan_tracks(camera(tx=0.0), wall_and_box(), GRAY, "grid", 64)
    assert tr.count == 60 and tr.dropped == 0 and tr.length == 17 and (tr.width, tr.height) == (W, H)
    assert np.abs(tr.xy - tr.xy[:, :1]).max() < 1e-9
    assert tr.visible.all() and (tr.lengths == SAMPLES).all()
    # core's pixels: the picture spans [0, W]; the pack's pixel centre u = j is core's x = j + 0.5
    assert np.allclose(tr.xy[:, 0], tr.source_uv + 0.5)


def test_pan_right_moves_every_point_left_by_the_turn():
    yaw = 20.0
    tr = wan_tracks(camera(yaw_deg=yaw), wall_and_box(), GRAY, "grid", 64, occlusion=False)
    K = K_from_fov(50.0, W, H)
    dx = np.diff(tr.xy[..., 0], axis=1)
    assert (dx[tr.visible[:, 1:]] < 0).all()  # turning right, the scene slides left
    # a point on the optical axis ends at fx tan(-yaw) from the centre; every point follows the exact rotation
    u0 = tr.source_uv
    rays = np.c_[(u0[:, 0] - K[0, 2]) / K[0, 0], (u0[:, 1] - K[1, 2]) / K[1, 1], np.ones(len(u0))]
    th = math.radians(yaw)
    R = np.array([[math.cos(th), 0, -math.sin(th)], [0, 1, 0], [math.sin(th), 0, math.cos(th)]])  # cam_T_world
    c = rays @ R.T
    want = np.c_[K[0, 0] * c[:, 0] / c[:, 2] + K[0, 2], K[1, 1] * c[:, 1] / c[:, 2] + K[1, 2]] + 0.5
    seen = tr.visible[:, -1]
    assert seen.sum() > 20 and np.abs(tr.xy[seen, -1] - want[seen]).max() < 1e-6
    assert not tr.visible[~(want[:, 0] >= 0), -1].any()  # whatever left the frame is not visible


def test_truck_right_moves_points_left_near_ones_more():
    tr = wan_tracks(camera(tx=0.2), wall_and_box(), GRAY, "grid", 64, occlusion=False)
    u, v = np.rint(tr.source_uv).astype(int).T
    on_box = (v >= 30) & (v < 66) & (u >= 60) & (u < 100)
    shift = tr.xy[:, -1, 0] - tr.xy[:, 0, 0]
    fx = K_from_fov(50.0, W, H)[0, 0]
    assert on_box.any() and (~on_box).any()
    assert np.allclose(shift[on_box], -fx * 0.2 / 1.0) and np.allclose(shift[~on_box], -fx * 0.2 / 4.0)
    assert np.abs(tr.xy[:, -1, 1] - tr.xy[:, 0, 1]).max() < 1e-9  # a sideways move keeps the rows


def test_points_hidden_behind_the_box_or_outside_the_frame_end_their_tracks():
    tx = 0.2
    tr = wan_tracks(camera(tx=tx), wall_and_box(), GRAY, "grid", 160)
    free = wan_tracks(camera(tx=tx), wall_and_box(), GRAY, "grid", 160, occlusion=False)
    K = K_from_fov(50.0, W, H)
    fx, cx = K[0, 0], K[0, 2]
    # analytically: the box (depth 1) spans columns [59.5, 99.5] and rows [29.5, 65.5] of the photo; a wall point
    # (depth 4) is behind it in frame f when its column and row fall inside the box's projected span
    box_x = (np.array([59.5, 99.5]) - cx) / fx
    u0, v0 = tr.source_uv.T
    on_box = (np.rint(v0) >= 30) & (np.rint(v0) < 66) & (np.rint(u0) >= 60) & (np.rint(u0) < 100)
    t = tx * np.linspace(0, 1, 17)
    wall_u = (u0[:, None] - cx) / fx * 4.0  # world x of each wall point
    pu = fx * (wall_u - t) / 4.0 + cx
    lo, hi = fx * (box_x[0] - t) + cx, fx * (box_x[1] - t) + cx
    rows_in = (v0 > 29.5) & (v0 < 65.5)
    behind = (~on_box)[:, None] & rows_in[:, None] & (pu > lo) & (pu < hi)
    margin = (np.abs(pu - lo) < 2.5) | (np.abs(pu - hi) < 2.5) | (np.abs(v0 - 29.5) < 2.5)[:, None] | \
        (np.abs(v0 - 65.5) < 2.5)[:, None]
    outside = pu + 0.5 < 0
    expected = ~(behind | np.where(on_box[:, None], fx * ((u0[:, None] - cx) / fx - t) + cx + 0.5 < 0, outside))
    ok = ~margin
    assert behind.any() and outside.any()
    assert np.array_equal(tr.visible[ok], expected[ok])
    # a hidden point's track ends at its first hidden sample; without the occlusion test only the frame edge counts
    first_hidden = np.argmax(~tr.visible, axis=1)
    ended = ~tr.visible.all(axis=1)
    idx = core_sample_index(17)
    assert (tr.lengths[ended] <= idx[first_hidden[ended]]).all()
    assert (tr.lengths[~ended] == SAMPLES).all()
    assert (free.lengths >= tr.lengths).all() and (free.lengths > tr.lengths).any()


def test_a_point_the_camera_passes_is_not_visible_behind_it():
    d = np.full((H, W), 4.0)
    d[40:56, 72:88] = 0.5
    tr = wan_tracks(camera(tz=1.0), d, GRAY, "grid", 160, occlusion=False)
    u, v = np.rint(tr.source_uv).astype(int).T
    near = (v >= 40) & (v < 56) & (u >= 72) & (u < 88)
    assert near.any() and not tr.visible[near, -1].any()


def test_json_is_what_core_parses_and_a_track_ends_where_it_stops_being_visible():
    tr = wan_tracks(camera(tx=0.2), wall_and_box(), GRAY, "grid", 64)
    data = json.loads(tr.to_json())
    assert len(data) == tr.count
    assert [len(t) for t in data] == tr.lengths.tolist()
    assert all(set(p) == {"x", "y"} for t in data for p in t)
    assert "'" not in tr.to_json()


def test_features_sampling_spreads_points_over_strong_corners():
    import skimage.data

    img = np.asarray(Image.fromarray(skimage.data.astronaut()).convert("L").resize((W, H)), dtype=np.float64) / 255
    valid = np.ones((H, W), dtype=bool)
    valid[:, :20] = False
    uv, note = sample_points(img, valid, "features", 40)
    assert note == "" and 10 <= len(uv) <= 40 and (uv[:, 0] >= 20).all()
    gaps = np.hypot(*(uv[:, None] - uv[None]).transpose(2, 0, 1)) + np.eye(len(uv)) * 1e9
    assert gaps.min() >= 0.5 * math.sqrt(W * H / 40) - 1e-6
    flat, note = sample_points(np.zeros((H, W)), valid, "features", 40)
    assert "grid" in note and len(flat) > 0


@settings(max_examples=80, deadline=None)
@given(frames=st.sampled_from([1, 2, 3, 9, 121, 120]), max_points=st.integers(-3, 1100),
       sampling=st.sampled_from(["grid", "features", "Grid", "", "../etc/passwd"]),
       depth=st.sampled_from(["ok", "nan", "zero", "negative", "shape"]))
def test_bad_inputs_give_one_clear_line(frames, max_points, sampling, depth):
    d = {"ok": wall_and_box(), "nan": np.full((H, W), np.nan), "zero": np.zeros((H, W)),
         "negative": -wall_and_box(), "shape": wall_and_box()[:, :50]}[depth]
    lengths = {3: 5, 9: 9}  # 1, 2 -> 1 frame (too short); 120, 121 -> 121 (core's process_tracks fails)
    ok = frames in lengths and 1 <= max_points <= 1024 and sampling in ("grid", "features") and depth == "ok"
    if ok:
        assert wan_tracks(camera(frames), d, GRAY, sampling, max_points).length == lengths[frames]
        return
    with pytest.raises(TrackError) as err:
        wan_tracks(camera(frames), d, GRAY, sampling, max_points)
    msg = str(err.value)
    assert msg and "\n" not in msg
    if frames in (120, 121) and depth == "ok":
        assert "121" in msg or "max_points" in msg or "sampling" in msg


def test_start_frame_is_the_first_camera_view_cut_to_16():
    img = torch.rand(104, 168, 3)
    out = start_frame(img, camera(W=168, H=104))
    assert out.shape == (1, 96, 160, 3) and torch.equal(out[0], img[4:100, 4:164])
    assert start_frame(img, camera(W=84, H=52)).shape == (1, 48, 80, 3)


def test_overscan_start_frame_and_tracks_agree():
    """A shot with overscan zooms frame 0 by 1 / overscan: the tracks start where the start image shows the
    point they were taken at."""
    from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory

    traj = build_trajectory(None, ShotOptions(preset="truck_right", frames=9, width=W, height=H, strength=1.0,
                                              overscan=0.9))
    assert traj.meta["overscan"] == 0.9
    gu, gv = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    photo = np.stack([gu / W, gv / H, np.zeros_like(gu)], axis=-1)  # colour = position
    tr = wan_tracks(traj, np.full((H, W), 2.0), GRAY, "grid", 64)
    Ks = traj.source_K()
    K0 = traj.K[0]
    want = (tr.source_uv - Ks[:2, 2]) * np.diag(K0)[:2] / np.diag(Ks)[:2] + K0[:2, 2] + 0.5
    assert np.abs(tr.xy[:, 0] - want).max() < 1e-9  # zoomed out from the principal point
    start = start_frame(torch.from_numpy(photo).float(), traj)[0].numpy()
    px = np.rint(tr.xy[:, 0] - 0.5).astype(int)
    inside = (px[:, 0] >= 0) & (px[:, 0] < W) & (px[:, 1] >= 0) & (px[:, 1] < H)
    seen = start[px[inside, 1], px[inside, 0], :2] * [W, H]  # the photo pixel the start image shows there
    assert np.abs(seen - tr.source_uv[inside]).max() < 1.0


# -- core's own code on our JSON ---------------------------------------------------------------------------------


def test_core_reads_our_tracks_and_wan_track_to_video_runs(tmp_path):
    tr = wan_tracks(camera(tx=0.2), wall_and_box(), GRAY, "grid", 64)
    start = start_frame(torch.rand(H, W, 3), camera(tx=0.2))
    torch.save(start, tmp_path / "start.pt")
    info, res = run_core({"task": "tracks", "tracks": tr.to_json(), "width": tr.width, "height": tr.height,
                          "length": tr.length, "start": str(tmp_path / "start.pt"), "sample": True}, tmp_path)
    L, N = tr.length, tr.count
    parsed, processed = res["parsed"], res["processed"]
    assert parsed.shape == (N, SAMPLES, 1, 3)
    vis = parsed[:, :, 0, 2]
    assert np.array_equal(vis.sum(axis=1).astype(int), tr.lengths)  # core's visibility: the track's own samples
    assert processed.shape == (L, N, 4)
    assert torch.allclose(processed[:, 0, 0], torch.linspace(-1, 1, SAMPLES)[core_sample_index(L)])
    short = min(tr.width, tr.height)
    want = (torch.from_numpy(tr.xy).float() - torch.tensor([tr.width / 2, tr.height / 2])) / short * 2
    read = processed[..., 1:3].permute(1, 0, 2)
    core_vis = processed[..., 3].T > 0
    assert torch.equal(core_vis, torch.from_numpy(np.cumprod(tr.visible, axis=1).astype(bool)))
    assert torch.allclose(read[core_vis], want[core_vis], atol=2e-3)  # the 3-decimal JSON
    lat = (L - 1) // 4 + 1
    assert res["concat_mask"].shape == (1, 4, lat, H // 8, W // 8)
    assert res["concat_latent_image"].shape == (1, 16, lat, H // 8, W // 8)
    assert res["concat_mask"][:, :, 1:].min() < 1  # the tracks pull the first frame's features along
    assert info["model_config"] == "WAN21_I2V"
    assert res["decoded"].shape == (L, H, W, 3) and torch.isfinite(res["decoded"]).all()


# -- through the real server -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo(comfy_server) -> str:
    """A real photograph (scikit-image's astronaut) uploaded to the test server."""
    return upload_astronaut(comfy_server.client(), 160)


@pytest.fixture(scope="module")
def box_depth(comfy_server) -> str:
    """A depth map as an image, bright = far: a wall with a near box in the middle."""
    d = np.full((H, W), 255, dtype=np.uint8)
    d[BOX] = 40
    buf = _io.BytesIO()
    Image.fromarray(d).save(buf, format="PNG")
    return comfy_server.client().upload_image("wall_box_depth.png", buf.getvalue())


def _graph(photo: str, depth_image: str, preset: str, **tracks) -> dict:
    traj = {"preset": preset, "frames": 17, "fps": 24.0, "width": W, "height": H, "strength": 1.0,
            "easing": "linear", "fov_deg": 50.0, "shake": 0.0, "seed": 0, "strength_mode": "manual",
            "size": "width x height"}
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "2": {"class_type": "LoadImage", "inputs": {"image": depth_image}},
        "3": {"class_type": "DTV_DepthFromImage", "inputs": {"image": link("2"), "kind": "depth", "near": 0.5,
                                                               "far": 10.0}},
        "4": {"class_type": "DTV_CameraTrajectory", "inputs": {**traj, "depth": link("3")}},
        "5": {"class_type": "DTV_WanTracks", "inputs": {"image": link("1"), "depth": link("3"),
                                                          "trajectory": link("4"), **tracks}},
        "6": {"class_type": "PreviewAny", "inputs": {"source": link("5")}},
        "7": {"class_type": "SaveImage", "inputs": {"images": link("5", 1), "filename_prefix": "dtv/ati_start"}},
        "8": {"class_type": "PreviewAny", "inputs": {"source": link("5", 2)}},
        "9": {"class_type": "PreviewAny", "inputs": {"source": link("5", 3)}},
        "10": {"class_type": "PreviewAny", "inputs": {"source": link("5", 4)}},
        "11": {"class_type": "SaveImage", "inputs": {"images": link("5", 5), "filename_prefix": "dtv/ati_preview"}},
        "12": {"class_type": "PreviewAny", "inputs": {"source": link("5", 6)}},
    }


def _run(comfy, photo, depth_image, preset, **tracks) -> dict:
    client = comfy.client()
    out = client.run(_graph(photo, depth_image, preset, **tracks), timeout=600).outputs
    images = {k: np.asarray(Image.open(_io.BytesIO(client.view(output_items({n: out[n]})[0])))) for k, n in
              (("start", "7"), ("preview", "11"))}
    return {"tracks": preview_json(out, "6"), "width": int(preview_text(out, "8")),
            "height": int(preview_text(out, "9")), "length": int(preview_text(out, "10")),
            "note": preview_text(out, "12"), **images}


def _xy(tracks: list) -> list[np.ndarray]:
    return [np.array([[p["x"], p["y"]] for p in t]) for t in tracks]


def test_node_static_and_pan_through_the_server(comfy, photo, box_depth):
    grid = {"sampling": "grid", "max_points": 48, "occlusion": True}
    static = _run(comfy, photo, box_depth, "static", **grid)
    assert (static["width"], static["height"], static["length"]) == (W, H, 17)
    assert static["start"].shape == (H, W, 3) and static["preview"].shape == (H, W, 3)
    n = len(static["tracks"])
    assert 40 <= n <= 48 and f"{n} tracks over 17 frames at {W}x{H}" in static["note"]
    for t in _xy(static["tracks"]):
        assert len(t) == SAMPLES and np.abs(t - t[0]).max() == 0
    pan = _run(comfy, photo, box_depth, "pan_right", **grid)
    moved = [t for t in _xy(pan["tracks"]) if len(t) > 2]
    assert len(moved) >= 20
    for t in moved:
        assert (np.diff(t[:, 0]) <= 1e-9).all() and t[-1, 0] < t[0, 0]  # the OpenCV pan right: scene goes left


def test_node_ends_tracks_behind_the_box_through_the_server(comfy, photo, box_depth):
    args = {"sampling": "grid", "max_points": 160}
    hidden = _run(comfy, photo, box_depth, "truck_right", occlusion=True, **args)
    free = _run(comfy, photo, box_depth, "truck_right", occlusion=False, **args)
    a, b = _xy(hidden["tracks"]), _xy(free["tracks"])
    assert len(a) == len(b)
    shorter = [i for i in range(len(a)) if len(a[i]) < len(b[i])]
    assert shorter, (hidden["note"], free["note"])
    for i in shorter:  # on the wall, just left of the box, which the truck right slides over them
        x0, y0 = a[i][0]
        assert x0 < 60.5 and 29.5 <= y0 <= 66.5, (x0, y0)
    assert "end early" in hidden["note"]


def test_node_refuses_a_length_core_cannot_take(comfy, photo, box_depth):
    g = _graph(photo, box_depth, "truck_right", sampling="grid", max_points=8, occlusion=True)
    g["4"]["inputs"]["frames"] = 121
    with pytest.raises(ComfyError) as err:
        comfy.client().run({k: g[k] for k in ("1", "2", "3", "4", "5", "6")}, timeout=300)
    assert "use 117 or 125 frames" in str(err.value) and "\n" not in str(err.value)
