"""Pose-format nodes: the drawn camera for CameraCtrl, MotionCtrl and Wan2.1-Fun-Camera, plus load/save."""

from __future__ import annotations

import json
import os

import folder_paths
from comfy_api.latest import io, ui

from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.poses.formats import to_cameractrl_poses, to_motionctrl, to_re10k, to_wan_embedding
from ..trajectory.poses.text import EXTENSIONS, trajectory_from_text, trajectory_to_text
from ..trajectory.poses.text import FORMATS as TEXT_FORMATS
from . import inputs
from .base import CATEGORY, PREFIX, Trajectory

#: The type AnimateDiff-Evolved's CameraCtrl nodes and the Wan wrappers exchange.
CameraCtrlPoses = io.Custom("CAMERACTRL_POSES")
FORMATS = list(TEXT_FORMATS)


class ExportCameraCtrl(io.ComfyNode):
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


class ExportMotionCtrl(io.ComfyNode):
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


class WanCameraEmbedding(io.ComfyNode):
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


class LoadTrajectory(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}LoadTrajectory",
            display_name="Draw to Video: trajectory from text",
            category=f"{CATEGORY}/poses",
            description="Reads a camera path from pasted text: the pack's trajectory JSON, RealEstate10K pose text "
                        "(CameraCtrl) or a MotionCtrl RT list.",
            inputs=[
                io.String.Input("text", multiline=True, default="", tooltip="The pose text."),
                io.Combo.Input("format", options=FORMATS, default="json", tooltip="What the text is."),
                inputs.width("Frame width (RealEstate10K and MotionCtrl store no size)."),
                inputs.height("Frame height."),
                inputs.fps("Frames per second if the format has no timestamps."),
                inputs.fov_deg("Vertical field of view for MotionCtrl RT (which has no intrinsics)."),
            ],
            outputs=[Trajectory.Output(display_name="trajectory")],
        )

    @classmethod
    def execute(cls, text: str, format: str, width: int, height: int, fps: float, fov_deg: float) -> io.NodeOutput:
        return io.NodeOutput(trajectory_from_text(text, format, width=width, height=height, fps=fps, fov_deg=fov_deg))


class SaveTrajectory(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}SaveTrajectory",
            display_name="Draw to Video: save trajectory",
            category=f"{CATEGORY}/poses",
            description="Writes the camera path into ComfyUI's output folder as the pack's JSON, RealEstate10K pose "
                        "text (for CameraCtrl users) or a MotionCtrl RT list. The file is written completely or "
                        "not at all.",
            inputs=[
                Trajectory.Input("trajectory", tooltip="The camera path to save."),
                io.String.Input("filename_prefix", default="draw-to-video/trajectory",
                                tooltip="File name prefix inside the output folder."),
                io.Combo.Input("format", options=FORMATS, default="json", tooltip="File format."),
            ],
            outputs=[io.String.Output(display_name="text")],
            is_output_node=True,
        )

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


NODES = [ExportCameraCtrl, ExportMotionCtrl, WanCameraEmbedding, LoadTrajectory, SaveTrajectory]
