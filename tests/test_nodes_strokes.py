"""The stroke input and intent nodes through the real ComfyUI server."""

from __future__ import annotations

import json

import numpy as np
import pytest

from draw_to_video.cli.client import ComfyError

from graphs import link, preview_json, preview_text


def _circle_json(seed: int) -> str:
    a = np.linspace(0, 2 * np.pi * 1.05, 80)
    pts = [[500 + 150 * np.cos(t), 300 + 150 * np.sin(t), i * 16.0 + seed] for i, t in enumerate(a)]
    return json.dumps({"version": 1, "canvas": {"width": 1000, "height": 600},
                       "strokes": [{"points": pts, "role": "camera"}]})


def test_stroke_and_intent_nodes_run(comfy):
    prompt = {
        "1": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": _circle_json(1)}},
        "2": {"class_type": "DTV_IntentAnalysis", "inputs": {"strokes": link("1")}},
        "3": {"class_type": "PreviewAny", "inputs": {"source": link("2", 3)}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": link("2", 1)}},
        "5": {"class_type": "PreviewAny", "inputs": {"source": link("1", 1)}},
    }
    out = comfy.client().run(prompt, timeout=120).outputs
    report = preview_json(out, "3")
    assert report["intent"] == "circle" == preview_text(out, "4")
    assert report["clockwise"] is True  # angle increases with y down: clockwise on screen
    assert json.loads(preview_text(out, "5"))["canvas"] == {"width": 1000, "height": 600}


@pytest.mark.parametrize("bad, fragment", [
    ("{not json", "JSON"),
    (json.dumps({"version": 1, "canvas": {"width": 10, "height": 10}, "strokes": []}), "camera"),
    (json.dumps({"version": 1, "canvas": {"width": -1, "height": 10}, "strokes": []}), "width"),
])
def test_bad_strokes_rejected_at_validation_with_one_line(comfy, bad, fragment):
    prompt = {
        "1": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": bad}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": link("1", 1)}},
    }
    with pytest.raises(ComfyError) as err:
        comfy.client().queue(prompt)
    assert err.value.status == 400
    details = json.dumps(err.value.details)
    assert fragment in details
    node_errors = err.value.details["node_errors"]["1"]["errors"]
    assert all("\n" not in e["details"] for e in node_errors)
    # the server stays up and still runs good prompts
    assert comfy.client().get_json("/system_stats")["system"]["comfyui_version"] == "0.3.75"


def test_the_move_picked_on_the_stroke_node_drives_a_trajectory_left_on_auto(comfy):
    traj = {"preset": "auto", "frames": 5, "fps": 24.0, "width": 320, "height": 192, "strength": 0.5,
            "easing": "linear", "fov_deg": 50.0, "shake": 0.0, "seed": 0}
    prompt = {
        "1": {"class_type": "DTV_StrokeInput", "inputs": {"strokes": _circle_json(7), "preset": "spiral_zoom"}},
        "2": {"class_type": "DTV_CameraTrajectory", "inputs": {**traj, "strokes": link("1")}},
        "3": {"class_type": "DTV_CameraTrajectory", "inputs": {**traj, "preset": "dolly_in", "strokes": link("1")}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": link("2", 1)}},
        "5": {"class_type": "PreviewAny", "inputs": {"source": link("3", 1)}},
        "6": {"class_type": "PreviewAny", "inputs": {"source": link("1", 1)}},
    }
    out = comfy.client().run(prompt, timeout=120).outputs
    assert preview_json(out, "4")["preset"] == "spiral_zoom"  # auto follows the drawing node's pick
    assert preview_json(out, "5")["preset"] == "dolly_in"  # a preset chosen on the trajectory node wins
    assert preview_json(out, "6")["preset"] == "spiral_zoom"  # and the strokes JSON carries it
