"""Moves around and along things: orbits, arcs, spirals, stroke-driven paths, FPV, zigzags, director styles.

Each function is one registered preset (see :mod:`.shotkit` for the rules they keep).

Orbit direction: the drawn circle is read as the camera's path seen in perspective around the subject,
its lower half being the near side where the camera starts. A **clockwise** stroke on screen (y down)
therefore moves the camera to its **left** first: clockwise seen from above. Without a stroke, orbits
go the other way (camera moves right first).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import CubicSpline

from .motion import direction, look_at_rotation
from .shotkit import (
    DEG,
    PresetContext,
    Shot,
    line,
    push_fraction,
    register,
    reversal_keys,
    spherical,
    stepped,
    zoom_curve,
)
from .shots_axis import dolly_in


def _sign(ctx: PresetContext) -> float:
    return 1.0 if ctx.clockwise(default=False) else -1.0


def _orbit(ctx: PresetContext, sweep_deg: float, elev_deg: float = 0.0, radius: np.ndarray | float = 1.0,
           shake: float = 0.0, sign: float | None = None) -> Shot:
    sg = _sign(ctx) if sign is None else sign
    eye = spherical(ctx, sg * sweep_deg * DEG * ctx.u, elev_deg * DEG * ctx.u, radius)
    return Shot(eye=eye, target=np.broadcast_to(ctx.subject, eye.shape), shake=shake)


@register("orbit", "Orbit: a quarter circle (strength 1) around the subject, in the drawn sense.",
          orbits=True, uses_stroke="clockwise, circled subject")
def orbit(ctx: PresetContext) -> Shot:
    return _orbit(ctx, 90.0 * ctx.s)


@register("orbit_360", "Orbit 360: a full circle (strength 1) around the subject.", orbits=True,
          uses_stroke="clockwise, circled subject")
def orbit_360(ctx: PresetContext) -> Shot:
    return _orbit(ctx, 360.0 * ctx.s)


@register("arc", "Arc shot around the subject under the drawn arc, as far and in the sense drawn.", orbits=True,
          uses_stroke="arc centre, turns, clockwise")
def arc(ctx: PresetContext) -> Shot:
    turns = abs(float(ctx.intent.turns)) if ctx.intent is not None else 0.25
    return _orbit(ctx, float(np.clip(turns * 180.0, 30.0, 120.0)) * ctx.s)


@register("arc_left", "Arc left: the camera swings 35 degrees to its left around the subject.", orbits=True)
def arc_left(ctx: PresetContext) -> Shot:
    return _orbit(ctx, 35.0 * ctx.s, sign=1.0)


@register("arc_right", "Arc right: the camera swings 35 degrees to its right around the subject.", orbits=True)
def arc_right(ctx: PresetContext) -> Shot:
    return _orbit(ctx, 35.0 * ctx.s, sign=-1.0)


@register("lazy_susan", "Lazy Susan: a slow, steady turn around the subject, rising slightly.", orbits=True,
          uses_stroke="clockwise")
def lazy_susan(ctx: PresetContext) -> Shot:
    return _orbit(ctx, 120.0 * ctx.s, elev_deg=12.0 * min(ctx.s, 2.0))


@register("bullet_time", "Bullet time: a half circle around the frozen subject with a slight push.", orbits=True,
          uses_stroke="clockwise")
def bullet_time(ctx: PresetContext) -> Shot:
    return _orbit(ctx, 180.0 * ctx.s, radius=1.0 - 0.1 * min(ctx.s, 1.0) * ctx.u)


@register("spiral_zoom", "Spiral: orbit while pushing in (inward spiral) or pulling out (outward spiral).",
          orbits=True, uses_stroke="clockwise, radius trend")
def spiral_zoom(ctx: PresetContext) -> Shot:
    outward = ctx.intent is not None and ctx.intent.kind == "spiral" and float(ctx.intent.radius_trend) > 0
    if outward:
        radius = 1.0 + 0.6 * ctx.s * ctx.u
    else:
        radius = 1.0 - min(0.5 * ctx.s, 0.65 / ctx.u_hi) * ctx.u
    return _orbit(ctx, 120.0 * ctx.s, radius=radius)


@register("crane_over_head", "Crane over the head: the camera rises up and over the subject, looking down.",
          orbits=True)
def crane_over_head(ctx: PresetContext) -> Shot:
    eye = spherical(ctx, 0.0 * ctx.u, min(75.0 * ctx.s, 78.0 / ctx.u_hi) * DEG * ctx.u)
    return Shot(eye=eye, target=np.broadcast_to(ctx.subject, eye.shape))


@register("michael_bay", "Michael Bay: a low, fast hero orbit looking up at the subject, pushing in, with shake.",
          orbits=True, uses_stroke="clockwise")
def michael_bay(ctx: PresetContext) -> Shot:
    radius = 1.0 - min(0.15 * ctx.s, 0.4) * ctx.u
    return _orbit(ctx, 100.0 * ctx.s, elev_deg=-10.0 * min(ctx.s, 2.0), radius=radius, shake=0.15 * ctx.s)


# -- stroke-driven ---------------------------------------------------------------------------------


@register("dolly", "Dolly toward where the stroke ends, turning to centre that point.", uses_stroke="end point")
def dolly(ctx: PresetContext) -> Shot:
    end = ctx.subject
    a = push_fraction(ctx, 0.45)
    eye = line(ctx, a * end)
    w = (min(ctx.s, 1.0) * ctx.u)[:, None]
    ahead = eye + np.array([0.0, 0.0, end[2]])
    return Shot(eye=eye, target=(1.0 - w) * ahead + w * end)


def _curve(ctx: PresetContext, knots: int = 12) -> CubicSpline | None:
    """C2 spline through the lifted stroke, slid along the view rays onto the subject plane ``z = d`` (a depth
    map's relief would make the flight jump), by arc length, extended linearly a quarter beyond each end."""
    C = np.asarray(ctx.lifted, dtype=np.float64)
    C = C * (ctx.d / C[:, 2:3])
    seg = np.linalg.norm(np.diff(C, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if len(C) < 2 or not cum[-1] > 1e-6 * ctx.d:
        return None
    tau = cum / cum[-1]
    q = np.linspace(0.0, 1.0, knots)
    K = np.stack([np.interp(q, tau, C[:, i]) for i in range(3)], axis=-1)
    k0, k1 = (K[1] - K[0]) / (q[1] - q[0]), (K[-1] - K[-2]) / (q[-1] - q[-2])
    q = np.concatenate([[-0.25], q, [1.25]])
    K = np.concatenate([[K[0] - 0.25 * k0], K, [K[-1] + 0.25 * k1]])
    return CubicSpline(q, K, axis=0, bc_type="natural")


@register("follow_path", "Fly along the drawn path (lifted onto the subject plane through its end point) at a "
          "safe standoff, looking ahead and banking into the turns.", uses_stroke="whole path")
def follow_path(ctx: PresetContext) -> Shot:
    spl = ctx.memo("curve", lambda: _curve(ctx)) if ctx.lifted is not None else None
    if spl is None:
        return dolly_in(ctx)
    k = min(ctx.s, 1.0)
    r = ctx.d * (0.45 - 0.15 * float(np.clip(ctx.s - 1.0, 0.0, 1.0)))
    back = np.array([0.0, 0.0, r])
    u = ctx.u
    eye = k * (spl(u) - back - (1.0 - u)[:, None] * (spl(0.0) - back))
    ahead = spl(u + 0.2) - eye  # look ahead along the path (a depth map may put it anywhere)
    n = np.linalg.norm(ahead, axis=-1, keepdims=True)
    ahead = np.where(n > 1e-6 * ctx.d, ahead / np.maximum(n, 1e-300), np.array([0.0, 0.0, 1.0]))
    target = eye + ctx.d * ((1.0 - k) * np.array([0.0, 0.0, 1.0]) + k * ahead)
    tn = np.linalg.norm(target - eye, axis=-1, keepdims=True)  # opposite directions could cancel
    target = np.where(tn > 1e-6 * ctx.d, target, eye + np.array([0.0, 0.0, ctx.d]))
    lateral = k * spl(u, 2)[:, 0] / ctx.d
    roll = 20.0 * DEG * k * np.tanh(lateral / 6.0)
    return Shot(eye=eye, target=target, roll=roll)


@register("fpv_drone", "FPV drone: fast forward flight, weaving and climbing, banking into the turns, "
          "looking where it flies.", uses_stroke="left/right drift")
def fpv_drone(ctx: PresetContext) -> Shot:
    d, s, u = ctx.d, ctx.s, ctx.u
    a = push_fraction(ctx, 0.5)
    drift = 0.2 * s * d * (ctx.screen_dir((0.0, 0.0))[0] if ctx.stroke is not None else 0.0)
    wa = 0.12 * min(s, 2.0) * d
    w = 2.0 * np.pi * u
    eye = np.stack([wa * np.sin(w) + drift * u, -0.2 * s * d * u * u, a * d * u], axis=-1)
    vel = np.stack([wa * 2.0 * np.pi * np.cos(w) + drift, -0.4 * s * d * u, np.full_like(u, a * d)], axis=-1)
    speed = np.linalg.norm(vel, axis=-1, keepdims=True)
    fwd = np.where(speed > 1e-9 * d, vel / np.maximum(speed, 1e-300), np.array([0.0, 0.0, 1.0]))
    roll = 25.0 * DEG * min(s, 1.5) * -np.sin(w) * (1.0 if wa > 0 else 0.0)
    return Shot(eye=eye, target=eye + d * fwd, roll=roll, shake=0.3 * s)


@register("zigzag", "Zigzag: energetic whip pans at each reversal of the drawn zigzag, handheld.",
          uses_stroke="reversals")
def zigzag(ctx: PresetContext) -> Shot:
    if ctx.stroke is not None:
        axis, times, vals = ctx.memo("reversals", lambda: reversal_keys(ctx.stroke))
    else:
        axis, times, vals = 0, np.array([0.0, 0.3, 0.6, 1.0]), np.array([0.0, 0.5, -0.3, 0.4])
    ang = np.clip(40.0 * DEG * ctx.s * (vals - vals[0]), -70.0 * DEG, 70.0 * DEG)
    a = stepped(ctx.u, times, ang)
    yaw, pitch = (a, 0.0 * a) if axis == 0 else (0.0 * a, -a)
    eye = line(ctx, (0.0, 0.0, 0.1 * ctx.s * ctx.d))
    return Shot(eye=eye, rot=look_at_rotation(eye, eye + direction(yaw, pitch)), shake=0.5 * ctx.s)


# -- director styles -------------------------------------------------------------------------------


@register("dramatic", "Dramatic: a slow push-in from a lowering, looking-up angle, lens tightening, a hint of roll.")
def dramatic(ctx: PresetContext) -> Shot:
    eye = line(ctx, (0.0, 0.12 * ctx.s * ctx.d, push_fraction(ctx, 0.3) * ctx.d))
    return Shot(eye=eye, target=np.broadcast_to(ctx.subject, eye.shape), roll=3.0 * DEG * ctx.s * ctx.u,
                zoom=zoom_curve(ctx, math.log1p(0.2 * ctx.s)))


@register("wes_anderson", "Wes Anderson: a flat, symmetric, perfectly level sideways track (toward the drawn side).",
          uses_stroke="left/right")
def wes_anderson(ctx: PresetContext) -> Shot:
    sign = 1.0 if ctx.screen_dir()[0] >= 0 else -1.0
    return Shot(eye=line(ctx, (sign * 0.5 * ctx.s * ctx.d, 0.0, 0.0)))


@register("christopher_nolan", "Christopher Nolan: a slow, heavy push-in with a gradual roll of the world.",
          uses_stroke="clockwise")
def christopher_nolan(ctx: PresetContext) -> Shot:
    sign = 1.0 if ctx.clockwise(default=True) else -1.0
    eye = line(ctx, (0.0, -0.05 * ctx.s * ctx.d, push_fraction(ctx, 0.35) * ctx.d))
    return Shot(eye=eye, roll=sign * 10.0 * DEG * ctx.s * ctx.u, aperture=2.0)
