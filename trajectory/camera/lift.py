"""Lift a drawn stroke into the scene of the source camera (world = source camera, see :mod:`draw_to_video.trajectory.conventions`).

Canvas pixels are continuous coordinates with the canvas spanning ``[0, Wc] x [0, Hc]`` (the browser's
canvas); the canvas shows the whole source photo (the widget's canvas takes its size; by default the photo is taken
to be the canvas), and a ``W x H`` frame shows the photo as ComfyUI's centre crop does
(:func:`~draw_to_video.trajectory.conventions.centre_crop` cuts ``x0, y0`` photo pixels from each side, ``c0`` in
canvas pixels), so a canvas point maps to the frame pixel ``u = (x - c0) * W / (Wc - 2 c0) - 0.5`` (pixel centres
at integers, as in the conventions), likewise ``v``.

* With a depth map (``[Hd, Wd]`` z-depth in scene units, any resolution of the whole image), each point's depth is
  sampled bilinearly at the point scaled to the map (``x * Wd / Wc - 0.5``, clamped at the border). Invalid
  texels (non-finite or ``<= 0``) are left out of the bilinear weights; a point with no valid texel
  around it takes the median of the valid samples; no valid sample at all is a ``ValueError``.
* Without one the stroke lies on the fronto-parallel plane ``z = plane_depth``
  (:data:`DEFAULT_SUBJECT_DEPTH` by default).

Each point is then unprojected with ``K``: ``X = z * K^-1 [u, v, 1]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..conventions import DEFAULT_SUBJECT_DEPTH, centre_crop


def canvas_to_pixels(xy_canvas: np.ndarray, canvas_wh: tuple[int, int], width: int, height: int,
                     photo_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Canvas points ``[n, 2]`` -> pixel coordinates ``[n, 2]`` of a ``width x height`` frame that shows the
    canvas's photo (of size ``photo_wh``, default the canvas's; centre-cropped to the frame's aspect, see the module
    docstring)."""
    xy = np.asarray(xy_canvas, dtype=np.float64)
    cw, ch = canvas_wh
    pw, ph = photo_wh or canvas_wh
    x0, y0 = centre_crop(int(pw), int(ph), int(width), int(height))
    cut = np.array([x0 * cw / pw, y0 * ch / ph])  # in canvas pixels
    return (xy - cut) * np.array([width / (cw - 2 * cut[0]), height / (ch - 2 * cut[1])]) - 0.5


def sample_depth(depth: np.ndarray, xy_canvas: np.ndarray, canvas_wh: tuple[int, int]) -> np.ndarray:
    """Bilinear depth ``[n]`` at canvas points (see the module docstring for invalid texels)."""
    try:
        D = np.asarray(depth, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("depth must be a numeric [H, W] array") from None
    if D.ndim == 3 and D.shape[0] == 1:
        D = D[0]
    if D.ndim != 2 or min(D.shape) < 1:
        raise ValueError(f"depth must be a [H, W] array, got shape {D.shape}")
    hd, wd = D.shape
    p = np.asarray(xy_canvas, dtype=np.float64) * np.array([wd / canvas_wh[0], hd / canvas_wh[1]]) - 0.5
    x = np.clip(p[:, 0], 0.0, wd - 1.0)
    y = np.clip(p[:, 1], 0.0, hd - 1.0)
    x0 = np.minimum(np.floor(x).astype(np.int64), wd - 1)
    y0 = np.minimum(np.floor(y).astype(np.int64), hd - 1)
    x1, y1 = np.minimum(x0 + 1, wd - 1), np.minimum(y0 + 1, hd - 1)
    fx, fy = x - x0, y - y0
    vals = np.stack([D[y0, x0], D[y0, x1], D[y1, x0], D[y1, x1]], axis=-1)
    wts = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], axis=-1)
    ok = np.isfinite(vals) & (vals > 0)
    wts = np.where(ok, wts, 0.0)
    wsum = wts.sum(axis=-1)
    good = wsum > 1e-12
    z = np.where(good, (np.where(ok, vals, 0.0) * wts).sum(axis=-1) / np.where(good, wsum, 1.0), np.nan)
    if not good.any():  # no valid texel next to any point: the median of the whole map's valid texels
        valid = D[np.isfinite(D) & (D > 0)]
        if valid.size == 0:
            raise ValueError("depth map has no finite positive value")
        return np.full(len(p), float(np.median(valid)))
    z[~good] = np.median(z[good])
    return z


def unproject(pixels: np.ndarray, z: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pixels ``[n, 2]`` at depths ``z [n]`` -> camera-frame points ``[n, 3]`` (``X = z K^-1 [u, v, 1]``)."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f"K must be [3, 3], got shape {K.shape}")
    p = np.asarray(pixels, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    x = (p[:, 0] - K[0, 2]) / K[0, 0]
    y = (p[:, 1] - K[1, 2]) / K[1, 1]
    return np.stack([x * z, y * z, z], axis=-1)


def lift_points(xy_canvas: np.ndarray, canvas_wh: tuple[int, int], K: np.ndarray, width: int, height: int,
                depth: np.ndarray | None = None, plane_depth: float = DEFAULT_SUBJECT_DEPTH,
                photo_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Lift canvas points ``[n, 2]`` to world points ``[n, 3]`` with the source camera ``K`` of a ``width x
    height`` frame that shows the photo (of size ``photo_wh``, default the canvas's; see the module docstring)."""
    xy = np.asarray(xy_canvas, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(xy).all():
        raise ValueError("stroke points must be finite")
    if depth is None:
        if not (np.isfinite(plane_depth) and plane_depth > 0):
            raise ValueError(f"plane_depth must be finite and > 0, got {plane_depth!r}")
        z = np.full(len(xy), float(plane_depth))
    else:
        z = sample_depth(depth, xy, canvas_wh)
    return unproject(canvas_to_pixels(xy, canvas_wh, width, height, photo_wh), z, K)


def lift(stroke: Any, K: np.ndarray, width: int, height: int, depth: np.ndarray | None = None,
         plane_depth: float = DEFAULT_SUBJECT_DEPTH, photo_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Lift a :class:`~draw_to_video.trajectory.stroke.prepare.PreparedStroke` (its ``xy_px`` on its canvas) ->
    ``[n, 3]``, as :func:`lift_points`: ``K`` is the source camera's intrinsics for the ``width x height`` frame
    (e.g. :func:`.model.K_from_fov`)."""
    return lift_points(stroke.xy_px, (stroke.width, stroke.height), K, width, height, depth, plane_depth, photo_wh)
