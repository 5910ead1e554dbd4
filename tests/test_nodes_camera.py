"""Camera, depth, render and pose nodes through the real ComfyUI server."""

from __future__ import annotations

import io as _io
import itertools
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from draw_to_video.cli.client import ComfyError, output_items
from draw_to_video.trajectory.camera.model import CameraTrajectory
from draw_to_video.trajectory.camera.presets import PRESET_NAMES
from draw_to_video.trajectory.stroke.format import DEDUP_EPS_PX, make_stroke_set

from graphs import CLEAR_ERRORS, error_type, link, preview_json, preview_text, upload_astronaut

_counter = itertools.count(1)


def _circle_json(w=640, h=360) -> str:
    a = np.linspace(0, 2.1 * np.pi, 70)
    return make_stroke_set(np.c_[w / 2 + 100 * np.cos(a), h / 2 + 80 * np.sin(a)], w, h).to_json()


@pytest.fixture(scope="module")
def photo(comfy_server) -> str:
    """A real photograph (scikit-image's astronaut) uploaded to the test server."""
    return upload_astronaut(comfy_server.client(), 160)


def _traj_node(**kw) -> dict:
    inputs = {"preset": "auto", "frames": 9, "fps": 24.0, "width": 160, "height": 96, "strength": 1.0,
              "easing": "ease_in_out", "fov_deg": 50.0, "shake": 0.0, "seed": next(_counter)}
    inputs.update(kw)
    return {"class_type": "DTV_CameraTrajectory", "inputs": inputs}


def test_trajectory_from_stroke_intent_and_fallback_depth_then_render(comfy, photo):
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "2": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": _circle_json(), "preset": "auto"}},
        "3": {"class_type": "DTV_IntentAnalysis", "inputs": {"strokes": link("2")}},
        "4": {"class_type": "DTV_FallbackDepth", "inputs": {"image": link("1"), "horizon": 0.45,
                                                            "subject_size": 0.22}},
        "5": _traj_node(strokes=link("2"), intent=link("3"), depth=link("4"), strength=0.3),
        "6": {"class_type": "DTV_Render25D", "inputs": {"image": link("1"), "depth": link("4"),
                                                        "trajectory": link("5"), "fill": "background", "chunk": 4}},
        "7": {"class_type": "SaveImage", "inputs": {"images": link("6"), "filename_prefix": "dtv/render"}},
        "8": {"class_type": "PreviewAny", "inputs": {"source": link("5", 1)}},
        "9": {"class_type": "PreviewAny", "inputs": {"source": link("4", 2)}},
        "10": {"class_type": "DTV_TrajectoryPreview", "inputs": {"trajectory": link("5"), "size": 128,
                                                                  "strokes": link("2")}},
        "11": {"class_type": "SaveImage", "inputs": {"images": link("10"), "filename_prefix": "dtv/preview"}},
        "12": {"class_type": "MaskToImage", "inputs": {"mask": link("6", 1)}},
        "13": {"class_type": "SaveImage", "inputs": {"images": link("12"), "filename_prefix": "dtv/visible"}},
    }
    client = comfy.client()
    out = client.run(prompt, timeout=300).outputs
    summary = preview_json(out, "8")
    assert summary["preset"] == "orbit" and summary["intent"] == "circle" and summary["frames"] == 9
    assert "approximate" in preview_text(out, "9")
    frames = [np.asarray(Image.open(_io.BytesIO(client.view(i)))) for i in output_items({"7": out["7"]})]
    assert len(frames) == 9 and frames[0].shape == (96, 160, 3)
    src = np.asarray(Image.open(comfy.base / "input" / photo).convert("RGB")).astype(float)
    assert np.abs(frames[0].astype(float) - src).mean() < 2.0  # frame 0 is the source view
    assert np.abs(frames[-1].astype(float) - src).mean() > 2.0  # the camera moved
    vis = [np.asarray(Image.open(_io.BytesIO(client.view(i)))) for i in output_items({"13": out["13"]})]
    assert vis[0].min() == 255 and vis[-1].min() == 0  # frame 0 fully seen; later frames have disocclusions
    prev = np.asarray(Image.open(_io.BytesIO(client.view(output_items({"11": out["11"]})[0]))))
    assert prev.shape == (128, 256, 3) and prev.std() > 5


def test_pose_exports_load_and_save(comfy):
    traj_json = {"class_type": "DTV_CameraTrajectory"}
    prompt = {
        "1": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": _circle_json(), "preset": "auto"}},
        "2": _traj_node(strokes=link("1"), frames=9, preset="arc_left"),
        "3": {"class_type": "DTV_ExportCameraCtrl", "inputs": {"trajectory": link("2"), "pose_size": "trajectory"}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": link("3", 0)}},
        "5": {"class_type": "DTV_LoadTrajectory", "inputs": {"text": link("3", 1), "format": "re10k", "width": 160,
                                                             "height": 96, "fps": 24.0, "fov_deg": 50.0}},
        "6": {"class_type": "DTV_SaveTrajectory", "inputs": {"trajectory": link("5"), "format": "json",
                                                             "filename_prefix": "dtv/traj"}},
        "7": {"class_type": "DTV_ExportMotionCtrl", "inputs": {"trajectory": link("2")}},
        "8": {"class_type": "PreviewAny", "inputs": {"source": link("7")}},
        "9": {"class_type": "DTV_WanCameraEmbedding", "inputs": {"trajectory": link("2"), "exact_intrinsics": False}},
        "10": {"class_type": "PreviewAny", "inputs": {"source": link("9", 3)}},
        "11": {"class_type": "DTV_SaveTrajectory", "inputs": {"trajectory": link("2"), "format": "json",
                                                              "filename_prefix": "dtv/orig"}},
    }
    del traj_json
    out = comfy.client().run(prompt, timeout=300).outputs
    poses = json.loads(preview_text(out, "4"))
    assert len(poses) == 9 and all(len(r) == 19 for r in poses)
    assert np.asarray(json.loads(preview_text(out, "8"))).shape == (9, 12)
    assert preview_text(out, "10") == "9"
    saved = out["6"]["trajectory"][0]
    orig = out["11"]["trajectory"][0]
    back = CameraTrajectory.from_json((comfy.base / "output" / saved["subfolder"] / saved["filename"]).read_text())
    ref = CameraTrajectory.from_json((comfy.base / "output" / orig["subfolder"] / orig["filename"]).read_text())
    np.testing.assert_allclose(back.world_T_cam, ref.world_T_cam, atol=1e-6)
    np.testing.assert_allclose(back.K, ref.K, atol=1e-6)


def test_path_scribble_node(comfy):
    prompt = {
        "1": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": _circle_json(), "preset": "auto"}},
        "2": {"class_type": "DTV_PathScribble", "inputs": {"strokes": link("1"), "width": 320, "height": 180,
                                                           "thickness": next(_counter) % 5 + 2}},
        "3": {"class_type": "SaveImage", "inputs": {"images": link("2"), "filename_prefix": "dtv/scribble"}},
    }
    client = comfy.client()
    out = client.run(prompt, timeout=120).outputs
    img = np.asarray(Image.open(_io.BytesIO(client.view(output_items(out)[0]))))
    assert img.shape == (180, 320, 3) and img.max() == 255 and (img == 0).mean() > 0.8


def test_wan_node_rejects_wrong_frame_count_with_one_line(comfy):
    prompt = {
        "1": _traj_node(frames=10),
        "2": {"class_type": "DTV_WanCameraEmbedding", "inputs": {"trajectory": link("1"), "exact_intrinsics": True}},
        "3": {"class_type": "PreviewAny", "inputs": {"source": link("2", 3)}},
    }
    with pytest.raises(ComfyError) as err:
        comfy.client().run(prompt, timeout=120)
    assert "4k+1" in str(err.value) and "\n" not in str(err.value)


_stroke_text = st.one_of(
    st.builds(lambda pts: make_stroke_set(np.asarray(pts, float), 400, 300).to_json(),
              st.lists(st.tuples(st.floats(-50, 450), st.floats(-50, 350)), min_size=2, max_size=60)
              .filter(lambda p: np.abs(np.asarray(p) - p[0]).max() > DEDUP_EPS_PX)),  # the validator's "distinct"
    st.just(_circle_json()),
    st.text(max_size=40),
    st.builds(json.dumps, st.dictionaries(st.sampled_from(["version", "canvas", "strokes"]),
                                          st.integers(-3, 3) | st.none() | st.lists(st.integers(), max_size=3))),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(preset=st.sampled_from(PRESET_NAMES), frames=st.integers(1, 40), strength=st.floats(0, 5),
       width=st.integers(16, 400), height=st.integers(16, 400), fov=st.floats(10, 120),
       easing=st.sampled_from(["linear", "ease_in_out", "ease_out"]), stroke=st.none() | _stroke_text)
def test_stroke_and_camera_nodes_property(comfy, preset, frames, strength, width, height, fov, easing, stroke):
    """Every stroke/camera/pose node on arbitrary widget values and stroke text: a correct result, a 400 at
    validation, or a clear one-line error of the pack's own types; never a crash or NaN; the server stays up."""
    nodes = {"2": _traj_node(preset=preset, frames=frames, strength=strength, width=width, height=height,
                             fov_deg=fov, easing=easing),
             "3": {"class_type": "PreviewAny", "inputs": {"source": link("2", 1)}},
             "4": {"class_type": "DTV_TrajectoryPreview", "inputs": {"trajectory": link("2"), "size": 128}},
             "5": {"class_type": "PreviewAny", "inputs": {"source": link("4")}},
             "6": {"class_type": "DTV_ExportCameraCtrl", "inputs": {"trajectory": link("2"), "pose_size": "1280x720"}},
             "7": {"class_type": "PreviewAny", "inputs": {"source": link("6", 1)}},
             "8": {"class_type": "DTV_ExportMotionCtrl", "inputs": {"trajectory": link("2")}},
             "9": {"class_type": "PreviewAny", "inputs": {"source": link("8")}}}
    if frames % 4 == 1:
        nodes["10"] = {"class_type": "DTV_WanCameraEmbedding", "inputs": {"trajectory": link("2"),
                                                                          "exact_intrinsics": False}}
        nodes["11"] = {"class_type": "PreviewAny", "inputs": {"source": link("10", 3)}}
    if stroke is not None:
        nodes["1"] = {"class_type": "DTV_StrokeInput", "inputs": {"strokes": stroke, "preset": "auto"}}
        nodes["12"] = {"class_type": "DTV_IntentAnalysis", "inputs": {"strokes": link("1")}}
        nodes["13"] = {"class_type": "PreviewAny", "inputs": {"source": link("12", 3)}}
        nodes["14"] = {"class_type": "DTV_PathScribble", "inputs": {"strokes": link("1"), "width": 64, "height": 48,
                                                                    "thickness": 2}}
        nodes["15"] = {"class_type": "PreviewAny", "inputs": {"source": link("14")}}
        nodes["2"]["inputs"].update(strokes=link("1"), intent=link("12"))
    client = comfy.client()
    try:
        out = client.run(nodes, timeout=120).outputs
    except ComfyError as exc:
        if exc.status == 400:  # refused at validation: only malformed stroke text may cause that
            assert stroke is not None and "strokes" in json.dumps(exc.details["node_errors"]["1"])
        else:
            assert "\n" not in str(exc) and error_type(exc.details) in CLEAR_ERRORS, (str(exc), error_type(exc.details))
        assert client.get_json("/system_stats")
        return
    s = preview_json(out, "3")
    assert (s["frames"], s["width"], s["height"]) == (frames, width, height)
    assert np.isfinite(s["travel"]) and 10 - 1e-6 <= s["fov_y_deg"][0] <= s["fov_y_deg"][1] <= 120 + 1e-6
    re10k = preview_text(out, "7").strip().splitlines()[1:]
    assert len(re10k) == frames and np.isfinite(np.asarray([r.split() for r in re10k], float)).all()
    assert np.isfinite(np.asarray(json.loads(preview_text(out, "9")), float)).all()
    if stroke is not None:
        assert preview_json(out, "13")["intent"] == s["intent"]


def test_bullet_time_and_camera_aware_interpolate_nodes(comfy, photo):
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "2": {"class_type": "DTV_FallbackDepth", "inputs": {"image": link("1"), "horizon": 0.45, "subject_size": 0.3}},
        "3": _traj_node(preset="truck_right", frames=5, strength=0.3),
        "4": {"class_type": "DTV_Render25D", "inputs": {"image": link("1"), "depth": link("2"), "trajectory": link("3"),
                                                        "fill": "background", "chunk": 4}},
        "5": _traj_node(preset="bullet_time", frames=4, strength=0.3),
        "6": {"class_type": "DTV_BulletTime", "inputs": {"images": link("4"), "depth": link("2"), "trajectory": link("5"),
                                                         "at": 2, "round_trip": True, "fill": "background"}},
        "7": {"class_type": "SaveImage", "inputs": {"images": link("6"), "filename_prefix": "dtv/bullet"}},
        "8": {"class_type": "DTV_CameraAwareInterpolate", "inputs": {"images": link("4"), "source_image": link("1"),
                                                                      "depth": link("2"), "trajectory": link("3"),
                                                                      "multiplier": 2}},
        "9": {"class_type": "SaveImage", "inputs": {"images": link("8"), "filename_prefix": "dtv/caint"}},
        "10": {"class_type": "SaveImage", "inputs": {"images": link("4"), "filename_prefix": "dtv/src"}},
    }
    client = comfy.client()
    out = client.run(prompt, timeout=300).outputs
    load = lambda node: [np.asarray(Image.open(_io.BytesIO(client.view(i)))) for i in output_items({node: out[node]})]  # noqa: E731
    src, bullet, inter = load("10"), load("7"), load("9")
    assert len(bullet) == 5 + 4 + 3 and len(inter) == 9
    assert np.array_equal(bullet[2], src[2]) and np.array_equal(bullet[-1], src[4])
    assert all(np.array_equal(inter[2 * i], src[i]) for i in range(5))  # originals pass through


def test_draw_to_video_25d_convenience_node(comfy, photo):
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "2": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": _circle_json(160, 96), "preset": "auto"}},
        "3": {"class_type": "DTV_DrawToVideo25D", "inputs": {"image": link("1"), "strokes": link("2"), "preset": "auto",
                                                             "frames": 6, "fps": 24.0, "strength": 0.3,
                                                             "easing": "linear", "fov_deg": 50.0}},
        "4": {"class_type": "SaveImage", "inputs": {"images": link("3"), "filename_prefix": "dtv/conv"}},
        "5": {"class_type": "PreviewAny", "inputs": {"source": link("3", 3)}},
    }
    for k, ss in (("6", 1), ("7", 2)):  # the widget's default is 2; a prompt that leaves it out keeps 1
        prompt[k] = {**prompt["3"], "inputs": {**prompt["3"]["inputs"], "supersample": ss}}
        prompt[f"s{k}"] = {"class_type": "SaveImage", "inputs": {"images": link(k), "filename_prefix": f"dtv/conv{k}"}}
    client = comfy.client()
    out = client.run(prompt, timeout=300).outputs

    def saved(k: str) -> np.ndarray:
        return np.stack([np.asarray(Image.open(_io.BytesIO(client.view(i)))) for i in output_items({k: out[k]})])

    frames = saved("4")
    assert len(frames) == 6 and frames[0].shape == (96, 160, 3)
    assert "approximate" in preview_text(out, "5")
    assert np.array_equal(saved("s6"), frames)
    diff = np.abs(saved("s7").astype(int) - frames).mean(axis=(1, 2, 3))
    assert diff.min() > 0.05 and diff.max() < 8, diff  # the same shot, resampled finer


def test_strength_auto_budget_and_image_size(comfy, photo):
    """Issue 18 part 2 / issue 15 item 1: strength auto limits the orbit within the budget and the summary says so;
    manual keeps the strength and warns; a looser budget allows more; size follows the connected image."""
    base = {"strokes": link("1"), "preset": "orbit", "frames": 9}
    prompt = {
        "1": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": _circle_json(), "preset": "auto"}},
        "0": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "2": _traj_node(**base, strength_mode="auto", coverage_budget=0.03),
        "3": _traj_node(**base, strength_mode="manual", coverage_budget=0.03),
        "4": _traj_node(**base, strength_mode="auto", coverage_budget=0.3),
        "5": _traj_node(**base, image=link("0"), size="image, long side 512"),
        "6": _traj_node(**base, image=link("0"), size="width x height"),
    }
    for k in ("2", "3", "4", "5", "6"):
        prompt[f"p{k}"] = {"class_type": "PreviewAny", "inputs": {"source": link(k, 1)}}
    out = comfy.client().run(prompt, timeout=300).outputs
    auto, manual, loose = (preview_json(out, f"p{k}") for k in ("2", "3", "4"))
    assert auto["strength_mode"] == "auto" and auto["limited"] and auto["strength"] < 1.0
    assert auto["worst_uncovered"] <= 0.03 and auto["coverage_budget"] == 0.03
    assert "strength auto limited the move" in auto["note"] and "arc" in auto["note"]
    assert manual["strength"] == 1.0 and not manual["limited"] and manual["note"].startswith("WARNING")
    assert loose["strength"] > auto["strength"] and loose["coverage_budget"] == 0.3
    sized, fixed = preview_json(out, "p5"), preview_json(out, "p6")
    assert (sized["width"], sized["height"]) == (512, 304)  # 160x96 photo at long side 512, multiples of 16
    assert (fixed["width"], fixed["height"]) == (160, 96)
    # a graph without the new inputs keeps its old behaviour: exactly the strength, width x height
    legacy = comfy.client().run({"1": prompt["1"], "2": _traj_node(**base),
                                 "p": {"class_type": "PreviewAny", "inputs": {"source": link("2", 1)}}},
                                timeout=300).outputs
    assert "strength_mode" not in preview_json(legacy, "p") or preview_json(legacy, "p")["strength"] == 1.0


def test_seed_inputs_are_fixed_by_default(comfy):
    """Issue 15 item 7: no DTV_ seed randomises after each run (re-queuing hits the cache)."""
    info = comfy.client().get_json("/object_info")
    seeds = [(name, spec) for name, node in info.items() if name.startswith("DTV_")
             for group in ("required", "optional") for iname, spec in node["input"].get(group, {}).items()
             if iname in ("seed", "noise_seed")]
    assert seeds
    for name, spec in seeds:
        assert spec[1].get("control_after_generate") is False, name
