"""Pose-format nodes: the drawn camera for CameraCtrl, MotionCtrl and Wan2.1-Fun-Camera, plus load/save."""

from __future__ import annotations

import json
import os

import folder_paths
import torch
from comfy_api.latest import io, ui

from ..trajectory.camera.budget import budget_note, limit_path
from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.poses.formats import to_cameractrl_poses, to_motionctrl, to_re10k, to_wan_embedding
from ..trajectory.poses.retime import SCALINGS, TIMINGS, fit_camera_path
from ..trajectory.poses.text import EXTENSIONS, READ_FORMATS, trajectory_from_text, trajectory_to_text
from ..trajectory.poses.text import FORMATS as TEXT_FORMATS
from . import inputs
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, Trajectory, cancel_hook

#: The type AnimateDiff-Evolved's CameraCtrl nodes and the Wan wrappers exchange.
CameraCtrlPoses = io.Custom("CAMERACTRL_POSES")
FORMATS = list(TEXT_FORMATS)


class ExportCameraCtrl(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}ExportCameraCtrl",
            display_name="Draw to Video: to CameraCtrl poses",
            category=f"{CATEGORY}/poses",
            description="The trajectory as CAMERACTRL_POSES (RealEstate10K rows: normalised intrinsics and a 3x4 "
                        "world-to-camera), as AnimateDiff-Evolved's CameraCtrl nodes and the Wan wrappers take them; "
                        "also the RealEstate10K text.",
            inputs=[
                Trajectory.Input("trajectory", tooltip="The camera path to export."),
                io.Combo.Input("pose_size", options=["trajectory", "1280x720"], default="trajectory",
                               tooltip="Size written into the pose rows. 1280x720 pre-corrects the focal length for "
                                       "consumers that assume that size (the Wan wrappers)."),
            ],
            outputs=[CameraCtrlPoses.Output(display_name="poses"), io.String.Output(display_name="re10k_text")],
        )

    @classmethod
    def execute(cls, trajectory: CameraTrajectory, pose_size: str) -> io.NodeOutput:
        size = (1280, 720) if pose_size == "1280x720" else None
        return io.NodeOutput(to_cameractrl_poses(trajectory, pose_size=size), to_re10k(trajectory))


class ExportMotionCtrl(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}ExportMotionCtrl",
            display_name="Draw to Video: to MotionCtrl RT",
            category=f"{CATEGORY}/poses",
            description="The trajectory as MotionCtrl's flattened 3x4 RT list (world-to-camera, row-major, relative "
                        "to the first frame), as JSON text.",
            inputs=[Trajectory.Input("trajectory", tooltip="The camera path to export.")],
            outputs=[io.String.Output(display_name="rt_json")],
        )

    @classmethod
    def execute(cls, trajectory: CameraTrajectory) -> io.NodeOutput:
        return io.NodeOutput(json.dumps(to_motionctrl(trajectory)))


class WanCameraEmbedding(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}WanCameraEmbedding",
            display_name="Draw to Video: to Wan camera embedding",
            category=f"{CATEGORY}/poses",
            description="The trajectory as core's WAN_CAMERA_EMBEDDING (Plücker rays packed exactly as core's "
                        "WanCameraEmbedding packs them), so the drawn path drives Wan2.1-Fun-Camera in core's "
                        "WanCameraImageToVideo. Needs 4k+1 frames.",
            inputs=[
                Trajectory.Input("trajectory", tooltip="The camera path (4k+1 frames, e.g. 81 or 49)."),
                io.Boolean.Input("exact_intrinsics", default=False,
                                 tooltip="Off: reproduce core's aspect correction against 1280x720 exactly. On: "
                                         "use the trajectory's own focal length."),
            ],
            outputs=[io.WanCameraEmbedding.Output(display_name="camera_embedding"),
                     io.Int.Output(display_name="width"), io.Int.Output(display_name="height"),
                     io.Int.Output(display_name="length")],
        )

    @classmethod
    def execute(cls, trajectory: CameraTrajectory, exact_intrinsics: bool) -> io.NodeOutput:
        emb = to_wan_embedding(trajectory, exact_intrinsics=exact_intrinsics)
        return io.NodeOutput(emb, trajectory.width, trajectory.height, trajectory.num_frames)


class LoadTrajectory(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}LoadTrajectory",
            display_name="Draw to Video: trajectory from text",
            category=f"{CATEGORY}/poses",
            description="Reads a camera path from pasted text: the pack's trajectory JSON, RealEstate10K pose text "
                        "(CameraCtrl) or a MotionCtrl RT list. Nothing the text holds is dropped: poses stay in the "
                        "file's world and its timestamps and URL line are kept (fit it to a shot with 'fit camera "
                        "path to shot').",
            inputs=[
                io.String.Input("text", multiline=True, default="", tooltip="The pose text."),
                io.Combo.Input("format", options=list(READ_FORMATS), default="json",
                               tooltip="What the text is (auto: a JSON object is the pack's JSON, a JSON list "
                                       "MotionCtrl RT, else RealEstate10K)."),
                inputs.width("Frame width (RealEstate10K and MotionCtrl store no size)."),
                inputs.height("Frame height."),
                inputs.fps("Frames per second if the text has no timestamps (RealEstate10K's give their own)."),
                inputs.fov_deg("Vertical field of view for MotionCtrl RT (which has no intrinsics)."),
            ],
            outputs=[Trajectory.Output(display_name="trajectory")],
        )

    @classmethod
    def execute(cls, text: str, format: str, width: int, height: int, fps: float, fov_deg: float) -> io.NodeOutput:
        return io.NodeOutput(trajectory_from_text(text, format, width=width, height=height, fps=fps, fov_deg=fov_deg))


class SaveTrajectory(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}SaveTrajectory",
            display_name="Draw to Video: save trajectory",
            category=f"{CATEGORY}/poses",
            description="Writes the camera path into ComfyUI's output folder as the pack's JSON, RealEstate10K pose "
                        "text (for CameraCtrl users), a MotionCtrl RT list, or for VFX tools a glTF 2.0 animated camera "
                        "(Blender), a Nuke/Blender .chan or a nerfstudio camera_path.json (y-up, camera looking down "
                        "-z). The file is written completely or not at all.",
            inputs=[
                Trajectory.Input("trajectory", tooltip="The camera path to save."),
                io.String.Input("filename_prefix", default="draw-to-video/trajectory",
                                tooltip="File name prefix inside the output folder."),
                io.Combo.Input("format", options=FORMATS, default="json",
                               tooltip="File format: json (lossless), re10k (CameraCtrl), motionctrl (relative RT), "
                                       "gltf (animated camera with yfov), chan (Nuke: frame, translation, rotation "
                                       "ZXY in degrees, vertical FOV), nerfstudio (camera_path.json)."),
            ],
            outputs=[io.String.Output(display_name="text")],
            is_output_node=True,
        )

    @classmethod
    def check_inputs(cls, values: dict) -> str | None:
        prefix = values.get("filename_prefix")
        if isinstance(prefix, str) and not prefix.strip(" /\\"):
            return "filename_prefix is empty: give a file name prefix such as draw-to-video/trajectory"
        return None

    @classmethod
    def execute(cls, trajectory: CameraTrajectory, filename_prefix: str, format: str) -> io.NodeOutput:
        text = trajectory_to_text(trajectory, format)
        full_dir, name, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), trajectory.width, trajectory.height)
        file = f"{name}_{counter:05}_.{EXTENSIONS[format]}"
        tmp = os.path.join(full_dir, f".{file}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, os.path.join(full_dir, file))
        saved = ui.SavedResult(file, subfolder, io.FolderType.output)
        return io.NodeOutput(text, ui={"trajectory": [dict(saved)], "text": [text[:2000]]})


def median_depth(depth: DepthValue | None, width: int, height: int) -> float:
    """Median of the finite positive depth of the first depth frame (the subject distance 1.0 without one)."""
    if depth is None:
        return 1.0
    d = depth.frame(0, height, width)
    d = d[torch.isfinite(d) & (d > 0)]
    if d.numel() == 0:
        raise ValueError("the depth map has no finite positive depth")
    return float(d.median())


class FitTrajectory(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}FitTrajectory",
            display_name="Draw to Video: fit camera path to shot",
            category=f"{CATEGORY}/poses",
            description="Makes a real camera path (a RealEstate10K, MotionCtrl or pack trajectory file, from 'trajectory "
                        "from text') the camera of a render on this photo: re-based onto its first camera, its clock "
                        "resampled to the frames and fps (from its timestamps), its translation scaled to the photo's "
                        "depth, its intrinsics optionally kept.",
            inputs=[
                Trajectory.Input("trajectory", tooltip="The imported camera path."),
                inputs.frames("Number of output frames."),
                inputs.fps("Output frames per second (frame k is at k/fps seconds of the path's own clock)."),
                inputs.width("Output frame width (the photo's)."),
                inputs.height("Output frame height."),
                io.Combo.Input("timing", options=list(TIMINGS), default="source_clock",
                               tooltip="source_clock: real time (the path's timestamps; the last pose is held past "
                                       "its end). fit_to_frames: the whole path spread over the frames."),
                io.Combo.Input("scaling", options=list(SCALINGS), default="travel",
                               tooltip="How file units become scene units. travel: the camera's farthest distance "
                                       "from its start becomes scale x the photo's median depth (any file, e.g. "
                                       "RealEstate10K, which is up to scale). median_depth: one file unit = scale x "
                                       "the median depth. none: translations x scale."),
                io.Float.Input("scale", default=0.25, min=0.001, max=100.0, step=0.01,
                               tooltip="Multiplies the translation after the scaling rule."),
                io.Boolean.Input("keep_intrinsics", default=True,
                                 tooltip="On: the path's own (normalised) focal length and principal point. Off: "
                                         "a centred camera with the vertical field of view below."),
                inputs.fov_deg("Vertical field of view when the intrinsics are not kept."),
                Depth.Input("depth", optional=True,
                            tooltip="The photo's depth (its median sets the scale, and the coverage budget is judged "
                                    "with it); without it the subject is at 1 and the budget uses the depth prior."),
                inputs.strength_mode("auto = the path's motion (translation and turn, about its first camera) is "
                                     "scaled down until its worst frame shows at most coverage_budget of picture the "
                                     "photo never saw, like any preset; manual = the path as fitted."),
                inputs.coverage_budget(),
            ],
            outputs=[Trajectory.Output(display_name="trajectory"),
                     io.String.Output(display_name="note", tooltip="What the coverage budget limited, if anything.")],
        )

    @classmethod
    def execute(cls, trajectory: CameraTrajectory, frames: int, fps: float, width: int, height: int, timing: str,
                scaling: str, scale: float, keep_intrinsics: bool, fov_deg: float,
                depth: DepthValue | None = None, strength_mode: str = inputs.LEGACY_STRENGTH_MODE,
                coverage_budget: float = inputs.DEFAULT_BUDGET) -> io.NodeOutput:
        med = median_depth(depth, width, height)
        fitted = fit_camera_path(trajectory, frames, fps, width, height, timing=timing, scaling=scaling, scale=scale,
                                 median_depth=med, keep_intrinsics=keep_intrinsics, fov_deg=fov_deg)
        if strength_mode != "auto":
            return io.NodeOutput(fitted, "")
        dmap = depth.frame(0, height, width).cpu().numpy().astype("float64") if depth is not None else None
        limited = limit_path(fitted, dmap, coverage_budget, cancel=cancel_hook)
        return io.NodeOutput(limited, budget_note(limited.meta))


NODES = [ExportCameraCtrl, ExportMotionCtrl, WanCameraEmbedding, LoadTrajectory, SaveTrajectory, FitTrajectory]
