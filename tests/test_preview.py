"""preview_image (two-view diagram) and path_scribble (white path on black)."""

from __future__ import annotations

import numpy as np
import pytest

from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory
from draw_to_video.trajectory.camera.model import CameraTrajectory
from draw_to_video.trajectory.camera.preview import _PATH, _STROKE, path_scribble, preview_image
from draw_to_video.trajectory.stroke.format import make_stroke_set, parse_strokes
from draw_to_video.trajectory.stroke.prepare import prepare


def _has(img: np.ndarray, colour: tuple[int, int, int], tol: int = 10) -> int:
    return int((np.abs(img.astype(int) - np.array(colour)).max(axis=-1) <= tol).sum())


def test_preview_image_draws_path_frusta_and_labels() -> None:
    tr = build_trajectory(None, ShotOptions(preset="orbit", frames=49))
    img = preview_image(tr, size=(640, 320))
    assert img.shape == (320, 640, 3) and img.dtype == np.uint8
    assert _has(img, _PATH) > 100  # the camera path is drawn
    left, right = img[:, :320], img[:, 320:]
    assert _has(left, _PATH) > 30 and _has(right, _PATH) > 30  # in both views
    # the orbit swings sideways: wide in the top view; it stays level: flat in the side view
    ys_side = np.nonzero((np.abs(right.astype(int) - _PATH).max(axis=-1) <= 10))[0]
    xs_top = np.nonzero((np.abs(left.astype(int) - _PATH).max(axis=-1) <= 10))[1]
    assert np.ptp(xs_top) > 100 and np.ptp(ys_side) < 20
    assert (img != img[5, 5]).any(axis=-1).mean() > 0.02
    assert np.array_equal(img, preview_image(tr, size=(640, 320)))  # deterministic


def test_preview_with_stroke_and_differs_by_preset() -> None:
    ss = make_stroke_set(np.stack([np.linspace(100, 900, 50), 300 + 100 * np.sin(np.linspace(0, 3, 50))], -1),
                         1024, 576)
    tr = build_trajectory(ss, ShotOptions(preset="crane_up", frames=25))
    a = preview_image(tr, stroke=prepare(ss))
    assert _has(a, _STROKE) > 50
    b = preview_image(tr, stroke=np.array([[0.0, 0.0, 1.0], [0.5, 0.2, 1.2]]))
    assert _has(b, _STROKE) > 10
    assert not np.array_equal(a, preview_image(build_trajectory(None, ShotOptions(preset="dolly_in", frames=25))))
    one = preview_image(CameraTrajectory.static(64, 64, 1), size=(128, 96))
    assert one.shape == (96, 128, 3)


def test_preview_errors() -> None:
    tr = build_trajectory(None, ShotOptions(preset="static", frames=3))
    with pytest.raises(ValueError, match="size"):
        preview_image(tr, size=(10, 10))
    with pytest.raises(ValueError, match="size"):
        preview_image(tr, size="big")
    with pytest.raises(ValueError, match="CameraTrajectory"):
        preview_image({"frames": []})
    with pytest.raises(ValueError, match="stroke"):
        preview_image(tr, stroke=np.zeros((4, 2)))


def test_path_scribble() -> None:
    ss = parse_strokes({"version": 1, "canvas": {"width": 200, "height": 100}, "strokes": [
        {"points": [[20, 50], [180, 50]]},
        {"points": [[100, 10], [100, 30]], "role": "subject"},
        {"points": [[50, 80], [150, 80]]},
    ]})
    img = path_scribble(ss, 400, 200, thickness=3)
    assert img.shape == (200, 400) and img.dtype == np.float32
    assert img.min() == 0.0 and img.max() == 1.0
    assert img[100, 100:300].min() > 0.9  # canvas y 50 -> image row 99.5, x 20..180 -> 39.5..359.5
    assert img[160, 110:290].min() > 0.9  # the second camera stroke
    assert img[20:60, 195:205].max() == 0.0  # the subject stroke is not drawn
    assert img[0:80, :].max() == 0.0
    thin = path_scribble(ss, 400, 200, thickness=1)
    assert thin.sum() < img.sum()
    with pytest.raises(ValueError):
        path_scribble(ss, 0, 10)
    with pytest.raises(ValueError):
        path_scribble(ss, 10, 10, thickness=0)
