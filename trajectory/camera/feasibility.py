"""What one photo can show of a camera move: per frame, the share of the picture no source pixel covers (the
**uncovered** fraction: disocclusions and the never-seen border) and the share magnified more than 2x (the
**stretched** fraction), predicted without rendering.

The model is a coarse forward splat of the depth warp the renderer (:mod:`draw_to_video.trajectory.render.warp`)
does, built for speed (tens of ms for 49 frames):

1. :func:`prepare_lattice` cuts the source view into a lattice of patches, one per target cell (``cells`` cells on
   the frame's long side). Each patch is a point at its depth with two tangent vectors: the chord to its lattice
   neighbour where the depth between them is continuous (no depth edge between adjacent depth pixels by the
   renderer's test, :func:`draw_to_video.trajectory.render.depth.continuous_steps`, checked at up to 1024 px), a
   fronto-parallel patch across depth edges (as the renderer treats them).
2. :func:`predict` moves the patches with each frame's camera and splats each one's projected area onto the target
   cells, shared by the overlap of its box (its projected extent along each axis) with each cell. A box of any size
   costs 16 additions (a summed-area splat); a patch covers at most ``MAX_SS x MAX_SS`` target pixels per source
   pixel, as the renderer's footprints do. What falls just past the frame's edge folds back onto the border cells.
   A cell's coverage is its splatted area, clipped at 1; the uncovered fraction is the mean of what is missing.
   Coverage needs no z-buffer (an occluded point still covers its pixel); the stretched fraction is the coverage
   of patches whose largest singular value exceeds 2, with no z-buffer either (a slight overestimate where a
   stretched background lies behind a foreground). An axis-aligned box is larger than a turned patch, so the model
   errs towards predicting more uncovered, the safe side for a budget.

The measured error against the real renderer at ``fill="none"`` is in ``BENCHMARKS.md`` ("Feasibility model"). The
world is the source camera (frame 0 of a trajectory built by :func:`.build.build_trajectory` is the source view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..conventions import centre_crop
from ..render.depth import continuous_steps
from .model import CameraTrajectory

__all__ = ["DEFAULT_CELLS", "Feasibility", "Lattice", "feasibility", "frame_view", "predict", "prepare_lattice"]

DEFAULT_CELLS = 96  #: target cells on the frame's long side (one source patch each)
EDGE_TOL = 0.05  #: the renderer's depth-edge test (log-depth step between adjacent pixels)
STRETCH = 2.0  #: magnification above which a pixel counts as stretched
NEAR_CLIP = 1e-3
MIN_CELL_PX = 4  #: a cell spans at least this many pixels (the renderer's 3x3 footprints close smaller gaps)
MAX_SS = 8  #: the renderer's footprint cap: a source pixel covers at most MAX_SS x MAX_SS target pixels
_MAX_EDGE_SIDE = 1024  #: depth edges are found at up to this long side


@dataclass(frozen=True, eq=False)
class Lattice:
    """Source patches for :func:`predict`: ``points [3, N]`` (source camera frame, float32), ``tan_u``/``tan_v``
    ``[3, N]`` (3D extent of one patch along each image axis), ``valid [N]``; the target grid ``grid = (gy, gx)``
    cells of ``cell = (cy, cx)`` pixels over ``size = (height, width)``."""

    points: np.ndarray
    tan_u: np.ndarray
    tan_v: np.ndarray
    valid: np.ndarray
    grid: tuple[int, int]
    cell: tuple[float, float]
    size: tuple[int, int]
    pitch: tuple[float, float]  #: the patches' spacing ``(y, x)`` in source pixels


@dataclass(frozen=True)
class Feasibility:
    """Per frame ``uncovered [F]`` and ``stretched [F]`` fractions of the target frame (0..1)."""

    uncovered: np.ndarray
    stretched: np.ndarray

    @property
    def worst_uncovered(self) -> float:
        return float(self.uncovered.max(initial=0.0))

    @property
    def worst_frame(self) -> int:
        return int(np.argmax(self.uncovered)) if self.uncovered.size else 0

    @property
    def worst_stretched(self) -> float:
        return float(self.stretched.max(initial=0.0))


def frame_view(depth: np.ndarray, width: int, height: int) -> np.ndarray:
    """The part of a map of the whole photo (``depth [h, w]``) that a ``width x height`` frame shows at frame 0
    (:func:`~draw_to_video.trajectory.conventions.centre_crop`; all of it when the aspects match). The model's source
    view is that part: a photo's cut-off sides count as unseen, the safe side for a budget."""
    if depth.ndim != 2 or min(depth.shape) < 1:
        return depth
    x0, y0 = centre_crop(depth.shape[1], depth.shape[0], width, height)
    return depth[y0:depth.shape[0] - y0, x0:depth.shape[1] - x0] if x0 or y0 else depth


def _resize_nearest(depth: np.ndarray, h: int, w: int) -> np.ndarray:
    rows = np.minimum(((np.arange(h) + 0.5) * depth.shape[0] / h).astype(np.int64), depth.shape[0] - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * depth.shape[1] / w).astype(np.int64), depth.shape[1] - 1)
    return depth[rows[:, None], cols[None, :]]


def _links(logz: np.ndarray, pos: np.ndarray, lines: np.ndarray, edge_tol: float) -> np.ndarray:
    """``[len(lines), len(pos) - 1]``: True where the depth along each line (rows of ``logz``) has no edge between
    consecutive positions ``pos`` (pixel indices of the lattice points on that axis)."""
    step = np.abs(np.diff(logz[lines], axis=1))
    edge = ~continuous_steps(torch.from_numpy(step), edge_tol, dim=1).numpy()  # NaN (invalid depth) is an edge
    cs = np.concatenate([np.zeros((len(lines), 1), np.int64), np.cumsum(edge, axis=1)], axis=1)
    return (cs[:, pos[1:]] - cs[:, pos[:-1]]) == 0


def prepare_lattice(depth: np.ndarray | None, width: int, height: int, K_src: np.ndarray, *,
                    cells: int = DEFAULT_CELLS, edge_tol: float = EDGE_TOL) -> Lattice:
    """The source patches of a ``width x height`` view with intrinsics ``K_src [3, 3]`` and z-``depth [h, w]`` (any
    resolution of the same view; ``<= 0`` or non-finite = no point; None = a fronto-parallel plane at depth 1)."""
    if depth is None:
        depth = np.ones((2, 2))
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim != 2 or min(depth.shape) < 1:
        raise ValueError(f"depth must be [H, W], got shape {list(depth.shape)}")
    if cells < 2:
        raise ValueError(f"cells must be >= 2, got {cells}")
    long = max(width, height)
    cells = max(2, min(cells, long // MIN_CELL_PX))
    gx, gy = max(1, round(cells * width / long)), max(1, round(cells * height / long))
    nx, ny = gx, gy  # one patch per target cell
    # depth at the working resolution: the lattice's positions and the edge test
    s = min(1.0, _MAX_EDGE_SIDE / max(depth.shape))
    dh, dw = max(ny, round(depth.shape[0] * s)), max(nx, round(depth.shape[1] * s))
    d = _resize_nearest(depth, dh, dw) if (dh, dw) != depth.shape else depth
    ok = np.isfinite(d) & (d > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        logz = np.where(ok, np.log(np.where(ok, d, 1.0)), np.nan)
    px = np.minimum(((np.arange(nx) + 0.5) * dw / nx).astype(np.int64), dw - 1)
    py = np.minimum(((np.arange(ny) + 0.5) * dh / ny).astype(np.int64), dh - 1)
    z = d[py[:, None], px[None, :]]
    valid = ok[py[:, None], px[None, :]]
    z = np.where(valid, z, 1.0)
    link_u = _links(logz, px, py, edge_tol)  # [ny, nx-1]
    link_v = _links(logz.T, py, px, edge_tol).T  # [ny-1, nx]
    # the patch centres in target pixels, unprojected
    step_x, step_y = width / nx, height / ny
    uu = (np.arange(nx) + 0.5) * step_x - 0.5
    vv = (np.arange(ny) + 0.5) * step_y - 0.5
    kinv = np.linalg.inv(np.asarray(K_src, dtype=np.float64))
    rays = np.einsum("ij,yxj->yxi", kinv, np.stack(np.broadcast_arrays(uu[None, :], vv[:, None], 1.0), axis=-1))
    X = rays * z[..., None]  # [ny, nx, 3]
    tan_u = _tangent(X, link_u, axis=1, flat=kinv[:, 0] * step_x, z=z)
    tan_v = _tangent(X, link_v, axis=0, flat=kinv[:, 1] * step_y, z=z)
    f32 = np.float32
    return Lattice(X.reshape(-1, 3).T.astype(f32), tan_u.reshape(-1, 3).T.astype(f32),
                   tan_v.reshape(-1, 3).T.astype(f32), valid.reshape(-1), (gy, gx),
                   (height / gy, width / gx), (height, width), (step_y, step_x))


def _tangent(X: np.ndarray, link: np.ndarray, axis: int, flat: np.ndarray, z: np.ndarray) -> np.ndarray:
    """One patch's extent along ``axis``: the (central or one-sided) chord to continuous neighbours, else the
    fronto-parallel patch ``flat * z``."""
    diff = np.diff(X, axis=axis)
    pad = [(0, 0)] * 3
    pad[axis] = (0, 1)
    fwd = np.pad(diff, pad)
    fl = np.pad(link, pad[:2])
    pad[axis] = (1, 0)
    bwd = np.pad(diff, pad)
    bl = np.pad(link, pad[:2])
    n = (fl.astype(np.float64) + bl)[..., None]
    chord = (fwd * fl[..., None] + bwd * bl[..., None]) / np.maximum(n, 1.0)
    return np.where(n > 0, chord, flat[None, None, :] * z[..., None])


_PAD = 2  #: cells of padding each side of the target grid; all but the outermost ring fold back onto the border


def _splat_direct(acc: np.ndarray, frame: np.ndarray, gu: np.ndarray, gv: np.ndarray, wu: np.ndarray,
                  wv: np.ndarray, w: np.ndarray, m: int) -> None:
    """Add weights ``w`` of boxes ``wu x wv`` cells (each ``<= m``) centred at cell coordinates ``(gu, gv)`` to the
    padded grids ``acc [F, H2, W2]`` (of frames ``frame``), each weight shared by the box's overlap with the
    ``(m + 1) x (m + 1)`` cells from the one holding its corner."""
    F, H2, W2 = acc.shape
    u_lo = gu + (_PAD + 0.5) - 0.5 * wu  # the box in padded cell-edge coordinates
    v_lo = gv + (_PAD + 0.5) - 0.5 * wv
    u0, v0 = np.floor(u_lo), np.floor(v_lo)
    inside = (u0 >= 0) & (u0 <= W2 - 1 - m) & (v0 >= 0) & (v0 <= H2 - 1 - m)  # else wholly past the fold: dropped
    iu = np.clip(u0, 0, W2 - 1 - m).astype(np.int32)
    iv = np.clip(v0, 0, H2 - 1 - m).astype(np.int32)
    idx = frame.astype(np.int32) * (H2 * W2) + iv * W2 + iu
    offsets = (np.arange(m + 1, dtype=np.int32)[:, None] * W2 + np.arange(m + 1, dtype=np.int32)).reshape(-1)
    ou, ov = _shares(u_lo - u0, wu, m), _shares(v_lo - v0, wv, m)  # [m+1, n] each, in box widths
    weights = (np.where(inside, w / (wu * wv), 0.0) * ov)[:, None, :] * ou[None, :, :]  # [m+1, m+1, n]
    _add_at(acc, (idx[None, :] + offsets[:, None]).reshape(-1), weights.reshape(-1))


def _shares(f: np.ndarray, width: np.ndarray, m: int) -> np.ndarray:
    """``[m + 1, n]``: the overlap of ``[f, f + width]`` (``0 <= f < 1``, ``width <= m``) with the cells
    ``[i, i + 1]``, ``i = 0..m``."""
    end = f + width
    out = np.empty((m + 1,) + f.shape, dtype=f.dtype)
    np.subtract(np.minimum(end, 1.0), f, out=out[0])
    for i in range(1, m + 1):
        np.clip(end - i, 0.0, 1.0, out=out[i])
    return out


def _add_at(acc: np.ndarray, idx: np.ndarray, val: np.ndarray) -> None:
    """``acc.flat[idx] += val`` (C-contiguous ``acc``; repeated indices summed): torch's ``index_add_``, several
    times faster than ``np.add.at`` or ``np.bincount``."""
    flat = torch.from_numpy(acc.reshape(-1))
    flat.index_add_(0, torch.from_numpy(idx), torch.from_numpy(val.astype(acc.dtype, copy=False)))


def _edges(lo: np.ndarray, width: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The increments whose running sum over cells ``0..n-1`` is each cell's overlap with ``[lo, lo + width]``
    (clipped to ``[0, n]``): ``(index [4, m], value [4, m])``, indices in ``0..n``."""
    a, b = np.clip(lo, 0.0, n), np.clip(lo + width, 0.0, n)
    ka, kb = np.floor(a), np.floor(b)
    fa, fb = a - ka, b - kb
    idx = np.stack([ka, ka + 1.0, kb, kb + 1.0]).clip(0, n).astype(np.int64)
    return idx, np.stack([1.0 - fa, fa, fb - 1.0, -fb])


def _splat_large(acc: np.ndarray, frame: np.ndarray, gu: np.ndarray, gv: np.ndarray, wu: np.ndarray,
                 wv: np.ndarray, w: np.ndarray) -> None:
    """:func:`_splat_direct` for boxes of any size at a fixed cost: each box adds the 4 x 4 increments
    of its two axes' overlaps (:func:`_edges`) to a difference grid whose running sums along both axes are the
    boxes' shares of every cell (a summed-area splat)."""
    F, H2, W2 = acc.shape
    iu, du = _edges(gu + (_PAD + 0.5) - 0.5 * wu, wu, W2)
    iv, dv = _edges(gv + (_PAD + 0.5) - 0.5 * wv, wv, H2)
    idx = (frame * ((H2 + 1) * (W2 + 1)))[None, None] + iv[:, None] * (W2 + 1) + iu[None, :]  # [4 (v), 4 (u), m]
    val = (w / (wu * wv))[None, None] * dv[:, None] * du[None, :]
    diff = np.zeros((F, H2 + 1, W2 + 1), dtype=acc.dtype)
    _add_at(diff, idx.reshape(-1), val.reshape(-1))
    acc += diff.cumsum(axis=1).cumsum(axis=2)[:, :H2, :W2]


def _fold(acc: np.ndarray) -> np.ndarray:
    """``[F, gy+2P, gx+2P]`` -> ``[F, gy, gx]``: the padding folded back onto the border cells (a reflecting edge;
    the outermost ring is a dump for boxes far outside)."""
    a = acc[:, 1:-1, 1:-1].copy()
    for _ in range(_PAD - 1):
        a[:, 1, :] += a[:, 0, :]
        a[:, -2, :] += a[:, -1, :]
        a[:, :, 1] += a[:, :, 0]
        a[:, :, -2] += a[:, :, -1]
        a = a[:, 1:-1, 1:-1]
    return a


def _secant(x, y, z, xt, yt, zt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The projection of ``(x, y, z) + t/2`` minus that of ``(x, y, z) - t/2`` (homogeneous target pixels; both
    ends in front of the camera where the mask is True)."""
    half = 0.5 * zt
    zp, zm = z + half, z - half
    ok = (zp > NEAR_CLIP) & (zm > NEAR_CLIP)
    rp = np.divide(1.0, zp, out=np.zeros_like(zp), where=ok)
    rm = np.divide(1.0, zm, out=np.zeros_like(zm), where=ok)

    def diff(c: np.ndarray, ct: np.ndarray) -> np.ndarray:
        half_c = 0.5 * ct
        return (c + half_c) * rp - (c - half_c) * rm

    return diff(x, xt), diff(y, yt), ok


def predict(lattice: Lattice, K: np.ndarray, cam_T_src: np.ndarray) -> Feasibility:
    """Per-frame uncovered and stretched fractions for cameras ``K [F, 3, 3]`` (target pixels, ``lattice.size``)
    at ``cam_T_src [F, 4, 4]`` (source camera frame -> target camera).

    Each patch is one box: one spanning up to 2 cells is shared directly by the cells it touches, a larger one goes
    through :func:`_splat_large`."""
    K = np.asarray(K, dtype=np.float64)
    T = np.asarray(cam_T_src, dtype=np.float64)
    if T.ndim != 3 or T.shape[1:] != (4, 4) or K.shape != (T.shape[0], 3, 3):
        raise ValueError(f"K must be [F, 3, 3] and cam_T_src [F, 4, 4], got {list(K.shape)} and {list(T.shape)}")
    P = (K @ T[:, :3, :3]).astype(np.float32)
    p = (K @ T[:, :3, 3:]).astype(np.float32)
    parts = [_predict_frames(lattice, P[i:i + _CHUNK], p[i:i + _CHUNK]) for i in range(0, max(1, len(P)), _CHUNK)]
    return Feasibility(uncovered=np.concatenate([u for u, _ in parts]), stretched=np.concatenate([s for _, s in parts]))


_CHUNK = 4  #: frames predicted at a time: ~100 KB temporaries instead of MBs, measured 1.2-2x faster (each frame
#: is computed on its own, so the results do not depend on it)


def _predict_frames(lattice: Lattice, P: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict` for the cameras ``P = K R [F, 3, 3]``, ``p = K t [F, 3, 1]`` (float32): ``(uncovered,
    stretched) [F]``."""
    F, N = P.shape[0], lattice.points.shape[1]
    gy, gx = lattice.grid
    cy, cx = lattice.cell
    x, y, z = np.moveaxis(P @ lattice.points + p, 1, 0)  # [F, N] each
    xu, yu, zu = np.moveaxis(P @ lattice.tan_u, 1, 0)
    xv, yv, zv = np.moveaxis(P @ lattice.tan_v, 1, 0)
    ok = lattice.valid[None, :] & (z > NEAR_CLIP)
    iz = np.where(ok, 1.0 / np.where(ok, z, 1.0), 0.0).astype(np.float32)
    U, V = x * iz, y * iz
    # the projected patch, u -> (a, c) and v -> (b, d) target pixels: the secant between its two edge midpoints
    # along each axis (exact where the depth along the chord changes fast, e.g. ground near the horizon)
    a, c, ok_u = _secant(x, y, z, xu, yu, zu)
    b, d, ok_v = _secant(x, y, z, xv, yv, zv)
    ok &= ok_u & ok_v
    det = a * d - b * c
    s2 = a * a + b * b + c * c + d * d
    smax = np.sqrt(0.5 * (s2 + np.sqrt(np.maximum(s2 * s2 - 4 * det * det, 0.0))))  # largest singular value
    step = max(lattice.pitch)
    lim = 1e4  # cells: far enough that a clipped centre lies outside the padded grid
    gu = np.clip((U + 0.5) / cx - 0.5, -lim, lim).reshape(-1)
    gv = np.clip((V + 0.5) / cy - 0.5, -lim, lim).reshape(-1)
    eu = np.maximum((np.abs(a) + np.abs(b)) / cx, 1e-3).reshape(-1)  # the box: the patch's extent, in cells
    ev = np.maximum((np.abs(c) + np.abs(d)) / cy, 1e-3).reshape(-1)
    # its area, in cells: at most MAX_SS^2 target pixels per source pixel, as the renderer's super-sampled footprints
    cap = MAX_SS * MAX_SS * lattice.pitch[0] * lattice.pitch[1]
    w = np.where(ok, np.minimum(np.abs(det), cap) / (cx * cy), 0.0).reshape(-1)
    big = (smax > STRETCH * step).reshape(-1)
    # one grid per frame for the coverage, then one per frame for the stretched patches (frame index F + f);
    # a box spanning 1 or 2 cells is splatted directly (4 or 9 additions), a larger one by summed areas (16)
    acc = np.zeros((2 * F, gy + 2 * _PAD, gx + 2 * _PAD), dtype=np.float32)
    group = np.where(w > 0, np.minimum(np.ceil(np.maximum(eu, ev)), 3.0), 0.0)
    for m in (1, 2, 3):
        ids = np.flatnonzero(group == m)
        if ids.size == 0:
            continue
        n_cover = ids.size
        ids = np.concatenate([ids, ids[big[ids]]])
        frame = ids // N
        frame[n_cover:] += F
        args = (acc, frame, *(np.take(t, ids) for t in (gu, gv, eu, ev, w)))
        if m < 3:
            _splat_direct(*args, m)
        else:
            _splat_large(*args)
    folded = np.minimum(_fold(acc), 1.0)
    cov, st = folded[:F], folded[F:]
    return (1.0 - cov).mean(axis=(1, 2)), st.mean(axis=(1, 2))


def feasibility(traj: CameraTrajectory, depth: np.ndarray | None, *, cells: int = DEFAULT_CELLS,
                lattice: Lattice | None = None) -> Feasibility:
    """:func:`predict` for a trajectory whose frame 0 is the source view, with the photo's z-``depth`` (any
    resolution; :func:`frame_view` of it is used; None = a plane at depth 1); ``lattice`` may pass an already
    prepared one for ``traj``'s size."""
    if lattice is None:
        view = None if depth is None else frame_view(np.asarray(depth, dtype=np.float64), traj.width, traj.height)
        lattice = prepare_lattice(view, traj.width, traj.height, traj.source_K(), cells=cells)
    return predict(lattice, traj.K, traj.cam_T_world())

