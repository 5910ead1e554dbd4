"""Wan 2.1 ATI: the drawn camera as the point tracks core ``WanTrackToVideo`` takes (points of the photo lifted with
their depth and carried through every camera of the trajectory)."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ..trajectory.camera.model import CameraTrajectory
from ..trajectory.checks import check_shape
from ..trajectory.poses.tracks import MAX_POINTS, SAMPLINGS, preview, start_frame, wan_tracks
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, Trajectory

__all__ = ["NODES", "WanTracks"]


class WanTracks(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}WanTracks",
            display_name="Draw to Video: to Wan ATI tracks",
            category=f"{CATEGORY}/wan",
            description="The trajectory as point tracks for core WanTrackToVideo (Wan 2.1 ATI): points of the photo "
                        "are lifted with their depth, projected through every camera, and written as the JSON core "
                        "parses (121 samples placed so core reads camera k for video frame k). A point that leaves "
                        "the frame, goes behind the camera or is hidden behind nearer parts of the scene ends its "
                        "track there (core's tracks have no visibility field: a missing tail is invisible). Wire "
                        "tracks, start_image, width, height and length into WanTrackToVideo.",
            inputs=[
                io.Image.Input("image", tooltip="The photo the trajectory starts from (the first of the batch)."),
                Depth.Input("depth", tooltip="Its depth (a depth node through 'depth from depth map', or the "
                                             "approximate prior): it places the points in 3D."),
                Trajectory.Input("trajectory", tooltip="The camera path; the video has its frames (the nearest "
                                                       "4n+1, e.g. 81) and size (cut to multiples of 16)."),
                io.Combo.Input("sampling", options=list(SAMPLINGS), default="grid",
                               tooltip="Which points to track: grid = evenly over the photo (a camera move is "
                                       "everywhere); features = strong corners (OpenCV goodFeaturesToTrack), "
                                       "spread apart; a grid if the photo has none."),
                io.Int.Input("max_points", default=64, min=1, max=MAX_POINTS,
                             tooltip="Most points tracked: more give a denser motion field (a camera move moves "
                                     "everything), fewer leave the model more freedom between them."),
                io.Boolean.Input("occlusion", default=True,
                                 tooltip="On: a point hidden behind nearer parts of the scene (a z-buffer of the "
                                         "photo's depth in each camera) ends its track. Off: only leaving the "
                                         "frame or passing behind the camera does."),
            ],
            outputs=[io.String.Output(display_name="tracks"), io.Image.Output(display_name="start_image"),
                     io.Int.Output(display_name="width"), io.Int.Output(display_name="height"),
                     io.Int.Output(display_name="length"), io.Image.Output(display_name="preview"),
                     io.String.Output(display_name="note",
                                      tooltip="How many tracks, how many end early, which points were left out.")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, depth: DepthValue, trajectory: CameraTrajectory, sampling: str,
                max_points: int, occlusion: bool) -> io.NodeOutput:
        size = check_shape(image, "B H W C", "image")
        if size["B"] < 1 or size["C"] < 1:
            raise ValueError("image must hold at least one image, got an empty batch")
        h, w = size["H"], size["W"]
        img = image[0].float().cpu()
        rgb = img[..., :3] if size["C"] >= 3 else img[..., :1].expand(-1, -1, 3)
        gray = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).numpy()
        dmap = depth.frame(0, h, w).cpu().double().numpy()
        tracks = wan_tracks(trajectory, dmap, gray, sampling=sampling, max_points=max_points, occlusion=occlusion)
        start = start_frame(rgb, trajectory)
        return io.NodeOutput(tracks.to_json(), start, tracks.width, tracks.height, tracks.length,
                             preview(start, tracks), tracks.note())


NODES = [WanTracks]
