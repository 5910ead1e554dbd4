"""Single-axis camera moves: dollies, trucks, pedestals, cranes, pans, tilts, roll, zooms, dolly zooms, focus.

Each function is one registered preset (see :mod:`.shotkit` for the rules they keep). Distances are
in units of the subject depth ``d``; angles scale with strength ``s``.
"""

from __future__ import annotations

import math

import numpy as np

from .motion import direction, dolly_zoom_focal, look_at_rotation, window
from .shotkit import DEG, MAX_PUSH, PresetContext, Shot, line, push_fraction, register, zoom_curve

# -- static and handheld -----------------------------------------------------------------------------


@register("static", "Locked-off camera: the source view on every frame.")
def static(ctx: PresetContext) -> Shot:
    return Shot(eye=ctx.zeros())


@register("handheld", "Handheld operator: seeded low-frequency shake with a slight forward creep.")
def handheld(ctx: PresetContext) -> Shot:
    return Shot(eye=line(ctx, (0.0, 0.0, 0.03 * ctx.s * ctx.d)), shake=1.2 * ctx.s)


# -- translations ----------------------------------------------------------------------------------


@register("dolly_in", "Dolly in: the camera travels straight toward the subject.")
def dolly_in(ctx: PresetContext) -> Shot:
    return Shot(eye=line(ctx, (0.0, 0.0, push_fraction(ctx, 0.45) * ctx.d)))


@register("dolly_out", "Dolly out: the camera travels straight back from the subject.")
def dolly_out(ctx: PresetContext) -> Shot:
    return Shot(eye=line(ctx, (0.0, 0.0, -0.6 * ctx.s * ctx.d)))


@register("super_dolly", "Super dolly: a long, accelerating push-in that also tightens the lens.")
def super_dolly(ctx: PresetContext) -> Shot:
    def accel(u: np.ndarray | float) -> np.ndarray:  # starts gently, keeps accelerating to the end
        return u * u * (1.6 - 0.6 * u)

    a = min(0.7 * ctx.s, MAX_PUSH / float(accel(ctx.u_hi)))  # increasing up to u = 1.78
    shape = accel(ctx.u)
    return Shot(eye=line(ctx, (0.0, 0.0, a * ctx.d), shape), zoom=zoom_curve(ctx, math.log1p(0.3 * ctx.s)))


@register("pull_back", "Pull back: the camera retreats and rises a little to reveal the scene.")
def pull_back(ctx: PresetContext) -> Shot:
    eye = line(ctx, (0.0, -0.15 * ctx.s * ctx.d, -0.7 * ctx.s * ctx.d))
    return Shot(eye=eye, target=np.broadcast_to(ctx.subject, eye.shape))


def _lateral(ctx: PresetContext, sign: float, keep_subject: bool) -> Shot:
    eye = line(ctx, (sign * 0.4 * ctx.s * ctx.d, 0.0, 0.0))
    return Shot(eye=eye, target=np.broadcast_to(ctx.subject, eye.shape) if keep_subject else None)


@register("dolly_left", "Dolly left: the camera moves left, turning to keep the subject in frame.")
def dolly_left(ctx: PresetContext) -> Shot:
    return _lateral(ctx, -1.0, True)


@register("dolly_right", "Dolly right: the camera moves right, turning to keep the subject in frame.")
def dolly_right(ctx: PresetContext) -> Shot:
    return _lateral(ctx, 1.0, True)


@register("truck_left", "Truck left: a pure sideways move to the left, no rotation.")
def truck_left(ctx: PresetContext) -> Shot:
    return _lateral(ctx, -1.0, False)


@register("truck_right", "Truck right: a pure sideways move to the right, no rotation.")
def truck_right(ctx: PresetContext) -> Shot:
    return _lateral(ctx, 1.0, False)


@register("truck", "Truck along the drawn direction (screen plane), no rotation.", uses_stroke="direction")
def truck(ctx: PresetContext) -> Shot:
    dx, dy = ctx.screen_dir()
    return Shot(eye=line(ctx, (0.4 * ctx.s * ctx.d * dx, 0.4 * ctx.s * ctx.d * dy, 0.0)))


@register("pedestal_up", "Pedestal up: the camera rises straight up, no rotation.")
def pedestal_up(ctx: PresetContext) -> Shot:
    return Shot(eye=line(ctx, (0.0, -0.3 * ctx.s * ctx.d, 0.0)))


@register("pedestal_down", "Pedestal down: the camera sinks straight down, no rotation.")
def pedestal_down(ctx: PresetContext) -> Shot:
    return Shot(eye=line(ctx, (0.0, 0.3 * ctx.s * ctx.d, 0.0)))


@register("crane_up", "Crane up: the camera rises and tilts down to keep the subject.")
def crane_up(ctx: PresetContext) -> Shot:
    eye = line(ctx, (0.0, -0.45 * ctx.s * ctx.d, 0.05 * ctx.s * ctx.d))
    return Shot(eye=eye, target=np.broadcast_to(ctx.subject, eye.shape))


@register("crane_down", "Crane down: the camera descends and tilts up to keep the subject.")
def crane_down(ctx: PresetContext) -> Shot:
    eye = line(ctx, (0.0, 0.35 * ctx.s * ctx.d, 0.0))
    return Shot(eye=eye, target=np.broadcast_to(ctx.subject, eye.shape))


# -- rotations -------------------------------------------------------------------------------------


def _turn(ctx: PresetContext, yaw: np.ndarray, pitch: np.ndarray) -> Shot:
    eye = ctx.zeros()
    return Shot(eye=eye, rot=look_at_rotation(eye, direction(yaw, pitch)))


@register("pan_left", "Pan left: the camera turns left on the spot.")
def pan_left(ctx: PresetContext) -> Shot:
    return _turn(ctx, -30.0 * DEG * ctx.s * ctx.u, 0.0 * ctx.u)


@register("pan_right", "Pan right: the camera turns right on the spot.")
def pan_right(ctx: PresetContext) -> Shot:
    return _turn(ctx, 30.0 * DEG * ctx.s * ctx.u, 0.0 * ctx.u)


@register("pan", "Pan/tilt on the spot toward the drawn direction.", uses_stroke="direction")
def pan(ctx: PresetContext) -> Shot:
    dx, dy = ctx.screen_dir()
    return _turn(ctx, 30.0 * DEG * ctx.s * dx * ctx.u, -25.0 * DEG * ctx.s * dy * ctx.u)


@register("tilt_up", "Tilt up: the camera tips up on the spot.")
def tilt_up(ctx: PresetContext) -> Shot:
    return _turn(ctx, 0.0 * ctx.u, 20.0 * DEG * ctx.s * ctx.u)


@register("tilt_down", "Tilt down: the camera tips down on the spot.")
def tilt_down(ctx: PresetContext) -> Shot:
    return _turn(ctx, 0.0 * ctx.u, -20.0 * DEG * ctx.s * ctx.u)


@register("whip_pan", "Whip pan: a very fast pan between two holds, toward the drawn side.",
          uses_stroke="left/right")
def whip_pan(ctx: PresetContext) -> Shot:
    sign = 1.0 if ctx.screen_dir()[0] >= 0 else -1.0
    return _turn(ctx, sign * min(75.0 * ctx.s, 170.0) * DEG * window(ctx.u, 0.3, 0.7), 0.0 * ctx.u)


@register("dutch_roll", "Dutch roll: the camera rolls about its optical axis (drawn sense of rotation).",
          uses_stroke="clockwise")
def dutch_roll(ctx: PresetContext) -> Shot:
    sign = 1.0 if ctx.clockwise(default=True) else -1.0
    return Shot(eye=ctx.zeros(), roll=sign * 15.0 * DEG * ctx.s * ctx.u)


# -- lens ------------------------------------------------------------------------------------------


@register("zoom_in", "Zoom in: the lens tightens (focal x2 at strength 1); the camera stays put.")
def zoom_in(ctx: PresetContext) -> Shot:
    return Shot(eye=ctx.zeros(), zoom=zoom_curve(ctx, math.log1p(1.0 * ctx.s)))


@register("zoom_out", "Zoom out: the lens widens; the camera stays put.")
def zoom_out(ctx: PresetContext) -> Shot:
    return Shot(eye=ctx.zeros(), zoom=zoom_curve(ctx, -math.log1p(0.7 * ctx.s)))


@register("crash_zoom_in", "Crash zoom in: a sudden, fast zoom (focal x3 at strength 1) with a small push.")
def crash_zoom_in(ctx: PresetContext) -> Shot:
    w = window(ctx.u, 0.25, 0.55)
    eye = line(ctx, (0.0, 0.0, 0.05 * min(ctx.s, 2.0) * ctx.d), w)
    return Shot(eye=eye, zoom=zoom_curve(ctx, math.log(3.0) * ctx.s, w))


@register("crash_zoom_out", "Crash zoom out: a sudden, fast widening of the lens with a small pull.")
def crash_zoom_out(ctx: PresetContext) -> Shot:
    w = window(ctx.u, 0.25, 0.55)
    eye = line(ctx, (0.0, 0.0, -0.05 * ctx.s * ctx.d), w)
    return Shot(eye=eye, zoom=zoom_curve(ctx, -math.log(2.5) * ctx.s, w))


@register("yo_yo_zoom", "Yo-yo zoom: the lens zooms in and back out again.")
def yo_yo_zoom(ctx: PresetContext) -> Shot:
    return Shot(eye=ctx.zeros(), zoom=zoom_curve(ctx, math.log1p(0.8 * ctx.s), np.sin(np.pi * ctx.u) ** 2))


def _dolly_zoom(ctx: PresetContext, forward: float) -> Shot:
    """Camera along z by ``forward * u * d``; focal ``f0 (d - z) / d`` keeps the subject plane's scale."""
    zlo, zhi = ctx.zoom_range
    if forward > 0:  # in: focal shrinks to (1 - a u); keep >= zlo at u_hi, <= zhi at u_lo
        a = min(forward, MAX_PUSH / ctx.u_hi, (1.0 - zlo) / ctx.u_hi * 0.999)
        if ctx.u_lo < 0:
            a = min(a, (zhi - 1.0) / -ctx.u_lo * 0.999)
    else:  # out: focal grows to (1 + b u)
        a = -min(-forward, (zhi - 1.0) / ctx.u_hi * 0.999)
        if ctx.u_lo < 0:
            a = -min(-a, (1.0 - zlo) / -ctx.u_lo * 0.999, MAX_PUSH / -ctx.u_lo)
    z = a * ctx.u * ctx.d
    eye = np.stack([0.0 * z, 0.0 * z, z], axis=-1)
    return Shot(eye=eye, zoom=dolly_zoom_focal(1.0, ctx.d, ctx.d - z))


@register("vertigo", "Vertigo dolly zoom: dolly out while zooming in; the subject keeps its size, the "
          "background looms.")
def vertigo(ctx: PresetContext) -> Shot:
    return _dolly_zoom(ctx, -0.6 * ctx.s)


@register("hitchcock", "Hitchcock dolly zoom: dolly in while zooming out; the subject keeps its size, the "
          "background stretches away.")
def hitchcock(ctx: PresetContext) -> Shot:
    return _dolly_zoom(ctx, 0.5 * ctx.s)


@register("rack_focus", "Rack focus: a locked-off camera pulls focus from the stroke's start to its end "
          "(or from the subject to the background).", uses_stroke="start/end depth")
def rack_focus(ctx: PresetContext) -> Shot:
    a, b = ctx.d, ctx.d * 3.0
    if ctx.lifted is not None:
        za, zb = float(ctx.lifted[0, 2]), float(ctx.lifted[-1, 2])
        if max(za, zb) > 1.1 * min(za, zb):
            a, b = za, zb
    ratio = math.log(b / a) * min(ctx.s, 1.0)
    focus = a * np.exp(ratio * ctx.u)
    return Shot(eye=ctx.zeros(), focus=focus, aperture=1.8)
