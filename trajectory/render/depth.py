"""Depth maps for the 2.5D renderer: conversion, normalisation, invalid-value repair and a fallback prior.

Relative depth from ComfyUI depth nodes (Depth Anything, MiDaS, Lotus, Marigold in its "disparity" mode) arrives
as an IMAGE in ``0..1`` where **bright = near**: an affine-invariant *inverse* depth (``kind="inverse_depth"``;
``"disparity"`` is the same model). Marigold's plain depth output (bright = far) is ``kind="depth"``.

Normalisation (``normalise=True``) is robust and explicit:

* values are read through percentiles ``lo, med, hi`` (default 2 / 50 / 98 %) of the finite values, per batch item;
* inverse kinds are mapped **affinely in inverse depth** (the model those estimators are trained under, so planes
  stay planes) with the median at ``subject_depth`` (1.0 scene unit, :data:`DEFAULT_SUBJECT_DEPTH`) and the ``hi``
  percentile at ``near``; anything farther than ``far`` (sky, ``0``) is clamped to ``far``;
* ``kind="depth"`` is mapped affinely in depth with the median at ``subject_depth`` and the ``lo`` percentile at
  ``near``, clamped to ``[near, far]``;
* if one anchor collapses (e.g. more than half the map is the nearest value) the other end is used; a constant map
  becomes a flat plane at ``subject_depth``.

Metric depth passes through (``kind="depth", normalise=False``); metric inverse depth is inverted. Every path
returns finite depth ``> 0``: non-finite (and, for metric depth, non-positive) values are invalid and are filled
from their neighbours (push-pull average); a map with no valid value is a ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ..conventions import DEFAULT_SUBJECT_DEPTH

DepthKind = Literal["depth", "inverse_depth", "disparity"]

#: Label the caller shows when :func:`fallback_depth_prior` stands in for a real depth map.
FALLBACK_NOTE = "approximate parallax: no depth given, using a ground-plane/sky prior"

#: Default scene range (scene units; the subject is at 1.0).
DEFAULT_NEAR = 0.5
DEFAULT_FAR = 10.0

_MIN_DEPTH = 1e-6
_MIN_LEVELS = 32  # fewer distinct depths are flat planes, not a quantised slope (dequantize_depth)
_PROBE = 4096  # pixels dequantize_depth looks at first (evenly strided): quantised if most share their value
_LEVEL_PIXELS = 4  # a value at least this many pixels hold is a level of a quantised map
#: a log-depth step above the edge tolerance still joins one surface (a ramp, not an edge) when it is under
#: ``RAMP_STEPS`` tolerances and at most ``RAMP_RATIO`` times each of the ``RAMP_REACH`` steps before and after it:
#: a floor or a ground plane receding to the horizon, whose steps grow steadily row by row. A depth edge is a step
#: far larger than its neighbours'; the reach of 2 also keeps a soft edge a few pixels wide (larger steps in the
#: middle than two pixels out) an edge
RAMP_STEPS = 4.0
RAMP_RATIO = 1.5
RAMP_REACH = 2
_QUANTILE_MAX = 1 << 22  # torch.quantile input limit is 2**24; subsample well below it


class DepthError(ValueError):
    """Bad depth input (shape, kind, range, or nothing valid)."""


def _as_tensor(x: object) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
    else:
        raise DepthError(f"depth must be a torch.Tensor or numpy array, got {type(x).__name__}")
    if t.dtype == torch.bool or t.is_complex():
        raise DepthError(f"depth must be real-valued, got dtype {t.dtype}")
    return t.to(torch.float32)


def _to_bhw(x: torch.Tensor) -> torch.Tensor:
    """[H,W] | [B,H,W] | IMAGE-like [B,H,W,C] (channel mean of the first 3 channels) -> [B,H,W]."""
    if x.ndim == 2:
        x = x[None]
    elif x.ndim == 4:
        c = x.shape[-1]
        if c < 1 or c > 4:
            raise DepthError(f"IMAGE-like depth must be [B,H,W,C] with C in 1..4, got shape {tuple(x.shape)}")
        x = x[..., : min(c, 3)].mean(dim=-1)
    elif x.ndim != 3:
        raise DepthError(f"depth must be [H,W], [B,H,W] or [B,H,W,C], got shape {tuple(x.shape)}")
    if min(x.shape) < 1:
        raise DepthError(f"depth map is empty: shape {tuple(x.shape)}")
    return x


def _sum2x2(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    return x.view(b, c, h // 2, 2, w // 2, 2).sum(dim=(3, 5))


def fill_invalid(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill ``values[~valid]`` from valid neighbours with a push-pull average; ``[B,H,W]`` in and out.

    Every batch item must hold at least one valid value (checked by the callers).
    """
    v = torch.where(valid, values, torch.zeros_like(values))[:, None]
    w = valid.to(values.dtype)[:, None]
    levels: list[tuple[torch.Tensor, torch.Tensor]] = []
    while bool((w <= 0).any()) and min(v.shape[-2:]) > 1:
        levels.append((v, w))
        h, wd = v.shape[-2:]
        pad = (0, wd % 2, 0, h % 2)
        s_v = _sum2x2(F.pad(v * w, pad))
        s_w = _sum2x2(F.pad(w, pad))
        v = torch.where(s_w > 0, s_v / s_w.clamp_min(1e-12), torch.zeros_like(s_v))
        w = (s_w > 0).to(values.dtype)
    if bool((w <= 0).any()):  # a 1-pixel-wide strip: fall back to the mean of the valid values per item
        mean = (v * w).flatten(1).sum(1) / w.flatten(1).sum(1).clamp_min(1e-12)
        v = torch.where(w > 0, v, mean.view(-1, 1, 1, 1).expand_as(v))
    for fine_v, fine_w in reversed(levels):
        up = F.interpolate(v, scale_factor=2.0, mode="nearest")[..., : fine_v.shape[-2], : fine_v.shape[-1]]
        v = torch.where(fine_w > 0, fine_v, up)
    return v[:, 0]


def _robust_quantiles(x: torch.Tensor, valid: torch.Tensor, qs: tuple[float, float, float]) -> torch.Tensor:
    """Per-item quantiles of the valid values -> [B,3] (deterministic subsampling above the quantile limit)."""
    flat = torch.where(valid, x, torch.full_like(x, float("nan"))).flatten(1)
    step = max(1, -(-flat.shape[1] // _QUANTILE_MAX))
    flat = flat[:, ::step]
    q = torch.tensor(qs, dtype=flat.dtype, device=flat.device) / 100.0
    return torch.nanquantile(flat, q, dim=1).T  # [B,3]


def _affine_anchor(t: torch.Tensor, q: torch.Tensor, at_med: float, at_hi: float, at_lo: float) -> torch.Tensor:
    """Affine map of ``t`` with ``med -> at_med`` and ``hi -> at_hi`` (or ``lo -> at_lo`` if hi collapses)."""
    lo, med, hi = (q[:, i].view(-1, 1, 1) for i in range(3))
    scale = (hi.abs() + lo.abs()) * 1e-6 + 1e-12
    slope_hi = (at_hi - at_med) / (hi - med).clamp_min(1e-30)
    slope_lo = (at_med - at_lo) / (med - lo).clamp_min(1e-30)
    slope = torch.where(hi - med > scale, slope_hi, torch.where(med - lo > scale, slope_lo, torch.zeros_like(hi)))
    return at_med + (t - med) * slope


def depth_from_map(
    x: torch.Tensor | np.ndarray,
    kind: DepthKind = "inverse_depth",
    *,
    near: float = DEFAULT_NEAR,
    far: float = DEFAULT_FAR,
    normalise: bool = True,
    subject_depth: float = DEFAULT_SUBJECT_DEPTH,
    percentiles: tuple[float, float] = (2.0, 98.0),
) -> torch.Tensor:
    """Turn a depth-like map into positive depth ``[B,H,W]`` float32 (scene units, OpenCV ``z``).

    ``x``: ``[H,W]``, ``[B,H,W]`` or IMAGE-like ``[B,H,W,C]`` (channel mean). See the module docstring for the
    ranges. ``normalise=False``: ``"depth"`` is metric and passes through; ``"inverse_depth"`` is ``1/x``;
    ``"disparity"`` in pixels needs a focal length and baseline (use :func:`disparity_to_depth`).
    """
    if kind not in ("depth", "inverse_depth", "disparity"):
        raise DepthError(f"kind must be 'depth', 'inverse_depth' or 'disparity', got {kind!r}")
    if not (0.0 < near < subject_depth < far) or not np.isfinite(far):
        raise DepthError(f"need 0 < near < subject_depth < far (finite), got {near}, {subject_depth}, {far}")
    p_lo, p_hi = float(percentiles[0]), float(percentiles[1])
    if not (0.0 <= p_lo < 50.0 < p_hi <= 100.0):
        raise DepthError(f"percentiles must satisfy 0 <= lo < 50 < hi <= 100, got {percentiles}")
    d = _to_bhw(_as_tensor(x))
    finite = torch.isfinite(d)
    if not normalise:
        if kind == "disparity":
            raise DepthError("pixel disparity needs a focal length and baseline: use disparity_to_depth()")
        valid = finite & (d > 0)
        depth = d if kind == "depth" else 1.0 / torch.where(valid, d, torch.ones_like(d))
        valid &= torch.isfinite(depth) & (depth > 0)
        _require_some(valid)
        return fill_invalid(depth, valid).clamp_min(_MIN_DEPTH).nan_to_num(posinf=1e30).clamp_max(1e30)
    _require_some(finite)
    q = _robust_quantiles(d, finite, (p_lo, 50.0, p_hi))
    t = fill_invalid(d, finite)
    if kind == "depth":  # bright = far; near end anchored at the low percentile
        lo, med, hi = q[:, 0:1], q[:, 1:2], q[:, 2:3]
        flipped = torch.cat([-hi, -med, -lo], dim=1)
        depth = _affine_anchor(-t, flipped, subject_depth, near, far)  # nearness = -depth-value
        return depth.clamp(near, far).contiguous()
    inv = _affine_anchor(t, q, 1.0 / subject_depth, 1.0 / near, 1.0 / far)
    return (1.0 / inv.clamp(1.0 / far, 1.0 / near)).contiguous()


def _require_some(valid: torch.Tensor) -> None:
    if not bool(valid.flatten(1).any(dim=1).all()):
        raise DepthError("depth map has no valid (finite, positive) value in at least one batch item")


def disparity_to_depth(
    disp: torch.Tensor | np.ndarray, focal_px: float, baseline: float, *, doffs: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stereo disparity (pixels) to depth ``z = focal_px * baseline / (disp + doffs)``.

    ``doffs`` is the principal-point offset between the rectified cameras (Middlebury ``cx1 - cx0``).
    Returns ``(depth, valid)`` with the input's shape; invalid pixels (non-finite or ``disp + doffs <= 0``) have
    ``valid = False`` and ``depth = 0``, which the renderer treats as "no point".
    """
    if not (np.isfinite(focal_px) and focal_px > 0 and np.isfinite(baseline) and baseline > 0):
        raise DepthError(f"focal_px and baseline must be finite and > 0, got {focal_px}, {baseline}")
    if not np.isfinite(doffs):
        raise DepthError(f"doffs must be finite, got {doffs}")
    d = _as_tensor(disp) + float(doffs)
    valid = torch.isfinite(d) & (d > 0)
    depth = float(focal_px) * float(baseline) / torch.where(valid, d, torch.ones_like(d))
    valid &= torch.isfinite(depth)
    return torch.where(valid, depth, torch.zeros_like(depth)), valid


def stereo_cameras(focal_px: float, cx: float, cy: float, baseline: float, *,
                   doffs: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rectified stereo pair's cameras, to render the left view into the right one: ``(K_left, K_right,
    right_T_left)`` (the right camera ``baseline`` to the left camera's right, its principal point ``doffs`` further
    right, as Middlebury's calibration gives them)."""
    K_left = np.array([[focal_px, 0.0, cx], [0.0, focal_px, cy], [0.0, 0.0, 1.0]])
    K_right = K_left.copy()
    K_right[0, 2] += doffs
    right_T_left = np.eye(4)
    right_T_left[0, 3] = -baseline
    return K_left, K_right, right_T_left


def fallback_depth_prior(
    height: int,
    width: int,
    horizon: float = 0.45,
    *,
    near: float = DEFAULT_NEAR,
    far: float = DEFAULT_FAR,
    subject_depth: float = DEFAULT_SUBJECT_DEPTH,
    subject_radius: float = 0.22,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """An approximate depth ``[H,W]`` for images without a depth map (label it with :data:`FALLBACK_NOTE`).

    Ground plane below the horizon row (``horizon`` as a fraction of the height): depth ``near`` at the bottom
    row, growing as ``1/(v - v_horizon)`` toward the horizon; ``far`` above it (sky/background); plus a soft
    subject bulge centred slightly below the image centre that reaches ``subject_depth`` at its peak
    (``subject_radius`` is its Gaussian sigma as a fraction of the shorter side; 0 disables it).
    """
    if height < 1 or width < 1:
        raise DepthError(f"height and width must be >= 1, got {height}x{width}")
    if not (0.0 <= horizon < 1.0):
        raise DepthError(f"horizon must be in [0, 1), got {horizon}")
    if not (0.0 < near <= subject_depth < far) or not np.isfinite(far) or subject_radius < 0:
        raise DepthError(f"need 0 < near <= subject_depth < far and subject_radius >= 0, got "
                         f"{near}, {subject_depth}, {far}, {subject_radius}")
    v = torch.arange(height, dtype=torch.float32, device=device)[:, None]
    u = torch.arange(width, dtype=torch.float32, device=device)[None, :]
    v_h = horizon * (height - 1)
    below = max(float(height - 1) - v_h, 1e-6)
    inv_ground = ((v - v_h).clamp_min(0.0) / below) / near  # 1/depth, linear in the row below the horizon
    inv = inv_ground.expand(height, width).clamp_min(1.0 / far)
    if subject_radius > 0:
        sigma = subject_radius * min(height, width)
        r2 = (u - 0.5 * (width - 1)) ** 2 + (v - 0.55 * (height - 1)) ** 2
        inv = torch.maximum(inv, torch.exp(-0.5 * r2 / sigma**2) / subject_depth)
    return (1.0 / inv).clamp(near, far).contiguous()


def depth_or_fallback(
    x: torch.Tensor | np.ndarray | None, height: int, width: int, kind: DepthKind = "inverse_depth", **kwargs
) -> tuple[torch.Tensor, str | None]:
    """``(depth [B,H,W], note)``: :func:`depth_from_map` of ``x``, or the prior with :data:`FALLBACK_NOTE`."""
    if x is None:
        prior_kw = {k: kwargs[k] for k in ("near", "far", "subject_depth") if k in kwargs}
        return fallback_depth_prior(height, width, **prior_kw)[None], FALLBACK_NOTE
    return depth_from_map(x, kind, **kwargs), None


def dequantize_depth(depth: torch.Tensor, sigma: float = 3.0) -> torch.Tensor:
    """A quantised depth map (an 8-bit PNG: most pixels hold one of at least :data:`_MIN_LEVELS` *levels*, values
    that at least :data:`_LEVEL_PIXELS` pixels share) made smooth within its quantisation bins; any other ``depth
    [H,W]`` (a float map, a scene of a few flat planes, a 16-bit map, whose steps are too fine to matter) is
    returned as it is (the same tensor).

    Quantised, a smooth slope is a staircase of flat terraces. A large move opens the parallax of one level between
    the terraces, a crack along every contour through which the background shows. Each valid pixel (finite,
    ``> 0``) on a level takes the Gaussian (``sigma`` px) mean inverse depth of the valid pixels around it, clamped
    to its level's bin: from the middle between it and the next lower level to the middle to the next higher. So
    the ramps come back, and no pixel moves by more than half a level, at an edge or anywhere. Pixels off the
    levels (invalid values a repair filled in) keep their depth. Returns a new tensor."""
    z = depth.to(torch.float32)
    flat = z.flatten()
    probe = flat[:: max(1, flat.numel() // _PROBE)]
    _, counts = torch.unique(probe[torch.isfinite(probe) & (probe > 0)], return_counts=True)
    if int(counts[counts > 1].sum()) * 2 <= int(counts.sum()):  # cheap: a float map (a render's own depth) ends here
        return depth
    valid = torch.isfinite(z) & (z > 0)
    values, counts = torch.unique(z[valid], return_counts=True)  # sorted
    levels = values[counts >= _LEVEL_PIXELS]
    n = levels.numel()
    if n < _MIN_LEVELS:
        return depth
    at = torch.searchsorted(levels, torch.where(valid, z, levels[0])).clamp_(max=n - 1)
    on = valid & (levels[at] == z)
    mid = torch.cat([levels[:1], 0.5 * (levels[1:] + levels[:-1]), levels[-1:]])  # bin edges
    wgt = valid.to(torch.float32)
    x = _gaussian_blur(torch.stack([torch.where(valid, 1.0 / z, 0.0), wgt]), sigma)
    smooth = x[1].clamp_min(1e-12) / x[0].clamp_min(1e-30)  # 1 / mean inverse depth
    return torch.where(on, torch.minimum(torch.maximum(smooth, mid[at]), mid[at + 1]), z)


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur (radius ``3 sigma``, edges replicated) of the last two dimensions of ``x``, as
    shifted adds (an order of magnitude faster than ``conv2d`` on CPU for one channel)."""
    r = max(1, math.ceil(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float64) / sigma) ** 2)
    k = (k / k.sum()).tolist()
    for d in (-1, -2):
        n = x.shape[d]
        p = F.pad(x[None], (r, r, 0, 0) if d == -1 else (0, 0, r, r), mode="replicate")[0]
        out = p.narrow(d, 0, n) * k[0]
        for i in range(1, 2 * r + 1):
            out.add_(p.narrow(d, i, n), alpha=k[i])
        x = out
    return x


def snap_depth_edges(image: torch.Tensor, depth: torch.Tensor, *, step: float = 1.5, radius: int = 2,
                     tol: float = 0.05, passes: int = 2) -> torch.Tensor:
    """Soft depth edges made sharp: ``depth [H,W]`` (``<= 0``/non-finite = no point) with every pixel that lies
    *between* the two sides of a depth edge moved onto the side whose colour it shows, from ``image [C,H,W]``.

    Monocular depth blurs an object's outline over a few pixels, and even ground truth puts the outline's mixed
    colours (and any repaired invalid depth) at in-between depths. Rendered, those pixels float between the object
    and what is behind it: a dark contour left hanging over the background, which a fill then smears into the
    disocclusion. A pixel is *in between* where its ``(2 radius + 1)^2`` window spans a depth ratio of more than
    ``step`` and the pixel is more than ``tol`` (log) from both the window's nearest and farthest depth. It takes
    the side its 3x3 neighbourhood leans to: the pixels on the two sides of the edge vote near (+1) and far (-1),
    each in-between pixel by its colour -- from -1 to 1 as its colour is nearer the mean colour of the window's
    far side (pixels within ``tol`` of the farthest depth) or of its near side (within ``tol`` of the nearest).
    Then the sides' majority over each such 3x3 decides once more, so that an outline of ambiguous colours (a
    shadow beside an object, a dark stem) splits into runs joined to one side or the other, not into specks that
    a move scatters as shards. ``passes`` rounds reach ramps wider than the window. Smooth slopes span less than
    ``step`` in a window and are left alone.
    Vectorised torch, deterministic; returns a new tensor."""
    h, w = depth.shape
    z = depth.to(torch.float32).clone()
    valid = torch.isfinite(z) & (z > 0)
    if h * w < 2 or not bool(valid.any()):
        return z
    img = image.to(torch.float32)
    dy, dx = torch.meshgrid(torch.arange(-radius, radius + 1, device=z.device),
                            torch.arange(-radius, radius + 1, device=z.device), indexing="ij")
    ratio = 1.0 + tol
    for _ in range(passes):
        zmax = window_extreme(torch.where(valid, z, 0.0), radius)
        zmin = window_extreme(torch.where(valid, z, float("inf")), radius, torch.minimum)
        edge = valid & (zmax > zmin * step)
        between = edge & (z > zmin * ratio) & (z < zmax / ratio)
        y, x = between.nonzero().unbind(1)
        if y.numel() == 0:
            break
        yy, xx = (y[:, None] + dy.reshape(-1)).clamp_(0, h - 1), (x[:, None] + dx.reshape(-1)).clamp_(0, w - 1)
        zw, ok = z[yy, xx], valid[yy, xx]
        near_z, far_z = zmin[y, x], zmax[y, x]
        colours, centre = img[:, yy, xx], img[:, y, x]  # [C, n, k*k], [C, n]
        d_near = _colour_distance(colours, centre, ok & (zw <= near_z[:, None] * ratio))
        d_far = _colour_distance(colours, centre, ok & (zw >= far_z[:, None] / ratio))
        votes = _sides(z, edge, zmin, zmax, ratio)
        votes[y, x] = (d_far - d_near) / (d_far + d_near).clamp_min(1e-12)  # the colour's lean, -1 (far) .. 1
        z[y, x] = torch.where(_sum3(votes)[y, x] >= 0, near_z, far_z)
        lean = _sum3(_sides(z, edge, zmin, zmax, ratio))[y, x]  # then the sides' majority: no lone specks
        z[y, x] = torch.where(lean > 0, near_z, torch.where(lean < 0, far_z, z[y, x]))
    return z


def _sides(z: torch.Tensor, edge: torch.Tensor, zmin: torch.Tensor, zmax: torch.Tensor, ratio: float) -> torch.Tensor:
    """+1 where a pixel of an edge window lies on its near side, -1 on its far side, 0 elsewhere."""
    near, far = edge & (z <= zmin * ratio), edge & (z >= zmax / ratio)
    return near.to(z.dtype) - far.to(z.dtype)


def _sum3(x: torch.Tensor) -> torch.Tensor:
    """Sum over each pixel's 3x3 neighbourhood (zero outside the image) of ``x [H,W]``."""
    return F.avg_pool2d(x[None, None], 3, stride=1, padding=1, divisor_override=1)[0, 0]


def continuous_steps(step: torch.Tensor, edge_tol: float, dim: int = -1) -> torch.Tensor:
    """Which log-depth steps ``|d log z|`` between neighbours along ``dim`` join one surface (the renderer's and the
    feasibility model's depth-edge test): under ``edge_tol``, or continuing a ramp (under ``RAMP_STEPS * edge_tol``
    and at most ``RAMP_RATIO`` times each of the ``RAMP_REACH`` steps on either side; near the ends of a line only
    those there count). NaN or inf steps (invalid depth) are edges."""
    n = step.shape[dim]
    pad_shape = list(step.shape)
    pad_shape[dim] = RAMP_REACH
    inf = step.new_full(pad_shape, float("inf"))
    padded = torch.cat([inf, step, inf], dim=dim)
    ramp = step < RAMP_STEPS * edge_tol
    for k in range(RAMP_REACH):
        before, after = padded.narrow(dim, k, n), padded.narrow(dim, RAMP_REACH + 1 + k, n)
        ramp &= (step <= RAMP_RATIO * before) & (step <= RAMP_RATIO * after)
    return (step < edge_tol) | ramp


def window_extreme(x: torch.Tensor, radius: int = 1, op=torch.maximum) -> torch.Tensor:
    """``op`` (``torch.maximum`` or ``torch.minimum``) over the ``(2 radius + 1)^2`` window of every pixel of the
    last two dimensions of ``x`` (the window clipped at the border), separable; returns a new tensor."""
    for d in (-1, -2):
        n, y = x.shape[d], x.clone()
        for s in range(1, min(radius, n - 1) + 1):
            op(y.narrow(d, s, n - s), x.narrow(d, 0, n - s), out=y.narrow(d, s, n - s))
            op(y.narrow(d, 0, n - s), x.narrow(d, s, n - s), out=y.narrow(d, 0, n - s))
        x = y
    return x


def _colour_distance(colours: torch.Tensor, centre: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
    """Squared distance of ``centre [C,n]`` to the mean of ``colours [C,n,k]`` where ``side [n,k]``."""
    wgt = side.to(colours.dtype)
    mean = (colours * wgt).sum(-1) / wgt.sum(-1).clamp_min(1.0)
    return (centre - mean).square().sum(0)
