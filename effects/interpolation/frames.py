"""Frame interpolation: RIFE (user weights) or weight-free optical flow, scene-cut aware, plus speed-curve retiming.

Frames are ``[F, H, W, C]`` float tensors in 0..1 (C = 3 or 4). Every output frame sits at a source position
``p`` in ``[0, F-1]``; integer positions are the original frames, copied bit-exactly; a fractional position between
frames ``i`` and ``i+1`` is made by a *backend* at ``t = p - i``. Alpha (C = 4) of a made frame is the linear blend
of its neighbours' alpha.

Backends (``mode``): ``"flow"`` (:class:`~.flow.FlowBackend`, the default needing no weights), ``"rife"``
(:class:`RIFEBackend` around a :class:`~.rife.RIFE`), ``"blend"`` (plain cross-fade, the baseline). Any object with the
:class:`InterpolationBackend` call signature can be passed as ``backend=``: this is the extension point for
camera-aware interpolation (re-rendering the in-between frames from the camera trajectory and depth), which is not
part of this module.

Scene cuts: a neighbour pair whose :func:`scene_cut_scores` reaches ``scene_cut_threshold`` is never interpolated
across; positions between its frames show the nearer original frame (t < 0.5 holds the earlier one, t >= 0.5
the later one), so the cut stays a hard cut and lands at the midpoint in time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ...trajectory.checks import CancelFn, ProgressFn, poll
from .._core import check_frames, fail, luma_last
from ..time import retime_timestamps
from .flow import FlowBackend
from .rife import RIFE

#: Default scene-cut threshold of :func:`scene_cut_scores` (cuts in real footage score about 0.3 and more, motion
#: about 0.15 and less).
SCENE_CUT_THRESHOLD = 0.25
MODES = ("auto", "rife", "flow", "blend")


class InterpolationBackend(Protocol):
    """Makes in-between frames: ``a, b [P,3,H,W]`` (pairs on the compute device; may be views of the clip, so never
    written to), ``pair [J]`` (row of each job in ``a``/``b``) and ``t [J]`` (float64, in (0, 1)) -> ``[J,3,H,W]``
    in 0..1."""

    def __call__(self, a: torch.Tensor, b: torch.Tensor, pair: torch.Tensor, t: torch.Tensor) -> torch.Tensor: ...


# ----------------------------------------------------------------------------------------------- scene cuts


def scene_cut_scores(frames: torch.Tensor, size: int = 64) -> torch.Tensor:
    """Cut score ``[F-1]`` in 0..1 of each neighbour pair: the mean of the 32-bin luma histogram distance (half the
    L1) and twice the mean absolute luma difference (capped at 1), both on ``size``-px thumbnails."""
    frames = check_frames(frames)
    h, w = frames.shape[1:3]
    s = min(1.0, size / max(h, w))
    # area averaging commutes with the luma weighting: shrink the RGB first, then take the luma of the thumbnails
    small = F.interpolate(frames[..., :3].permute(0, 3, 1, 2).float(), size=(max(1, round(h * s)), max(1, round(w * s))),
                          mode="area")
    th = luma_last(small.permute(0, 2, 3, 1)).clamp(0, 1).cpu()
    if th.shape[0] < 2:
        return torch.zeros(0)
    bins = (th * 31.999).long().flatten(1)
    hist = torch.zeros(th.shape[0], 32).scatter_add_(1, bins, torch.ones_like(bins, dtype=torch.float32))
    hist /= hist.sum(1, keepdim=True)
    hd = (hist[1:] - hist[:-1]).abs().sum(1) / 2
    mad = (th[1:] - th[:-1]).abs().mean((1, 2))
    return 0.5 * (hd + (2 * mad).clamp(max=1.0))


def scene_cuts(frames: torch.Tensor, threshold: float = SCENE_CUT_THRESHOLD) -> torch.Tensor:
    """Bool ``[F-1]``: True where the pair ``(i, i+1)`` is a scene cut. ``threshold`` > 1 disables detection."""
    return scene_cut_scores(frames) >= threshold


# ----------------------------------------------------------------------------------------------- backends


def blend_backend(a: torch.Tensor, b: torch.Tensor, pair: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Plain cross-fade (the baseline every other backend must beat)."""
    w = t.to(device=a.device, dtype=a.dtype).view(-1, 1, 1, 1)
    return torch.lerp(a[pair], b[pair], w)


class RIFEBackend:
    """Runs a loaded :class:`~.rife.RIFE` (options as in :meth:`~.rife.RIFE.interpolate`)."""

    def __init__(self, model: RIFE, *, scale: float = 1.0, ensemble: bool = False, fast: bool = False) -> None:
        self.model, self.scale, self.ensemble, self.fast = model, scale, ensemble, fast

    def __call__(self, a: torch.Tensor, b: torch.Tensor, pair: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        p = pair.to(a.device)
        return self.model.interpolate(a[p], b[p], t, pair_ids=pair, scale=self.scale, ensemble=self.ensemble,
                                      fast=self.fast)


# ----------------------------------------------------------------------------------------------- pipeline


def _backend(mode: str, rife: RIFE | None, backend: InterpolationBackend | None, *, scale: float, ensemble: bool,
             fast: bool, flow_preset: str, flow_max_side: int) -> InterpolationBackend:
    if backend is not None:
        if not callable(backend):
            fail("backend must be callable (see InterpolationBackend)")
        return backend
    if mode not in MODES:
        fail(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if rife is not None and not isinstance(rife, RIFE):
        fail(f"rife must be a loaded RIFE model (effects.rife.load_rife), got {type(rife).__name__}")
    if mode == "rife" and rife is None:
        fail("mode 'rife' needs a RIFE model (the 'load RIFE weights' node or effects.rife.load_rife); use mode "
             "'flow' without one")
    if mode == "rife" or (mode == "auto" and rife is not None):
        assert rife is not None
        if ensemble and not rife.spec.supports_ensemble:
            fail(f"ensemble is not part of {rife.spec.name}")
        return RIFEBackend(rife, scale=scale, ensemble=ensemble, fast=fast)
    if mode == "blend":
        return blend_backend
    return FlowBackend(flow_preset, flow_max_side)


def interpolate_at(frames: torch.Tensor, positions: Sequence[float] | np.ndarray | torch.Tensor, *, mode: str = "auto",
                   rife: RIFE | None = None, backend: InterpolationBackend | None = None,
                   scene_cut_threshold: float = SCENE_CUT_THRESHOLD, scale: float = 1.0, ensemble: bool = False,
                   fast: bool = False, flow_preset: str = "medium", flow_max_side: int = 720, batch_pairs: int = 1,
                   device: torch.device | str | None = None,
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                   empty_cache_every: int = 0) -> torch.Tensor:
    """Frames at source ``positions`` (float, in ``[0, F-1]``): ``[len(positions), H, W, C]``.

    Integer positions copy the original frames bit-exactly. ``mode`` "auto" = RIFE when ``rife`` is given, else
    flow. Work runs on ``device`` (default: the frames' device) ``batch_pairs`` frame pairs at a time; the result is
    on the frames' device and dtype. ``progress(done, total)`` is called after each pair, ``cancel()`` before each
    batch (it may raise, or return True to raise :class:`~draw_to_video.trajectory.checks.Cancelled`). On CUDA,
    ``torch.cuda.empty_cache()`` runs every ``empty_cache_every`` pairs (0 = never).
    """
    frames = check_frames(frames)
    n, h, w, c = frames.shape
    pos = torch.as_tensor(np.asarray(positions.cpu() if isinstance(positions, torch.Tensor) else positions,
                                     dtype=np.float64)).flatten()
    if pos.numel() == 0 or not bool(torch.isfinite(pos).all()) or bool((pos < 0).any()) or bool((pos > n - 1).any()):
        fail(f"positions must be a non-empty list of finite numbers in [0, {n - 1}]")
    if isinstance(batch_pairs, bool) or not isinstance(batch_pairs, int) or batch_pairs < 1:
        fail(f"batch_pairs must be an int >= 1, got {batch_pairs!r}")
    if isinstance(empty_cache_every, bool) or not isinstance(empty_cache_every, int) or empty_cache_every < 0:
        fail(f"empty_cache_every must be an int >= 0, got {empty_cache_every!r}")
    if isinstance(scene_cut_threshold, bool) or not isinstance(scene_cut_threshold, (int, float)) \
            or not math.isfinite(scene_cut_threshold) or scene_cut_threshold <= 0:
        fail(f"scene_cut_threshold must be a number > 0 (above 1 disables cut detection), got {scene_cut_threshold!r}")
    be = _backend(mode, rife, backend, scale=scale, ensemble=ensemble, fast=fast, flow_preset=flow_preset,
                  flow_max_side=flow_max_side)
    dev = torch.device(device) if device is not None else frames.device
    out = frames.new_empty((pos.numel(), h, w, c))
    near = pos.round()
    exact = (pos - near).abs() < 1e-9
    src = torch.where(exact, near, pos.floor()).long().clamp(0, n - 1)
    for i, k in zip(exact.nonzero().flatten().tolist(), src[exact].tolist()):  # one copy per original
        out[i] = frames[k]
    if bool(exact.all()):
        return out
    t = pos - src.double()
    frac = (~exact).nonzero().flatten()
    cuts = scene_cuts(frames, scene_cut_threshold) if scene_cut_threshold <= 1 else torch.zeros(n - 1, dtype=torch.bool)
    at_cut = cuts[src[frac]]
    held = frac[at_cut]  # across a cut: the nearer original frame
    out[held.to(frames.device)] = frames[(src[held] + (t[held] >= 0.5).long()).to(frames.device)]
    jobs = frac[~at_cut]
    pairs = torch.unique(src[jobs])
    for start in range(0, pairs.numel(), batch_pairs):
        poll(cancel, "interpolation")
        chunk = pairs[start:start + batch_pairs]
        sel = jobs[torch.isin(src[jobs], chunk)]
        row = torch.searchsorted(chunk, src[sel])
        lo, hi = int(chunk[0]), int(chunk[-1]) + 1
        if hi - lo == chunk.numel():  # consecutive pairs: views, no copies
            a, b = frames[lo:hi, ..., :3], frames[lo + 1:hi + 1, ..., :3]
        else:
            i0 = chunk.to(frames.device)
            a, b = frames[i0, ..., :3], frames[i0 + 1, ..., :3]
        a, b = a.to(dev).permute(0, 3, 1, 2).float(), b.to(dev).permute(0, 3, 1, 2).float()
        with torch.inference_mode():
            made = be(a, b, row, t[sel])
        if not isinstance(made, torch.Tensor) or made.shape != (sel.numel(), 3, h, w):
            fail(f"interpolation backend returned {getattr(made, 'shape', type(made).__name__)}, expected "
                 f"{(sel.numel(), 3, h, w)}")
        made = made.permute(0, 2, 3, 1)
        for k, r in enumerate(sel.tolist()):  # copied (to the clip's device and dtype) and cleaned in place
            rgb = out[r, ..., :3]
            rgb.copy_(made[k])
            rgb.nan_to_num_(0.5).clamp_(0, 1)
        dst = sel.to(frames.device)
        if c == 4:
            tw = t[sel].to(device=frames.device, dtype=frames.dtype).view(-1, 1, 1, 1)
            s0 = src[sel].to(frames.device)
            out[dst, ..., 3:] = torch.lerp(frames[s0, ..., 3:], frames[s0 + 1, ..., 3:], tw)
        done = min(start + batch_pairs, pairs.numel())
        if dev.type == "cuda" and empty_cache_every and (done // empty_cache_every) > (start // empty_cache_every):
            torch.cuda.empty_cache()
        if progress is not None:
            for k in range(start + 1, done + 1):
                progress(k, int(pairs.numel()))
    return out


def multiplier_positions(n: int, multiplier: int = 2, timesteps: Sequence[float] | None = None) -> np.ndarray:
    """Source positions for ``multiplier`` (or explicit in-between ``timesteps`` in (0, 1), strictly increasing)
    between every neighbour pair: ``(n-1) * (k+1) + 1`` positions with the originals at every ``k+1``-th."""
    if timesteps is None:
        if isinstance(multiplier, bool) or not isinstance(multiplier, (int, np.integer)) or not 1 <= multiplier <= 64:
            fail(f"multiplier must be an int in [1, 64], got {multiplier!r}")
        ts = np.arange(1, multiplier, dtype=np.float64) / multiplier
    else:
        try:
            ts = np.asarray(timesteps, dtype=np.float64).flatten()
        except (TypeError, ValueError):
            fail("timesteps must be a list of numbers in (0, 1)")
        if not np.all(np.isfinite(ts)) or np.any(ts <= 0) or np.any(ts >= 1) or np.any(np.diff(ts) <= 0):
            fail("timesteps must be finite, strictly increasing and strictly between 0 and 1")
    grid = np.arange(n - 1, dtype=np.float64)[:, None] + np.r_[0.0, ts][None, :]
    return np.r_[grid.flatten(), float(n - 1)]


def fps_positions(n: int, src_fps: float, dst_fps: float) -> np.ndarray:
    """Source positions of output frames at ``dst_fps`` covering the ``n`` source frames at ``src_fps``."""
    for name, v in (("source fps", src_fps), ("target fps", dst_fps)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and 0 < v <= 1000):
            fail(f"{name} must be a number in (0, 1000], got {v!r}")
    step = src_fps / dst_fps
    count = int(math.floor((n - 1) / step + 1e-9)) + 1
    pos = np.arange(count, dtype=np.float64) * step
    near = np.round(pos)
    return np.where(np.abs(pos - near) < 1e-9, near, pos)


def interpolate(frames: torch.Tensor, multiplier: int = 2, *, timesteps: Sequence[float] | None = None,
                **kwargs) -> torch.Tensor:
    """Insert in-between frames: ``(F-1) * multiplier + 1`` frames (or ``(F-1) * (len(timesteps)+1) + 1``), the
    originals unchanged at every ``multiplier``-th position. Options as in :func:`interpolate_at`."""
    frames = check_frames(frames)
    return interpolate_at(frames, multiplier_positions(frames.shape[0], multiplier, timesteps), **kwargs)


def retime(frames: torch.Tensor, curve: str, fps: float = 24.0, *, strength: float = 1.0, **kwargs) -> torch.Tensor:
    """Re-time a clip by a speed curve (see :func:`.time.retime_timestamps`), in-betweens made by the interpolator
    instead of cross-fades. Options as in :func:`interpolate_at`."""
    frames = check_frames(frames)
    ts = retime_timestamps(frames.shape[0], curve, fps, strength=strength)
    return interpolate_at(frames, ts * fps, **kwargs)
