"""2.5D depth-warp renderer: one image + depth seen from a moving camera (pure torch, any device).

Cameras follow :mod:`draw_to_video.trajectory.conventions`. ``cam_T_src[f]`` maps points in the source camera frame to target camera ``f``
(``cam_T_world @ world_T_src``); ``K[f]`` is for the output size ``out_hw``.

Method ("forward depth, backward colour"):

0. A quantised depth map (8-bit) is first made smooth within its quantisation bins (``dequantize``,
   :func:`.depth.dequantize_depth`), so a large move opens no cracks along its contours. Soft depth edges are made
   sharp next (``edge_snap``, :func:`.depth.snap_depth_edges`): a pixel whose depth
   lies between the two sides of an edge takes the side whose colour it shows (as its neighbourhood leans, so an
   outline splits into runs, not specks), so an outline never floats between an object and its background.
1. Every source pixel with finite depth ``> 0`` is unprojected with ``K_src``, moved by ``cam_T_src`` and
   projected with ``K``; points with target ``z <= near_clip`` (behind the camera) are dropped.
2. Z-buffer: each point is splatted to its nearest target pixel with ``scatter_reduce(amin)`` on an int64 key
   ``(float32 bits of z) << b | source index``; positive float bits sort like the floats, so the front surface
   wins and ties break by index: exact and deterministic on every device.
3. Footprint: the analytic Jacobian ``J`` of the warp (from edge-aware one-sided depth derivatives: across a
   depth step of more than ``edge_tol`` in log-depth a point is treated as a fronto-parallel patch, unless the step
   continues a ramp -- a floor receding to the horizon -- see :func:`.depth.continuous_steps`) gives each
   point's magnification ``s`` (largest singular value). ``s <= 1.25``: nearest pixel; ``1.25 < s <= 2``: the
   3x3 pixels around it (a min-filter of a separate z-buffer of those points); ``s > 2``: super-sampled
   ``ceil(s) x ceil(s)`` on its tangent plane (capped by ``max_supersample``). So zooming in leaves no cracks.
4. Colour is sampled *backward*: a target pixel ``p`` won by source point ``q`` (projected at ``P(q)``) reads the
   source image bilinearly at ``q + J(q)^-1 (p - P(q))`` -- sub-pixel accurate and sharp. Frames where no point
   is magnified beyond 1.25 (tested on every 4th row and column) skip the per-point ``J`` and use the frame's
   median Jacobian instead (first-order).
   A frame whose camera only turns about the source camera's centre (no translation at all: a pan, tilt, roll or
   zoom, and frame 0 of every move) needs none of this: every point stays on its ray, so the view is a homography
   of the source and nothing is occluded anew. Such a frame is rendered backward in one pass instead
   (:func:`.warpcore.turn_view`): each target pixel reads the source bilinearly at its exact pre-image, and is seen
   where the source pixel nearest that pre-image has a point (then the crack rule and the stray rule as below).
5. Crack rule: a pixel left empty whose two opposite neighbours (horizontal, vertical or either diagonal; on the
   image border an axis pair mirrors its inner neighbour) are both covered at depths that are *continuous* is a
   crack of one surface: it takes the nearer neighbour's point (extrapolated through its ``J``) and counts as
   **visible**. Continuous = log-depths within ``crack_tol``, or inverse depths whose translation parallax
   differs by under one pixel (``f (|t_xy| + |t_z| r_max) |1/z1 - 1/z2| < 1``; so under a pure rotation every
   such gap is a crack). Any other empty pixel is a disocclusion or outside the source view: ``visible = 0``,
   filled by :mod:`.holefill` / :mod:`.holefill_layered` (``fill``).
6. With a fill, specks at depth edges that the move slides apart are cleaned (``edge_median``,
   :func:`.edgeclean.median_at_edges`): such a pixel takes the median of its 3x3 neighbourhood. Frames without
   translation (frame 0) and everything away from depth edges keep their bytes.
7. With a fill, outlines over a farther surface (or a filled hole) are anti-aliased (depth ratio above
   ``edge_median``; :mod:`.edgeaa`): the far pixel beside the outline takes the share of the near
   colour that the near point's footprint covers of it, so an outline moves smoothly, not a whole pixel at a time.
   Frames without translation keep their bytes here too.
8. ``supersample`` ``s > 1``: every frame is rendered as above at ``s`` times the width and height (``K`` scaled
   about the pixel centres) and box-averaged down, so which surface covers a pixel is decided at ``s x s`` points
   instead of one: thin parts and outlines no longer step a whole pixel at a time as they move (they shimmer
   less), at about ``s^2`` times the cost. ``visible`` is then the seen share of each pixel's ``s x s`` points,
   ``depth`` the nearest seen one; the stray rule (:func:`.warpcore.drop_strays`: flying pixels emptied,
   pinholes closed) runs once more at the output's pixels, since a hole's ragged rim pools into lone ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F

from ..checks import CancelFn, ProgressFn, check_shape, poll
from .edgeaa import blend_edges, edge_pairs
from .edgeclean import median_at_edges
from .holefill import background_fill, pushpull_fill
from .holefill_layered import layered_fill
from .warpcore import (
    SENTINEL,
    close_see_through,
    drop_strays,
    empty_neighbours,
    fill_cracks,
    frame_jacobian,
    jacobian,
    point_depth,
    prepare_source,
    project,
    sample,
    splat,
    turn_view,
)

FillMode = Literal["layered", "background", "pushpull", "none"]
FILL_MODES: tuple[str, ...] = get_args(FillMode)  #: the ``fill`` choices; the first is the default
_FILLS = {"layered": layered_fill, "background": background_fill, "pushpull": pushpull_fill}  # "none": black


def fill_holes(frames: torch.Tensor, seen: torch.Tensor, depth: torch.Tensor, fill: FillMode = FILL_MODES[0],
               tol: float = 0.1, moving: torch.Tensor | None = None) -> torch.Tensor:
    """``frames [B,C,H,W]`` (contiguous; filled in place where the fill allows) with the pixels not ``seen``
    ``[B,H,W]`` filled by ``fill`` from the seen ``depth [B,H,W]``, or black for ``"none"``; returns the result.
    ``moving [B]`` (the layered fill): which frames' cameras translate (see :func:`.holefill_layered.layered_fill`)."""
    fn = _FILLS.get(fill)
    if fn is None:
        return frames.mul_(seen[:, None])
    return fn(frames, seen, depth, tol, moving=moving) if fn is layered_fill else fn(frames, seen, depth, tol)


class RenderError(ValueError):
    """Bad renderer input (shapes, non-finite values, degenerate source intrinsics)."""


@dataclass(frozen=True)
class RenderResult:
    """Rendered views: ``frames [F,C,H',W']`` float32, ``visible [F,H',W']`` (1 = seen from the source, 0 =
    filled; with ``supersample`` the seen share of the pixel), ``depth [F,H',W']`` target-camera ``z`` of what is
    seen (0 in filled holes). ``start`` is the index of the first frame (non-zero for the chunks of
    :func:`iter_render`)."""

    frames: torch.Tensor
    visible: torch.Tensor
    depth: torch.Tensor
    start: int = 0


def _mat(x: object, spec: str, name: str) -> np.ndarray:
    """Small camera matrices are validated and composed in float64 numpy (cheap, exact, device-free)."""
    t = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
    check_shape(t, spec, name, error=RenderError)
    if not np.isfinite(t).all():
        raise RenderError(f"{name} has non-finite values")
    return t


def _check_inputs(image, depth, K_src, K, cam_T_src, out_hw, fill, chunk):
    if not isinstance(image, torch.Tensor):
        raise RenderError(f"image must be a torch.Tensor [C,H,W], got {type(image).__name__}")
    hw = check_shape(image, "C H W", "image", error=RenderError)
    if min(image.shape) < 1:
        raise RenderError(f"image must not be empty, got {tuple(image.shape)}")
    if not image.is_floating_point() or not bool(torch.isfinite(image).all()):
        raise RenderError("image must be a finite floating-point tensor (0..1)")
    dep = torch.as_tensor(depth).to(image.device)
    if dep.ndim == 3 and dep.shape[0] == 1:
        dep = dep[0]
    check_shape(dep, "H W", "depth", bound={"H": hw["H"], "W": hw["W"]}, error=RenderError)
    ks = _mat(K_src, "3 3", "K_src")
    T = _mat(cam_T_src, "* 4 4", "cam_T_src")
    T = T[None] if T.ndim == 2 else T
    frames = check_shape(T, "F 4 4", "cam_T_src", error=RenderError)
    k = _mat(K, "* 3 3", "K")
    k = np.broadcast_to(k, (T.shape[0], 3, 3)) if k.ndim == 2 else k
    check_shape(k, "F 3 3", "K", bound=frames, error=RenderError)
    if not (np.allclose(k[:, 2], [0.0, 0.0, 1.0], atol=1e-6) and np.allclose(ks[2], [0.0, 0.0, 1.0], atol=1e-6)):
        raise RenderError("intrinsics must have last row [0, 0, 1]")
    if not np.allclose(T[:, 3], [0.0, 0.0, 0.0, 1.0], atol=1e-6):
        raise RenderError("cam_T_src must have last row [0, 0, 0, 1]")
    if abs(np.linalg.det(ks)) < 1e-12 or ks[0, 0] == 0 or ks[1, 1] == 0:
        raise RenderError("K_src is singular")
    ho, wo = (int(image.shape[1]), int(image.shape[2])) if out_hw is None else (int(out_hw[0]), int(out_hw[1]))
    if ho < 1 or wo < 1:
        raise RenderError(f"out_hw must be positive, got {out_hw}")
    if fill not in FILL_MODES:
        names = [repr(f) for f in FILL_MODES]
        raise RenderError(f"fill must be {', '.join(names[:-1])} or {names[-1]}, got {fill!r}")
    if int(chunk) < 1:
        raise RenderError(f"chunk must be >= 1, got {chunk}")
    return dep, ks, k, T, (ho, wo)


def _parallax_scale(k: np.ndarray, T: np.ndarray, ho: int, wo: int) -> np.ndarray:
    """Per frame ``f (|t_xy| + |t_z| r_max)``: pixels of parallax per unit of inverse depth (crack rule)."""
    fx, fy = np.abs(k[:, 0, 0]), np.abs(k[:, 1, 1])
    rx = np.maximum(np.abs(k[:, 0, 2]), np.abs(wo - 1 - k[:, 0, 2])) / np.maximum(fx, 1e-12)
    ry = np.maximum(np.abs(k[:, 1, 2]), np.abs(ho - 1 - k[:, 1, 2])) / np.maximum(fy, 1e-12)
    return np.maximum(fx, fy) * (np.linalg.norm(T[:, :2, 3], axis=1) + np.abs(T[:, 2, 3]) * np.hypot(rx, ry))


def _turns(ks: np.ndarray, k: np.ndarray, T: np.ndarray, device: torch.device) -> list[torch.Tensor | None]:
    """Per frame: the homography ``K_src R^T K^-1`` (float32) where the camera only turns about the source camera's
    centre (no translation at all, and ``K`` invertible; see :func:`.warpcore.turn_view`), else ``None``."""
    turn = (T[:, :3, 3] == 0).all(axis=1) & (np.abs(np.linalg.det(k)) > 1e-12)
    return [torch.from_numpy(ks @ T[f, :3, :3].T @ np.linalg.inv(k[f])).to(device, torch.float32) if turn[f] else None
            for f in range(T.shape[0])]


def iter_render(
    image: torch.Tensor,
    depth: torch.Tensor,
    K_src: torch.Tensor | np.ndarray,
    K: torch.Tensor | np.ndarray,
    cam_T_src: torch.Tensor | np.ndarray,
    *,
    out_hw: tuple[int, int] | None = None,
    fill: FillMode = FILL_MODES[0],
    chunk: int = 4,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    near_clip: float = 1e-3,
    crack_tol: float = 0.05,
    edge_tol: float = 0.05,
    fill_tol: float = 0.1,
    max_supersample: int = 8,
    edge_snap: float = 1.5,
    edge_median: float = 1.2,
    dequantize: float = 3.0,
    supersample: int = 1,
    workers: int | None = None,
    into: RenderResult | None = None,
) -> Iterator[RenderResult]:
    """Render chunk by chunk: an iterator of :class:`RenderResult` parts in frame order (see
    :func:`render_views`), at most ``chunk`` frames in flight. Inputs are checked here, before the first part.

    ``workers`` (default :func:`default_workers`) parts of ``ceil(chunk / workers)`` frames render at once, each on
    one thread; every frame is computed on its own, so the frames are the same bytes for any ``workers`` and
    ``chunk``. ``into``: preallocated outputs for all frames (contiguous float32, ``start`` 0); the parts are then
    written there and are views of it (no per-part allocation or copy)."""
    dep, ks, k, T, (ho, wo) = _check_inputs(image, depth, K_src, K, cam_T_src, out_hw, fill, chunk)
    if not (near_clip > 0 and crack_tol >= 0 and edge_tol > 0 and fill_tol >= 0 and max_supersample >= 1
            and edge_snap >= 0 and edge_median >= 0 and dequantize >= 0):
        raise RenderError("near_clip, edge_tol must be > 0; crack_tol, fill_tol, edge_snap, edge_median, dequantize "
                          ">= 0; max_supersample >= 1")
    ss = _supersample(supersample)
    if 31 + max(1, (image.shape[1] * image.shape[2] - 1).bit_length()) > 63:
        raise RenderError(f"source image too large: {tuple(image.shape[1:])}")
    dev = image.device
    # the camera rendered: K scaled about the pixel centres (at integers) when supersampling
    kr = k if ss == 1 else np.array([[ss, 0.0, (ss - 1) / 2], [0.0, ss, (ss - 1) / 2], [0.0, 0.0, 1.0]]) @ k
    cams = (torch.from_numpy(kr @ T[:, :3, :3]).to(dev, torch.float32),
            torch.from_numpy(kr @ T[:, :3, 3:]).to(dev, torch.float32),
            torch.from_numpy(_parallax_scale(kr, T, ho * ss, wo * ss)).to(dev, torch.float32),
            _turns(ks, kr, T, dev))
    tol = (near_clip, crack_tol, edge_tol, fill_tol, max_supersample, float(edge_snap), float(edge_median),
           float(dequantize))
    n_workers = default_workers(dev) if workers is None else int(workers)
    if n_workers < 1:
        raise RenderError(f"workers must be >= 1, got {workers}")
    if into is not None:
        want = [(T.shape[0], int(image.shape[0]), ho, wo), (T.shape[0], ho, wo), (T.shape[0], ho, wo)]
        got = [tuple(t.shape) for t in (into.frames, into.visible, into.depth)]
        if into.start != 0 or got != want or any(t.dtype != torch.float32 or not t.is_contiguous()
                                                   for t in (into.frames, into.visible, into.depth)):
            raise RenderError(f"into must hold contiguous float32 outputs of shapes {want} at start 0, got {got}")
    return _chunks(image, dep, ks, cams, (ho, wo, ss), fill, int(chunk), progress, cancel, tol, n_workers, into)


def _supersample(value: object) -> int:
    """``supersample`` checked: an integer 1 to 4."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= int(value) <= 4:
        raise RenderError(f"supersample must be an integer from 1 to 4, got {value!r}")
    return int(value)


def default_workers(device: torch.device) -> int:
    """Frames rendered at once: 2 on a CPU that torch runs on 2 or 3 threads (a frame's many small full-frame
    passes scale poorly over torch's intra-op threads there, two frames side by side scale well), else 1 (more
    cores: torch's own threads; a GPU: one stream)."""
    return 2 if torch.device(device).type == "cpu" and torch.get_num_threads() in (2, 3) else 1




_WARP_BATCH = 1  # frames warped together: one frame's intermediates stay in cache (per-frame exact, so any size)


def _splat_frames(src, P, p, parallax, out_hw, tol, zbuf: torch.Tensor) -> tuple:
    """Steps 1-3 and 5 of the method for a few frames: their z-buffer keys into ``zbuf [B,H'*W']``; returns what
    sampling them needs."""
    near_clip, crack_tol, _, _, max_supersample, _, _, _ = tol
    U, V, z, ok = project(src, P, p, near_clip)
    need, Jf = frame_jacobian(src, P, U, V, z, ok)  # per frame, so results do not depend on chunking
    J = jacobian(src, P, U, V, z) if bool(need.any()) else None
    zb = splat(src, U, V, z, ok, out_hw, J, need, max_supersample)
    del z, ok
    close_see_through(zb, out_hw, src.idx_bits, crack_tol, parallax)
    zbuf.copy_(fill_cracks(zb, out_hw, src.idx_bits, crack_tol, parallax))
    return U, V, Jf, J, need


def _turn_frame(src, Hinv, parallax, out_hw, tol, zbuf: torch.Tensor) -> torch.Tensor:
    """A frame whose camera only turns: its keys into ``zbuf [1,H'*W']`` by the exact inverse map (see
    :func:`.warpcore.turn_view`; gaps of invalid source depth still close by the crack rule); returns its grid."""
    near_clip, crack_tol = tol[0], tol[1]
    keys, grid = turn_view(src, Hinv, out_hw, near_clip)
    zbuf.copy_(fill_cracks(keys[None], out_hw, src.idx_bits, crack_tol, parallax))
    return grid


def _geometry(how) -> tuple | None:
    """A splatted frame's ``(U, V, J)`` for :func:`.edgeaa.edge_pairs`: ``J`` each point's Jacobian where the frame
    has them, else the frame's median one; None for a turn."""
    if isinstance(how, torch.Tensor):
        return None
    U, V, Jf, J, need = how
    return U[0], V[0], tuple(t[0] for t in J) if J is not None and bool(need[0]) else tuple(Jf[0].unbind(-1))


def _warp_chunk(src, cams, out_hw, tol, frames: torch.Tensor) -> tuple[torch.Tensor, list]:
    """The chunk's colours into ``frames [B,C,H',W']`` (garbage where empty); returns its z-buffer keys
    ``[B,H'*W']`` and each frame's :func:`_geometry`: splatted (or, for a camera that only turns, mapped) and
    sampled a few frames at a time (their intermediates stay in cache), the stray rule over the whole chunk (its
    sparse passes cost per call, not per pixel)."""
    P, p, parallax, turns = cams
    ho, wo = out_hw
    n = P.shape[0]
    zbuf = torch.empty(n, ho * wo, dtype=torch.int64, device=P.device)
    parts = [slice(j, min(n, j + _WARP_BATCH)) for j in range(0, n, _WARP_BATCH)]
    kept = [_turn_frame(src, turns[s.start], parallax[s], out_hw, tol, zbuf[s]) if turns[s.start] is not None
            and s.stop - s.start == 1 else _splat_frames(src, P[s], p[s], parallax[s], out_hw, tol, zbuf[s])
            for s in parts]
    drop_strays(zbuf, out_hw)
    for s, how in zip(parts, kept, strict=True):
        if isinstance(how, torch.Tensor):
            frames[s] = F.grid_sample(src.image, how, mode="bilinear", padding_mode="border", align_corners=False)
        else:
            sample(src, zbuf[s], *how[:2], out_hw, *how[2:], out=frames[s])
    return zbuf, [_geometry(how) for how in kept]


def _render_part(src, cams, sl: slice, out_size, fill, channels: int, tol, into: RenderResult | None) -> RenderResult:
    """Frames ``sl`` rendered, filled and wrapped (written into ``into``'s frames ``sl`` if given); ``out_size`` is
    ``(H', W', supersample)``."""
    ho, wo, ss = out_size
    n = sl.stop - sl.start
    f32 = {"dtype": torch.float32, "device": cams[2].device}
    if into is None:
        out = RenderResult(torch.empty(n, channels, ho, wo, **f32), torch.empty(n, ho, wo, **f32),
                           torch.empty(n, ho, wo, **f32), start=sl.start)
    else:
        out = RenderResult(into.frames[sl], into.visible[sl], into.depth[sl], start=sl.start)
    if ss == 1:
        return _render_into(src, cams, sl, (ho, wo), fill, tol, out)
    big = _render_into(src, cams, sl, (ho * ss, wo * ss), fill, tol,
                       RenderResult(torch.empty(n, channels, ho * ss, wo * ss, **f32),
                                    torch.empty(n, ho * ss, wo * ss, **f32), torch.empty(n, ho * ss, wo * ss, **f32)))
    out.frames.copy_(F.avg_pool2d(big.frames, ss))
    out.visible.copy_(F.avg_pool2d(big.visible[:, None], ss)[:, 0])
    nearest = -F.max_pool2d(-torch.where(big.depth > 0, big.depth, torch.inf)[:, None], ss)[:, 0]
    torch.where(torch.isfinite(nearest), nearest, nearest.new_zeros(()), out=out.depth)
    _strays_at_output(out, black=fill == "none")
    return out


_RING = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]


def _strays_at_output(out: RenderResult, black: bool, max_passes: int = 32) -> None:
    """The stray rule of :func:`.warpcore.drop_strays` once more at the output's own pixels, after a supersampled
    render is pooled (the render applied it to its ``s x s`` points, so a hole's ragged rim still pools into
    output pixels seen alone over a hole, or unseen alone among seen ones): a seen pixel (any of its points) with
    at least 5 of its 8 neighbours unseen becomes unseen (black without a fill); an unseen one with at most one
    unseen neighbour takes its farthest seen neighbour's depth and share (and, without a fill, its colour).
    Repeated until neither is left, at most ``max_passes`` times."""
    h, w = out.visible.shape[-2:]
    for _ in range(max_passes):
        hole = out.visible == 0
        empty = empty_neighbours(hole)
        stray, pin = ~hole & (empty >= 5), hole & (empty <= 1)
        if not bool((stray | pin).any()):
            return
        if bool(pin.any()):
            pad = [F.pad(t, (1, 1, 1, 1)) for t in (out.depth, out.visible, out.frames)]
            at = [tuple(slice(1 + d, 1 + d + n) for d, n in ((dy, h), (dx, w))) for dy, dx in _RING]
            best = torch.stack([pad[0][(...,) + a] for a in at]).argmax(0)  # farthest (unseen: depth 0)
            for t, p in zip((out.depth, out.visible, out.frames), pad, strict=True):
                if t is out.frames and not black:
                    continue
                frames = t.dim() == 4
                idx = best[None, :, None] if frames else best[None]
                pick = torch.stack([p[(...,) + a] for a in at]).gather(0, idx.expand(1, *t.shape))[0]
                t.copy_(torch.where(pin[:, None] if frames else pin, pick, t))
        out.visible.masked_fill_(stray, 0.0)
        out.depth.masked_fill_(stray, 0.0)
        if black:
            out.frames.masked_fill_(stray[:, None], 0.0)


def _render_into(src, cams, sl: slice, out_hw, fill, tol, out: RenderResult) -> RenderResult:
    """Frames ``sl`` rendered at ``out_hw`` and filled, into ``out``'s tensors (of that size); returns ``out``."""
    parallax = cams[2][sl]
    ho, wo = out_hw
    fill_tol = tol[3]
    zbuf, geometry = _warp_chunk(src, (cams[0][sl], cams[1][sl], parallax, cams[3][sl]), out_hw, tol, out.frames)
    seen = (zbuf != SENTINEL).view(-1, ho, wo)
    torch.where(seen, point_depth(zbuf, src.idx_bits).view(-1, ho, wo), out.depth.new_zeros(()), out=out.depth)
    clean = fill != "none" and tol[6] > 1.0
    pairs = edge_pairs(zbuf, out.depth, parallax, tol[6], geometry, src.idx_bits) if clean else None
    del zbuf, geometry  # the points' projections: only the edge pairs are kept through the fill
    filled = fill_holes(out.frames, seen, out.depth, fill, fill_tol, moving=parallax > 0)
    if filled is not out.frames:
        out.frames.copy_(filled)
    if clean:
        median_at_edges(out.frames, out.depth, parallax, tol[6])
        blend_edges(out.frames, pairs)
    out.visible.copy_(seen)
    return out


def _chunks(image, dep, ks, cams, out_size, fill, chunk, progress, cancel, tol, workers,
            into: RenderResult | None) -> Iterator[RenderResult]:
    src = prepare_source(image, dep, ks, tol[2], tol[5], tol[7])
    n = cams[0].shape[0]
    step = -(-chunk // workers)
    parts = [slice(i, min(n, i + step)) for i in range(0, n, step)]

    inference = torch.is_inference_mode_enabled()  # thread-local: the workers take the caller's (ComfyUI's) mode

    def render(sl: slice) -> RenderResult:
        with torch.inference_mode(inference):
            return _render_part(src, cams, sl, out_size, fill, int(image.shape[0]), tol, into)

    if workers == 1:
        for sl in parts:
            poll(cancel, "render")
            part = render(sl)
            if progress is not None:
                progress(sl.stop, n)
            yield part
        return
    # torch ops on one thread while the parts render; the caller's setting is back whenever a part is handed out
    # (the consumer's own work, or a generator abandoned at a yield, never runs single-threaded)
    threads = torch.get_num_threads()
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="dtv-render") as pool:
            pending: deque = deque()
            for k, sl in enumerate(parts):
                poll(cancel, "render")
                torch.set_num_threads(1)
                pending.append(pool.submit(render, sl))
                while pending and (len(pending) == workers or k + 1 == len(parts)):
                    part = pending.popleft().result()
                    if progress is not None:
                        progress(part.start + part.frames.shape[0], n)
                    torch.set_num_threads(threads)
                    yield part
                    torch.set_num_threads(1)
    finally:
        torch.set_num_threads(threads)


def render_views(image: torch.Tensor, depth: torch.Tensor, K_src, K, cam_T_src, **kwargs) -> RenderResult:
    """Render ``F`` views of ``image [C,H,W]`` (0..1) with ``depth [H,W]`` (scene units; ``<= 0``/non-finite = no
    point) from ``K_src [3,3]`` to cameras ``K [F,3,3]`` (or one ``[3,3]``) at ``cam_T_src [F,4,4]``.

    Keyword arguments as :func:`iter_render`: ``out_hw=(H', W')`` (default the source size; ``K`` is for it),
    ``fill`` ("layered" default, "background", "pushpull", "none"), ``chunk`` frames at a time (bounds the
    intermediates), ``progress(done, total)``, ``cancel()`` (a true return raises :class:`..checks.Cancelled`),
    ``near_clip``, ``crack_tol``, ``edge_tol`` (a log-depth step between neighbours above it is a depth edge),
    ``fill_tol``, ``max_supersample``, ``edge_snap`` (the depth ratio across a 5x5 window above which its
    in-between pixels are snapped to a side; 0 = off), ``edge_median`` (with a fill: the depth ratio across a 3x3
    window above which a pixel on an edge the move slides apart takes the window's median, and across two
    neighbours above which the edge is anti-aliased; 0 = off), ``dequantize``
    (the blur in px that smooths a quantised depth map within its bins; 0 = off), ``supersample`` (1 to 4: each
    frame rendered at that many times the size and averaged down, step 8 of the method), ``workers``.
    Returns the stacked :class:`RenderResult` (written chunk by chunk into preallocated outputs; use
    :func:`iter_render` to stream instead).
    """
    iter_render(image, depth, K_src, K, cam_T_src, **kwargs)  # validates everything before allocating
    n = 1 if len(np.shape(cam_T_src)) == 2 else int(np.shape(cam_T_src)[0])
    ho, wo = kwargs.get("out_hw") or tuple(image.shape[1:])
    shape = (n, int(image.shape[0]), int(ho), int(wo))
    f32 = {"dtype": torch.float32, "device": image.device}
    out = RenderResult(torch.empty(shape, **f32), torch.empty(shape[:1] + shape[2:], **f32),
                       torch.empty(shape[:1] + shape[2:], **f32))  # every frame is written by one part
    for _ in iter_render(image, depth, K_src, K, cam_T_src, into=out, **kwargs):
        pass
    return out
