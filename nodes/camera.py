"""Camera trajectory nodes: stroke + preset -> trajectory, its preview, and the path scribble."""

from __future__ import annotations

import json

import numpy as np
import torch
from comfy_api.latest import io

from ..trajectory.camera.budget import budget_note
from ..trajectory.camera.build import ShotOptions, build_trajectory
from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.camera.preview import path_scribble, preview_image
from ..trajectory.stroke.format import StrokeSet
from ..trajectory.stroke.intent import Intent as IntentValue
from ..trajectory.stroke.prepare import prepare
from . import inputs
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, Intent, Strokes, Trajectory, cancel_hook, image_batch


def trajectory_summary(traj: CameraTrajectory) -> str:
    """One JSON line describing a trajectory (frames, size, fps, preset, intent, travel, FOV range) and, when a
    coverage budget applied, the strength used, the budget, the predicted worst frame and the note saying what
    strength auto limited (or warning that a manual strength goes beyond the budget)."""
    c = traj.centres()
    fov = traj.fov_deg()[:, 1]
    out = {"preset": traj.preset, "intent": traj.intent, "frames": traj.num_frames, "fps": traj.fps,
           "width": traj.width, "height": traj.height,
           "travel": float(np.linalg.norm(np.diff(c, axis=0), axis=1).sum()),
           "fov_y_deg": [float(fov.min()), float(fov.max())]}
    m = traj.meta
    if m.get("budget") is not None:
        out.update({"strength_mode": "auto" if m.get("strength_auto") else "manual",
                    "strength": m["strength"], "requested_strength": m["requested_strength"],
                    "coverage_budget": m["budget"], "worst_uncovered": round(float(m["worst_uncovered"]), 4),
                    "worst_stretched": round(float(m["worst_stretched"]), 4), "limited": bool(m["limited"]),
                    "note": budget_note(m)})
    return json.dumps(out)


class CameraTrajectoryNode(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}CameraTrajectory",
            display_name="Draw to Video: camera trajectory",
            category=CATEGORY,
            description="Turns the drawn stroke (and its intent) into a smooth, physically sensible 3D camera path "
                        "with per-frame intrinsics, focus and aperture, or applies one of the cinematic presets "
                        "(the stroke then gives its direction or target). auto picks the move from the intent: "
                        "straight = dolly/truck/pull back, arc = arc shot, circle = orbit, spiral = orbit + push or "
                        "pull, zigzag = whip pans, freeform = fly along the path.",
            inputs=[
                inputs.preset(), inputs.frames(), inputs.fps(), inputs.size(),
                inputs.width("Width in pixels of the frames (used when no image is connected, or with size "
                             "'width x height')."),
                inputs.height("Height in pixels of the frames (used when no image is connected, or with size "
                              "'width x height')."),
                inputs.strength_mode(), inputs.strength(), inputs.coverage_budget(), inputs.overscan(),
                inputs.easing(), inputs.fov_deg(),
                io.Float.Input("shake", default=0.0, min=0.0, max=10.0, step=0.05,
                               tooltip="Extra handheld shake (seeded, low-pass); 0 = none beyond the preset's own."),
                io.Int.Input("seed", default=0, min=0, max=2**31 - 1, control_after_generate=False,
                             tooltip="Seed of the shake (fixed: the same graph gives the same move, and is cached)."),
                Strokes.Input("strokes", optional=True,
                              tooltip="The drawn path. Without it, presets use the image centre as the subject."),
                Intent.Input("intent", optional=True,
                             tooltip="The strokes' intent from the intent node (saves analysing them twice); with "
                                     "preset auto it picks the move."),
                Depth.Input("depth", optional=True,
                            tooltip="Depth of the image: the stroke is lifted onto the scene, and the coverage "
                                    "budget is judged with it. Without it a fronto-parallel plane at 1 scene unit is "
                                    "used for the stroke and the approximate depth prior for the budget."),
                io.Image.Input("image", optional=True,
                               tooltip="The photo: with size 'image, long side N' the frames take its aspect ratio."),
            ],
            outputs=[Trajectory.Output(display_name="trajectory"), io.String.Output(display_name="summary")],
        )

    @classmethod
    def execute(cls, preset: str, frames: int, fps: float, width: int, height: int, strength: float, easing: str,
                fov_deg: float, shake: float, seed: int, strength_mode: str = inputs.LEGACY_STRENGTH_MODE,
                coverage_budget: float = inputs.DEFAULT_BUDGET, overscan: float = inputs.LEGACY_OVERSCAN,
                strokes: StrokeSet | None = None,
                intent: IntentValue | None = None, depth: DepthValue | None = None,
                image: torch.Tensor | None = None, size: str = inputs.LEGACY_SIZE) -> io.NodeOutput:
        if intent is not None and strokes is None:
            raise ValueError("an intent was connected without its strokes: connect the strokes too")
        dmap = depth.depth[0].cpu().numpy().astype(np.float64) if depth is not None else None
        w, h = inputs.frame_size(size, image, width, height)
        traj = build_trajectory(strokes,
                                ShotOptions(preset=preset, frames=frames, fps=fps, width=w, height=h, easing=easing,
                                            fov_deg=fov_deg, seed=seed, shake=shake,
                                            **inputs.shot_strength(strength_mode, strength, coverage_budget, overscan)),
                                depth=dmap, intent=intent, cancel=cancel_hook,
                                photo_size=None if image is None else (int(image.shape[2]), int(image.shape[1])))
        return io.NodeOutput(traj, trajectory_summary(traj))


class TrajectoryPreview(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}TrajectoryPreview",
            display_name="Draw to Video: trajectory preview",
            category=CATEGORY,
            description="Draws the camera path from above and from the side, with camera frusta, start and end, "
                        "and the lifted stroke, as an IMAGE.",
            inputs=[
                Trajectory.Input("trajectory", tooltip="The camera path to draw."),
                io.Int.Input("size", default=512, min=128, max=2048, step=16,
                             tooltip="Height of the preview in pixels (it is twice as wide)."),
                Strokes.Input("strokes", optional=True, tooltip="The drawn path, shown lifted into the scene."),
            ],
            outputs=[io.Image.Output(display_name="preview")],
        )

    @classmethod
    def execute(cls, trajectory: CameraTrajectory, size: int, strokes: StrokeSet | None = None) -> io.NodeOutput:
        stroke = prepare(strokes) if strokes is not None else None
        return io.NodeOutput(image_batch(preview_image(trajectory, stroke, size=(2 * size, size))))


class PathScribble(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}PathScribble",
            display_name="Draw to Video: path scribble",
            category=CATEGORY,
            description="The drawn path as a white-on-black IMAGE, for ControlNet scribble users.",
            inputs=[
                Strokes.Input("strokes", tooltip="The drawn path."),
                inputs.width("Output width in pixels."), inputs.height("Output height in pixels."),
                io.Int.Input("thickness", default=3, min=1, max=64, tooltip="Line thickness in output pixels."),
            ],
            outputs=[io.Image.Output(display_name="scribble")],
        )

    @classmethod
    def execute(cls, strokes: StrokeSet, width: int, height: int, thickness: int) -> io.NodeOutput:
        m = torch.from_numpy(np.asarray(path_scribble(strokes, width, height, thickness), dtype=np.float32))
        return io.NodeOutput(m.clamp(0, 1)[None, ..., None].expand(1, height, width, 3).contiguous())


NODES = [CameraTrajectoryNode, TrajectoryPreview, PathScribble]
