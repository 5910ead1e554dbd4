"""The shared library checks: check_shape (the one shape helper) and the cancel poll."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from draw_to_video.trajectory.checks import Cancelled, ShapeError, check_shape, poll
from draw_to_video.trajectory.render.warp import RenderError


def test_binds_names_and_checks_numbers() -> None:
    assert check_shape(torch.zeros(4, 5, 6, 3), "F H W 3", "images") == {"F": 4, "H": 5, "W": 6}
    assert check_shape(np.zeros((2, 7, 3, 3)), "* 3 3", "K") == {}
    assert check_shape(np.zeros((3, 3)), "* 3 3", "K") == {}
    assert check_shape(np.zeros((2, 8, 8, 4)), "F H W 3|4", "frames")["F"] == 2


@pytest.mark.parametrize(("shape", "spec", "message"), [
    ((4, 5), "F H W 3", "images must be [F,H,W,3], got [4,5]"),
    ((4, 5, 6, 2), "F H W 3", "images must be [F,H,W,3], got [4,5,6,2]"),
    ((4, 5, 6), "N N 6", "images must be [N,N,6], got [4,5,6]"),
    ((3,), "* 3 3", "images must be [*,3,3], got [3]"),
])
def test_mismatch_is_one_line(shape: tuple, spec: str, message: str) -> None:
    with pytest.raises(ShapeError) as e:
        check_shape(np.zeros(shape), spec, "images")
    assert str(e.value) == message


def test_bound_sizes_and_error_class() -> None:
    sizes = check_shape(torch.zeros(2, 4, 3, 3), "F C h w", "target")
    with pytest.raises(RenderError, match=r"mask must be \[F,1,h,w\] with F=2, h=3, w=3, got \[3,1,3,3\]"):
        check_shape(torch.zeros(3, 1, 3, 3), "F 1 h w", "mask", bound=sizes, error=RenderError)
    with pytest.raises(ShapeError, match="must be an array or tensor"):
        check_shape([1, 2, 3], "N", "points")


@given(st.lists(st.integers(1, 6), min_size=1, max_size=5), st.lists(st.integers(1, 6), min_size=1, max_size=5))
def test_matches_exactly_the_stated_shape(shape: list[int], spec: list[int]) -> None:
    x = np.zeros(shape)
    if shape == spec:
        assert check_shape(x, " ".join(map(str, spec)), "x") == {}
    else:
        with pytest.raises(ShapeError):
            check_shape(x, " ".join(map(str, spec)), "x")


def test_poll() -> None:
    poll(None, "render")
    poll(lambda: False, "render")
    with pytest.raises(Cancelled, match="render cancelled"):
        poll(lambda: True, "render")
