"""Nodes for the effects that need the camera: true bullet time and camera-aware interpolation."""

from __future__ import annotations

import comfy.model_management as mm
import comfy.utils
import numpy as np
import torch
from comfy_api.latest import io

from ..effects.interpolation.camera_views import bullet_time, camera_interpolate
from ..effects.interpolation.frames import interpolate_at, multiplier_positions
from ..trajectory.camera.model import CameraTrajectory
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, Trajectory, cancel_hook
from .rendering import FILLS, render_clip


class BulletTime(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}BulletTime",
            display_name="Draw to Video: bullet time",
            category=f"{CATEGORY}/effects",
            description="Matrix-style bullet time done properly: the clip freezes at one frame, the camera flies "
                        "around that frozen instant along a trajectory (rendered in 2.5D from the frame and its "
                        "depth, not a 2D rotation), then the clip resumes.",
            inputs=[
                io.Image.Input("images", tooltip="The clip."),
                Depth.Input("depth", tooltip="Depth of the frozen frame (a batch: the item at 'at' is used)."),
                Trajectory.Input("trajectory", tooltip="The camera move around the frozen moment, e.g. the "
                                                       "bullet_time or orbit preset; it is rescaled to the clip size."),
                io.Int.Input("at", default=0, min=0, max=100000, tooltip="Index of the frame to freeze."),
                io.Boolean.Input("round_trip", default=True,
                                 tooltip="Fly back to the start pose before resuming, so the clip continues "
                                         "seamlessly."),
                io.Combo.Input("fill", options=FILLS, default=FILLS[0],
                               tooltip="How holes are filled (layered: from the background across depth edges, a "
                                       "smooth continuation elsewhere; the choices of the 2.5D render node)."),
            ],
            outputs=[io.Image.Output(display_name="images")],
        )

    @classmethod
    def execute(cls, images: torch.Tensor, depth: DepthValue, trajectory: CameraTrajectory, at: int,
                round_trip: bool, fill: str) -> io.NodeOutput:
        n, h, w, _ = images.shape
        if at >= n:
            raise ValueError(f"at={at} is past the clip's last frame ({n - 1})")
        traj = trajectory.rescaled(w, h)
        pbar = comfy.utils.ProgressBar(traj.num_frames)
        out = bullet_time(images.to(mm.get_torch_device()), depth.frame(at, h, w).to(mm.get_torch_device()),
                          traj.K, traj.cam_T_world(), at=at, round_trip=round_trip, fill=fill,
                          progress=lambda d, t: pbar.update_absolute(d, t), cancel=cancel_hook)
        return io.NodeOutput(out.to(mm.intermediate_device()))


class CameraAwareInterpolate(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}CameraAwareInterpolate",
            display_name="Draw to Video: camera-aware interpolate",
            category=f"{CATEGORY}/interpolation",
            description="In-between frames for a clip made along a known camera path (the 2.5D renderer or the "
                        "camera-guided SVD sampler): each in-between camera pose is interpolated exactly and both "
                        "neighbouring frames are re-projected into it with their depth; optical flow fills only "
                        "what neither frame sees. Originals pass through unchanged.",
            inputs=[
                io.Image.Input("images", tooltip="The clip, one frame per trajectory frame."),
                io.Image.Input("source_image", tooltip="The image the clip was made from (gives per-frame depth)."),
                Depth.Input("depth", tooltip="Depth of the source image."),
                Trajectory.Input("trajectory", tooltip="The camera path the clip follows."),
                io.Int.Input("multiplier", default=2, min=2, max=8,
                             tooltip="Frames per input frame: 2 doubles the frame rate ((N-1)*m+1 frames out)."),
            ],
            outputs=[io.Image.Output(display_name="images"), io.Mask.Output(display_name="covered")],
        )

    @classmethod
    def execute(cls, images: torch.Tensor, source_image: torch.Tensor, depth: DepthValue,
                trajectory: CameraTrajectory, multiplier: int) -> io.NodeOutput:
        n, h, w, _ = images.shape
        if n != trajectory.num_frames:
            raise ValueError(f"the clip has {n} frames but the trajectory {trajectory.num_frames}: interpolate "
                             "before retiming, or use the plain interpolate node")
        traj = trajectory.rescaled(w, h)
        _, _, seen_depth = render_clip(source_image, depth, traj)  # depth each frame's camera sees
        positions = multiplier_positions(n, multiplier)
        frames = images.to(mm.intermediate_device())
        fallback = interpolate_at(frames, positions, mode="flow", cancel=cancel_hook)
        pbar = comfy.utils.ProgressBar(len(positions))
        out, covered = camera_interpolate(frames, seen_depth, traj.K, np.asarray(traj.world_T_cam), positions,
                                          fallback=fallback, progress=lambda d, t: pbar.update_absolute(d, t),
                                          cancel=cancel_hook)
        return io.NodeOutput(out, covered)


NODES = [BulletTime, CameraAwareInterpolate]
