"""The camera path over the photo (trajectory/camera/overlay.py): frame 0's footprint is the whole photo, a dolly in
shrinks the footprints towards the look-at point, an orbit keeps looking at the subject, and the drawing changes the
photo only where the path is."""

from __future__ import annotations

import json

import numpy as np
import pytest

from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory
from draw_to_video.trajectory.camera.overlay import draw_overlay, project_overlay
from draw_to_video.trajectory.stroke.format import parse_strokes

from comfy_harness import REPO


@pytest.fixture(scope="module")
def strokes():
    return parse_strokes((REPO / "assets" / "demo_stroke.json").read_text(encoding="utf-8"))


def _traj(strokes, preset, w=768, h=512):
    return build_trajectory(strokes, ShotOptions(preset=preset, frames=25, width=w, height=h))


def test_first_footprint_is_the_photo_and_a_dolly_in_shrinks(strokes):
    t = _traj(strokes, "dolly_in")
    g = project_overlay(t, 1536, 1024)  # a photo twice the trajectory's size: K is rescaled
    assert np.allclose(g.footprints[0], [[-0.5, -0.5], [1535.5, -0.5], [1535.5, 1023.5], [-0.5, 1023.5]], atol=1.0)
    widths = g.footprints[:, 1, 0] - g.footprints[:, 0, 0]
    assert (np.diff(widths) < 0).all() and g.frames[0] == 0 and g.frames[-1] == 24
    assert np.allclose(g.look_at[0], [767.5, 511.5], atol=1.0)


def test_orbit_looks_at_the_subject_and_drawing_stays_on_the_path(strokes):
    t = _traj(strokes, "orbit")
    g = project_overlay(t, 768, 512, footprints=3)
    assert len(g.frames) == 3
    assert np.nanmax(np.abs(g.look_at - g.look_at[0])) < 2.0  # the look-at point stays on the subject
    photo = np.full((512, 768, 3), 128, np.uint8)
    out = draw_overlay(photo, t)
    changed = (out != photo).any(axis=2)
    assert 0.002 < changed.mean() < 0.3 and out.dtype == np.uint8 and out.shape == photo.shape
    with pytest.raises(ValueError, match="RGB uint8"):
        draw_overlay(photo.astype(np.float32), t)
    assert json.dumps(g.frames.tolist())
