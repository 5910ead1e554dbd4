"""What a rendered shot looks like, in numbers: the measures of a finished 2.5D frame (issue 18).

All take boolean ``covered [F,H,W]`` masks (``RenderResult.visible > 0`` of a ``fill="none"`` render: what some
source point covers) and return one fraction per frame, as float64 numpy ``[F]``:

* :func:`uncovered_fraction`: share of the frame that no source point covers;
* :func:`stray_fraction`: stray points (flying pixels), covered pixels with at least 5 of their 8 neighbours
  uncovered, as a share of the covered pixels;
* :func:`pinhole_fraction`: cracks, uncovered pixels with at most one uncovered neighbour, as a share of the frame;
* :func:`stretch_fraction`: pixels magnified more than ``limit`` times (rubber), from a render of the source
  pixel coordinates (:func:`coordinate_channels`), as a share of the frame.

Neighbours outside the frame count as neither covered nor uncovered (a pixel on the border has fewer than 8).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

_RING = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def _count8(mask: torch.Tensor) -> torch.Tensor:
    """Per pixel, how many of its 8 neighbours are set (``[F,H,W]`` bool -> float32 counts)."""
    x = mask.to(torch.float32)[:, None]
    return F.conv2d(F.pad(x, (1, 1, 1, 1)), _RING.to(x.device)[None, None])[:, 0]


def _per_frame(num: torch.Tensor, den: torch.Tensor) -> np.ndarray:
    n, d = num.flatten(1).sum(1).double(), den.flatten(1).sum(1).double()
    return (n / d.clamp_min(1.0)).cpu().numpy()


def uncovered_fraction(covered: torch.Tensor) -> np.ndarray:
    return _per_frame(~covered, torch.ones_like(covered))


def stray_mask(covered: torch.Tensor) -> torch.Tensor:
    """Covered pixels with at least 5 of their 8 neighbours uncovered."""
    return covered & (_count8(~covered) >= 5)


def stray_fraction(covered: torch.Tensor) -> np.ndarray:
    return _per_frame(stray_mask(covered), covered)


def pinhole_mask(covered: torch.Tensor) -> torch.Tensor:
    """Uncovered pixels with at most one uncovered neighbour."""
    return ~covered & (_count8(~covered) <= 1)


def pinhole_fraction(covered: torch.Tensor) -> np.ndarray:
    return _per_frame(pinhole_mask(covered), torch.ones_like(covered))


def coordinate_channels(height: int, width: int) -> torch.Tensor:
    """``[2,H,W]`` source pixel coordinates ``(u, v)`` scaled to 0..1: render them as extra image channels (bilinear
    sampling is exact on ramps) to learn where every target pixel reads the source."""
    v, u = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                          indexing="ij")
    return torch.stack([u / max(width - 1, 1), v / max(height - 1, 1)])


def stretch_fraction(coords: torch.Tensor, covered: torch.Tensor, src_hw: tuple[int, int],
                     limit: float = 2.0) -> np.ndarray:
    """Share of the frame magnified more than ``limit`` times: ``coords [F,2,H,W]`` is the render of
    :func:`coordinate_channels` for a ``src_hw`` source. The local derivative ``G`` of source position by target
    position (forward differences between covered pixels) has smallest singular value ``1 / magnification``;
    jumps across depth edges make ``G`` large, so they never count as stretch."""
    h, w = src_hw
    uv = torch.stack([coords[:, 0] * max(w - 1, 1), coords[:, 1] * max(h - 1, 1)], 1)
    a, c = uv[:, 0, :-1, 1:] - uv[:, 0, :-1, :-1], uv[:, 1, :-1, 1:] - uv[:, 1, :-1, :-1]  # d/dx
    b, d = uv[:, 0, 1:, :-1] - uv[:, 0, :-1, :-1], uv[:, 1, 1:, :-1] - uv[:, 1, :-1, :-1]  # d/dy
    ok = covered[:, :-1, :-1] & covered[:, :-1, 1:] & covered[:, 1:, :-1]
    s2 = a * a + b * b + c * c + d * d
    det = a * d - b * c
    smin = torch.sqrt((0.5 * (s2 - torch.sqrt((s2 * s2 - 4 * det * det).clamp_min(0)))).clamp_min(0))
    big = ok & (smin * limit < 1.0)
    return _per_frame(big, torch.ones_like(covered))
