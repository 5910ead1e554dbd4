"""Strength auto: the largest move a photo can show within a coverage budget (issue 18 part 2).

:func:`fit_strength` takes a function realising the shot at a strength (``strength -> (K [F,3,3],
world_T_cam [F,4,4])``) and the requested strength ``S``, predicts the worst uncovered frame with
:mod:`.feasibility`, and, when ``auto``, searches (bisection, deterministic) the largest strength in ``[0, S]`` whose
worst predicted frame is within ``budget``. The search runs on a coarse grid (:data:`SEARCH_CELLS`) and every other
frame (plus the last); the answer is checked on the full model (:data:`.feasibility.DEFAULT_CELLS`, every frame)
and stepped down if that check exceeds the budget. A clip longer than :data:`MAX_CHECKED` frames is judged on that
many evenly spaced frames (first and last included; half as many in the search) and interpolated between them: a
smooth path changes little from one frame to the next, and the cost stays that of a 121-frame clip (a 1,000-frame
clip took 50 s to search every frame). ``cancel`` is polled before each evaluation. A move that cannot be scaled to fit (a full orbit) so becomes its
largest faithful version: an arc as far as the budget allows.

:func:`budget_note` words the result for a node's note/summary output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..checks import CancelFn, poll
from .feasibility import DEFAULT_CELLS, Feasibility, Lattice, frame_view, predict, prepare_lattice
from .model import CameraTrajectory, invert_rigid

__all__ = ["DEFAULT_BUDGET", "SEARCH_CELLS", "Fit", "budget_depth", "budget_note", "fit_strength", "limit_path"]

DEFAULT_BUDGET = 0.03  #: worst-frame uncovered fraction allowed for the 2.5D output
SEARCH_CELLS = 64  #: the feasibility grid of the search (the final check uses DEFAULT_CELLS)
_ITERATIONS = 7  #: bisection steps (strength to 1/128 of the request)
_PRIOR_SIDE = 384  #: long side of the depth prior when no depth is given
MAX_CHECKED = 121  #: frames the final check evaluates at most (a longer clip: evenly spaced, interpolated between)

Realise = Callable[[float], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Fit:
    """The strength chosen and what the model predicts for it (and for the request)."""

    strength: float
    requested: float
    budget: float
    auto: bool
    result: Feasibility  # at ``strength``, full model
    requested_worst: float  # worst uncovered at the requested strength (search model)

    @property
    def limited(self) -> bool:
        return self.strength < self.requested

    @property
    def over_budget(self) -> bool:
        return self.result.worst_uncovered > self.budget


def budget_depth(depth: np.ndarray | None, width: int, height: int) -> tuple[np.ndarray, str]:
    """The depth the budget is judged with: the given one (of the whole photo) cut to what a ``width x height``
    frame shows of it (:func:`~draw_to_video.trajectory.conventions.centre_crop`: the feasibility model's source
    view is frame 0's, so a photo of another aspect counts its cut-off sides as unseen, the safe side), else the
    fallback prior the one-box node renders with."""
    if depth is not None:
        return frame_view(np.asarray(depth, dtype=np.float64), width, height), "depth"
    from ..render.depth import fallback_depth_prior  # torch, only when needed

    s = min(1.0, _PRIOR_SIDE / max(width, height))
    prior = fallback_depth_prior(max(1, round(height * s)), max(1, round(width * s)))
    return prior.numpy().astype(np.float64), "prior"


def _frames(n: int, every: bool) -> np.ndarray:
    """The frames an evaluation predicts: all (``every``) or every other plus the last, for up to
    :data:`MAX_CHECKED` frames; beyond, :data:`MAX_CHECKED` (or half as many) evenly spaced ones."""
    if n > MAX_CHECKED:
        return np.unique(np.round(np.linspace(0, n - 1, MAX_CHECKED if every else MAX_CHECKED // 2 + 1)).astype(int))
    return np.arange(n) if every else np.unique(np.r_[np.arange(0, n, 2), n - 1])


def _evaluate(lattice: Lattice, realise: Realise, strength: float, every: bool,
              cancel: CancelFn | None = None) -> Feasibility:
    poll(cancel, "strength auto")
    K, world_T_cam = realise(strength)
    sel = _frames(len(K), every)
    res = predict(lattice, K[sel], invert_rigid(world_T_cam[sel]))
    if not every or len(sel) == len(K):
        return res
    frames = np.arange(len(K))
    return Feasibility(np.interp(frames, sel, res.uncovered), np.interp(frames, sel, res.stretched))


def fit_strength(realise: Realise, requested: float, budget: float, auto: bool, depth: np.ndarray,
                 width: int, height: int, K0: np.ndarray, cancel: CancelFn | None = None) -> Fit:
    """See the module docstring. ``depth`` is the z-depth of the source view (any resolution), ``K0`` its
    intrinsics at ``width x height``."""
    coarse = prepare_lattice(depth, width, height, K0, cells=SEARCH_CELLS)
    fine = prepare_lattice(depth, width, height, K0, cells=DEFAULT_CELLS)
    req_worst = _evaluate(coarse, realise, requested, False, cancel).worst_uncovered if requested > 0 else 0.0
    s = requested
    if auto and requested > 0 and req_worst > budget:
        lo, hi = 0.0, requested
        for i in range(2 * _ITERATIONS):  # past _ITERATIONS only while nothing fits (a full orbit: a few degrees)
            if i >= _ITERATIONS and lo > 0:
                break
            mid = 0.5 * (lo + hi)
            if _evaluate(coarse, realise, mid, False, cancel).worst_uncovered <= budget:
                lo = mid
            else:
                hi = mid
        s = lo
    result = _evaluate(fine, realise, s, True, cancel)
    if auto:
        for _ in range(4):  # the full model disagrees with the search: step down
            if result.worst_uncovered <= budget or s <= 0:
                break
            s = s * min(0.9, budget / result.worst_uncovered) if result.worst_uncovered > 0 else 0.0
            result = _evaluate(fine, realise, s, True, cancel)
    return Fit(float(s), float(requested), float(budget), bool(auto), result, float(req_worst))


def fit_meta(fit: Fit, depth_source: str) -> dict:
    """The ``meta`` entries a budgeted shot records (what :func:`budget_note` words)."""
    return {"strength_auto": fit.auto, "budget": fit.budget, "strength": fit.strength,
            "requested_strength": fit.requested, "limited": fit.limited, "over_budget": fit.over_budget,
            "worst_uncovered": fit.result.worst_uncovered, "worst_frame": fit.result.worst_frame,
            "worst_stretched": fit.result.worst_stretched, "requested_uncovered": fit.requested_worst,
            "budget_depth": depth_source}


def limit_path(traj: CameraTrajectory, depth: np.ndarray | None, budget: float, auto: bool = True,
               cancel: CancelFn | None = None) -> CameraTrajectory:
    """A given camera path (an imported film move) held to the coverage budget like any preset: its motion relative
    to the first camera (translation, and rotation as a rotation vector) is scaled by the largest factor in
    ``[0, 1]`` whose worst predicted frame is within ``budget`` (``auto``; else it is only measured). The source
    photo is seen from the first camera, as the renderer assumes."""
    from scipy.spatial.transform import Rotation

    first = traj.world_T_cam[0]
    rel = invert_rigid(first)[None] @ traj.world_T_cam
    rotvec = Rotation.from_matrix(rel[:, :3, :3]).as_rotvec()

    def realise(s: float) -> tuple[np.ndarray, np.ndarray]:
        T = rel.copy()
        T[:, :3, :3] = Rotation.from_rotvec(rotvec * s).as_matrix()
        T[:, :3, 3] *= s
        return traj.K, T

    dep, source = budget_depth(depth, traj.width, traj.height)
    fit = fit_strength(realise, 1.0, budget, auto, dep, traj.width, traj.height, traj.source_K(), cancel)
    world_T_cam = first[None] @ realise(fit.strength)[1] if fit.limited else traj.world_T_cam  # unlimited: as given
    return CameraTrajectory(traj.width, traj.height, traj.fps, traj.K, world_T_cam, traj.focus_distance,
                            traj.aperture, traj.intent, traj.preset, {**traj.meta, **fit_meta(fit, source)})


def budget_note(meta: dict) -> str:
    """One line for a node's note: which budget applied, what was limited and by how much, or a warning."""
    if meta.get("budget") is None:
        return ""
    b, worst = float(meta["budget"]), float(meta["worst_uncovered"])
    src = "the approximate depth prior" if meta.get("budget_depth") == "prior" else "the depth"
    overscan = float(meta.get("overscan", 1.0))
    zoom = f", overscan {overscan:g}" if overscan < 1.0 else ""
    head = f"coverage budget {b:.0%} (judged with {src}{zoom})"
    if meta.get("strength_auto"):
        if meta.get("limited"):
            req, s = float(meta["requested_strength"]), float(meta["strength"])
            arc = ""
            if meta.get("orbits") and meta.get("sweep_deg") is not None:
                arc = f"; it becomes a {meta['sweep_deg']:.0f} degree arc (of {meta['requested_sweep_deg']:.0f})"
            return (f"{head}: strength auto limited the move to strength {s:.3g} of {req:g} ({s / req:.1%}){arc}; worst frame "
                    f"{worst:.1%} uncovered, {float(meta['requested_uncovered']):.0%} at the full strength")
        return f"{head}: strength auto kept the full move (strength {float(meta['strength']):g}); worst frame {worst:.1%} uncovered"
    if meta.get("over_budget"):
        return (f"WARNING: strength {float(meta['strength']):g} goes beyond the {head}: its worst frame (frame "
                f"{int(meta['worst_frame'])}) is {worst:.0%} uncovered, filled by the renderer or the video model; "
                "strength auto would limit it")
    return f"{head}: strength {float(meta['strength']):g} is within it; worst frame {worst:.1%} uncovered"


def sweep(centres: np.ndarray, subject: np.ndarray) -> float:
    """The angle (degrees) the cameras turn around ``subject``, summed frame to frame (360 for a full orbit)."""
    v = np.asarray(centres, dtype=np.float64) - np.asarray(subject, dtype=np.float64)[None, :]
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-300)
    cos = np.einsum("fi,fi->f", v[1:], v[:-1])
    return float(math.degrees(np.arccos(np.clip(cos, -1.0, 1.0)).sum()))
