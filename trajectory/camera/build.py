"""Where a stroke becomes a camera: :func:`build_trajectory` (stroke, optional) + :class:`ShotOptions` ->
:class:`.model.CameraTrajectory`.

:class:`ShotOptions` holds what the user chose (preset, clock, frame size, lens, strength, easing, shake); it
validates itself, so the node, the HTTP route and the CLI share one validator. The presets themselves are in
:mod:`.presets`.

``preset="auto"`` takes the move picked on the drawing node when the stroke set carries one (``StrokeSet.preset``),
else reads the stroke's intent (:func:`auto_preset`):

* **straight** - within 30 degrees of horizontal: ``truck`` along it (drawn to the right -> the camera
  trucks right); pointing down (more than 30 degrees below horizontal) or ending at/over the canvas
  edge it points out of: ``pull_back``; otherwise ``dolly``: push toward where it ends, turning to
  centre that point.
* **arc** -> ``arc`` around the point under the arc's centre; **circle** -> ``orbit`` around the circled
  subject, in the drawn sense (clockwise on screen = the camera moves to its left first, see
  :mod:`.shots_path`); **spiral** -> ``spiral_zoom`` (inward = push in, outward = pull out);
  **zigzag** -> ``zigzag`` (whip pans at the reversals, handheld); **freeform** -> ``follow_path``.
* no stroke -> ``static`` (nothing was drawn, so nothing moves).

The subject point (the centre of orbits, what pushes approach, the scale ``d`` of every move) is
the lifted circle/arc/spiral centre for orbiting presets when the stroke is one of those shapes, the
lifted end point for ``dolly`` and ``follow_path`` when a stroke is given, else the image centre at
the depth there (``DEFAULT_SUBJECT_DEPTH`` without a depth map).

Build steps: ease the frame times, evaluate the preset, re-time it against :data:`DEFAULT_LIMITS`
(scaled by ``d``; :func:`.motion.limit_timing`), and if even constant speed is over the limits lower
the strength until it is not (``meta["effective_strength"]``; this only happens for very short
clips); then apply look-at/roll relative to frame 0, the seeded shake and the zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ..checks import CancelFn
from ..conventions import DEFAULT_SUBJECT_DEPTH
from ..stroke.features import N_FEATURE_SAMPLES
from ..stroke.format import StrokeSet
from ..stroke.intent import Intent, analyze_prepared
from ..stroke.prepare import PreparedStroke, prepare
from .lift import lift, lift_points
from .model import MAX_FRAMES, CameraTrajectory, K_from_fov, intrinsics
from .motion import EASING_RANGE, EASINGS, Limits, axis_rotation, limit_timing, look_at_rotation, shake
from .presets import PRESET_NAMES, PRESETS
from .shotkit import PresetContext, Shot

#: Translation limits per unit of subject depth: 4 d/s, 16 d/s^2, 120 d/s^3.
DEFAULT_LIMITS = Limits(v=4.0, a=16.0, j=120.0)
FOV_MIN_DEG, FOV_MAX_DEG = 10.0, 120.0
MAX_STRENGTH = 5.0
MAX_SIDE = 16384
MIN_OVERSCAN = 0.8  #: the most a shot zooms in to keep the uncovered border off screen (1 / 0.8 = 1.25x)
_MARGIN_DEG = 0.25  # zoom stays this far inside [10, 120] degrees

__all__ = ["DEFAULT_LIMITS", "ShotOptions", "auto_preset", "build_trajectory", "lens", "runner_up_preset"]


def _num(v: Any, name: str, lo: float, hi: float) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {type(v).__name__}")
    x = float(v)
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {v!r}")
    return x


def _int(v: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {type(v).__name__}")
    if not lo <= int(v) <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, got {v}")
    return int(v)


@dataclass(frozen=True)
class ShotOptions:
    """What the user chose for a shot. Constructing one validates it (a one-line ``ValueError`` names the field).

    ``preset`` is a name from :data:`.presets.PRESET_NAMES` (``"auto"`` reads the stroke); ``frames`` at ``fps``;
    ``width x height`` the output frame; ``strength`` scales every move (0 gives the source view on every frame,
    no shake either); ``easing`` one of :data:`.motion.EASINGS`; ``fov_deg`` the source camera's vertical field of
    view as frame 0 shows the photo (a photo of another aspect is centre-cropped to the frame, see
    :func:`~draw_to_video.trajectory.conventions.centre_crop`); ``shake`` extra handheld shake on top of a preset's
    own, driven by ``seed``; ``limits`` the translation limits per unit of subject depth.

    ``overscan`` (0.8..1, default 1 = none) zooms every frame by ``1 / overscan`` about the principal point, as
    parallax tools do (0.95-0.98): frame 0 shows the central ``overscan`` share of the photo, and the never-seen
    border a move uncovers stays off screen, so a budgeted move may go further. ``meta["overscan"]`` records it and
    :meth:`.model.CameraTrajectory.source_K` undoes it for what maps the photo itself.

    ``budget`` (0..1, e.g. :data:`.budget.DEFAULT_BUDGET` = 0.03 for the 2.5D output) is the share of a frame that
    may show what the photo never saw; with one the build predicts every frame's uncovered share
    (:mod:`.feasibility`) and records it in ``meta``. ``auto_strength`` (strength auto) then scales the move down
    to the largest strength up to ``strength`` whose worst frame stays within the budget (:mod:`.budget`).
    """

    preset: str = "auto"
    frames: int = 49
    fps: float = 24.0
    width: int = 1024
    height: int = 576
    strength: float = 1.0
    easing: str = "ease_in_out"
    fov_deg: float = 50.0
    seed: int = 0
    shake: float = 0.0
    limits: Limits = DEFAULT_LIMITS
    budget: float | None = None
    auto_strength: bool = False
    overscan: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.preset, str) or (self.preset != "auto" and self.preset not in PRESETS):
            raise ValueError(f"unknown preset {self.preset!r:.40}; choose one of: {', '.join(PRESET_NAMES)}")
        if not isinstance(self.easing, str) or self.easing not in EASINGS:
            raise ValueError(f"unknown easing {self.easing!r:.40}; choose one of: {', '.join(EASINGS)}")
        if not isinstance(self.limits, Limits):
            raise ValueError(f"limits must be a Limits, got {type(self.limits).__name__}")
        if not isinstance(self.auto_strength, (bool, np.bool_)):
            raise ValueError(f"auto_strength must be True or False, got {type(self.auto_strength).__name__}")
        if self.budget is not None:
            object.__setattr__(self, "budget", _num(self.budget, "budget", 0.0, 1.0))
        elif self.auto_strength:
            raise ValueError("auto_strength needs a budget (the worst-frame uncovered fraction allowed, e.g. 0.03)")
        object.__setattr__(self, "auto_strength", bool(self.auto_strength))
        checked = {
            "frames": _int(self.frames, "frames", 1, MAX_FRAMES),
            "fps": _num(self.fps, "fps", 1e-3, 1000.0),
            "width": _int(self.width, "width", 1, MAX_SIDE),
            "height": _int(self.height, "height", 1, MAX_SIDE),
            "strength": _num(self.strength, "strength", 0.0, MAX_STRENGTH),
            "fov_deg": _num(self.fov_deg, "fov_deg", FOV_MIN_DEG, FOV_MAX_DEG),
            "shake": _num(self.shake, "shake", 0.0, 10.0),
            "seed": _int(self.seed, "seed", 0, 2**64 - 1),
            "overscan": _num(self.overscan, "overscan", MIN_OVERSCAN, 1.0),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def lens(fov_deg: float, width: int, height: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """``(K0, f0, zoom_range)``: the source camera (vertical FOV ``fov_deg``, square pixels).

    ``f0`` is nudged so both fields of view lie within [10, 120] degrees; ``zoom_range`` is the range
    of focal multipliers that keeps them there. A ``ValueError`` if the aspect ratio makes that impossible.
    """
    f_lo = max(width, height) / (2.0 * math.tan(math.radians(FOV_MAX_DEG - _MARGIN_DEG) / 2.0))
    f_hi = min(width, height) / (2.0 * math.tan(math.radians(FOV_MIN_DEG + _MARGIN_DEG) / 2.0))
    if f_lo > f_hi:
        raise ValueError(f"aspect ratio {width}x{height} is too extreme: no focal length keeps both fields of view "
                         f"within {FOV_MIN_DEG:g}-{FOV_MAX_DEG:g} degrees (at most about 18:1)")
    K = K_from_fov(fov_deg, width, height)
    f0 = float(np.clip(K[1, 1], f_lo, f_hi))
    K = intrinsics(f0, f0, K[0, 2], K[1, 2])
    return K, f0, (f_lo / f0, f_hi / f0)


def auto_preset(intent: Any, stroke: Any) -> str:
    """The preset ``"auto"`` picks for an intent (see the module docstring)."""
    if intent is None or stroke is None:
        return "static"
    kind = intent.kind
    if kind == "straight":
        v = np.asarray(stroke.xy[-1] - stroke.xy[0], dtype=np.float64)
        n = float(np.hypot(*v))
        dx, dy = (v / n) if n > 1e-9 else (1.0, 0.0)
        if abs(dx) >= math.cos(math.radians(30.0)):
            return "truck"
        w, h = stroke.width, stroke.height
        half = np.array([w, h], dtype=np.float64) / max(w, h)
        end = np.asarray(stroke.xy[-1], dtype=np.float64)
        edge = (np.abs(end) >= half * 0.96) & (np.sign(end) == np.sign([dx, dy])) & (np.abs([dx, dy]) > 0.3)
        return "pull_back" if dy > 0.5 or bool(edge.any()) else "dolly"
    return {"arc": "arc", "circle": "orbit", "spiral": "spiral_zoom", "zigzag": "zigzag"}.get(kind, "follow_path")


def runner_up_preset(intent: Intent | None, stroke: Any) -> str | None:
    """The preset ``"auto"`` would pick if the stroke were read as its runner-up class (None without one): what the
    widget offers as the one-click alternative ("circle, or arc?")."""
    if intent is None or stroke is None or intent.runner_up is None:
        return None
    return auto_preset(replace(intent, kind=intent.runner_up), stroke)


def _assemble(shot: Shot, ctx: PresetContext, K0: np.ndarray, shake_amp: float,
              overscan: float = 1.0) -> dict[str, np.ndarray]:
    F = len(ctx.u)
    eye = np.asarray(shot.eye, dtype=np.float64)
    if shot.target is not None:
        L = look_at_rotation(eye, shot.target)
        R = L @ L[0].T
    elif shot.rot is not None:
        R = shot.rot @ shot.rot[0].T
    else:
        R = np.broadcast_to(np.eye(3), (F, 3, 3)).copy()
    eye = eye - eye[0]
    roll = np.broadcast_to(np.asarray(shot.roll, dtype=np.float64), (F,))
    if np.any(roll != roll[0]):
        R = R @ axis_rotation(2, roll - roll[0])
    if shake_amp > 0 and F > 1:
        rotvec, off = shake(F, ctx.fps, shake_amp, ctx.seed)
        R = R @ Rotation.from_rotvec(rotvec).as_matrix()
        eye = eye + np.einsum("fij,fj->fi", R, off) * ctx.d
    zoom = np.broadcast_to(np.asarray(shot.zoom, dtype=np.float64), (F,))
    zoom = np.clip(zoom / zoom[0], *ctx.zoom_range) / overscan
    K = np.broadcast_to(K0, (F, 3, 3)).copy()
    K[:, 0, 0] *= zoom
    K[:, 1, 1] *= zoom
    if shot.focus is not None:
        focus = np.broadcast_to(np.asarray(shot.focus, dtype=np.float64), (F,)).copy()
    else:
        focus = np.linalg.norm(eye - ctx.subject, axis=-1)
    focus = np.maximum(focus, 1e-3 * ctx.d)
    T = np.zeros((F, 4, 4))
    T[:, :3, :3], T[:, :3, 3], T[:, 3, 3] = R, eye, 1.0
    return {"K": K, "world_T_cam": T, "focus_distance": focus, "aperture": np.full(F, float(shot.aperture))}


def _assemble_centres(arrays: dict[str, np.ndarray]) -> np.ndarray:
    return arrays["world_T_cam"][:, :3, 3]


def build_trajectory(stroke_set: StrokeSet | None = None, options: ShotOptions = ShotOptions(), *,
                     depth: np.ndarray | None = None, prepared: PreparedStroke | None = None,
                     intent: Intent | None = None, cancel: CancelFn | None = None,
                     photo_size: tuple[int, int] | None = None) -> CameraTrajectory:
    """The camera path for an optional stroke set and the user's :class:`ShotOptions` (see the module docstring).

    ``depth`` is a z-depth map ``[H, W]`` of the photo in scene units (any resolution). ``photo_size`` ``(w, h)``:
    the photo's size, for its aspect (the stroke's canvas shows the whole photo and the frames its centre crop,
    see :mod:`.lift`); default the depth map's, else the canvas's. ``prepared`` / ``intent`` may pass an
    already computed ``prepare(stroke_set, N_FEATURE_SAMPLES)`` / ``analyze(...)`` of the same stroke set to skip
    that work. ``cancel`` is polled during the coverage-budget search (see :mod:`.budget`). Bad arguments raise a
    one-line ``ValueError``.
    """
    if stroke_set is not None and not isinstance(stroke_set, StrokeSet):
        raise ValueError(f"stroke_set must be a StrokeSet (from parse_strokes) or None, got {type(stroke_set).__name__}")
    if not isinstance(options, ShotOptions):
        raise ValueError(f"options must be a ShotOptions, got {type(options).__name__}")
    if prepared is not None and not isinstance(prepared, PreparedStroke):
        raise ValueError(f"prepared must be a PreparedStroke or None, got {type(prepared).__name__}")
    if intent is not None and not isinstance(intent, Intent):
        raise ValueError(f"intent must be an Intent or None, got {type(intent).__name__}")
    o = options
    preset = o.preset
    if preset == "auto" and stroke_set is not None and stroke_set.preset is not None:  # picked on the drawing node
        if stroke_set.preset not in PRESETS:
            raise ValueError(f"strokes: unknown preset {stroke_set.preset!r}; choose one of: {', '.join(PRESET_NAMES)}")
        preset = stroke_set.preset
    F, fps, W, H, s, easing = o.frames, o.fps, o.width, o.height, o.strength, o.easing
    shake_amp, seed, limits = o.shake, o.seed, o.limits
    K0, f0, zoom_range = lens(o.fov_deg, W, H)

    lifted = circle_centre = None
    centre_xy = np.array([[W / 2.0, H / 2.0]])
    centre = lift_points(centre_xy, (W, H), K0, W, H, depth, DEFAULT_SUBJECT_DEPTH)[0]
    if prepared is None and stroke_set is not None:
        prepared = prepare(stroke_set, N_FEATURE_SAMPLES)
    if prepared is None:
        intent = None
    else:
        if intent is None:
            intent = analyze_prepared(prepared)  # = analyze(stroke_set), without preparing twice
        photo = photo_size or (None if depth is None else (np.shape(depth)[-1], np.shape(depth)[-2]))
        lifted = lift(prepared, K0, W, H, depth, photo_wh=photo)
        cc = np.asarray(intent.centre, dtype=np.float64).reshape(1, 2)
        if np.isfinite(cc).all():
            circle_centre = lift_points(cc, (prepared.width, prepared.height), K0, W, H, depth, photo_wh=photo)[0]
    name = auto_preset(intent, prepared) if preset == "auto" else preset
    P = PRESETS[name]
    subject = centre
    if lifted is not None and intent is not None:
        if P.orbits and intent.kind in ("circle", "arc", "spiral") and circle_centre is not None:
            subject = circle_centre
        elif name in ("dolly", "follow_path"):
            subject = lifted[-1].copy()

    t = np.linspace(0.0, 1.0, F) if F > 1 else np.zeros(1)
    u = EASINGS[easing](t)
    ctx = PresetContext(frames=F, fps=fps, width=W, height=H, strength=s, easing=easing, u=u, t=t,
                        u_range=EASING_RANGE[easing], subject=subject, f0=f0, zoom_range=zoom_range, seed=seed,
                        stroke=prepared, intent=intent, lifted=lifted)
    lim = limits.scaled(ctx.d)

    def realise(strength: float) -> tuple[dict[str, np.ndarray], PresetContext, float, float, float, float]:
        eff, alpha, ratio, c = strength, 0.0, 0.0, replace(ctx, strength=strength)
        if strength > 0:
            for attempt in range(8):
                c = replace(ctx, strength=eff)
                u_new, alpha, ratio = limit_timing(t, u, lambda q, c=c: P.fn(replace(c, u=q)).eye, fps, lim)
                if ratio <= 1.0 or attempt == 7:
                    break
                eff *= min(0.95, 1.0 / ratio)
            c = replace(ctx, strength=eff, u=u_new)
        shot = P.fn(c)
        extra = shake_amp + float(shot.shake) if strength > 0 else 0.0  # strength 0: the source view, no shake
        return _assemble(shot, c, K0, extra, o.overscan), c, eff, alpha, ratio, extra

    meta: dict[str, Any] = {"budget": o.budget}
    if o.budget is not None:
        from .budget import budget_depth, fit_meta, fit_strength, sweep

        bdepth, kind = budget_depth(depth, W, H)
        def cameras(strength: float) -> tuple[np.ndarray, np.ndarray]:
            arrays = realise(strength)[0]
            return arrays["K"], arrays["world_T_cam"]

        fit = fit_strength(cameras, s, o.budget, o.auto_strength, bdepth, W, H, K0, cancel)
        meta.update({k: v for k, v in fit_meta(fit, kind).items() if k != "strength"})
        if P.orbits:
            meta["requested_sweep_deg"] = sweep(_assemble_centres(realise(s)[0]), subject)
        s = fit.strength
    arrays, ctx, eff, alpha, ratio, extra = realise(s)
    if o.budget is not None and P.orbits:
        meta["sweep_deg"] = sweep(_assemble_centres(arrays), subject)
    meta.update({
        "subject": [float(v) for v in subject], "subject_depth": ctx.d, "strength": s,
        "effective_strength": float(eff), "easing": easing, "seed": int(seed), "shake": float(extra),
        "fov_deg": float(math.degrees(2.0 * math.atan(H / (2.0 * f0)))), "retime": float(alpha),
        "limits_met": bool(ratio <= 1.0), "orbits": P.orbits, "auto": preset == "auto", "overscan": o.overscan,
    })
    return CameraTrajectory(W, H, fps, intent=intent.kind if intent is not None else "none", preset=name,
                            meta=meta, **arrays)
