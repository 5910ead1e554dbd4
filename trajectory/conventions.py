"""The one camera convention of Draw to Video, named here and nowhere else.

Convention: **OpenCV**.

* Camera frame: ``x`` right, ``y`` down, ``z`` forward (the camera looks along ``+z``).
* Pixels: ``u`` right, ``v`` down; the centre of pixel ``(i, j)`` is at ``u = j``, ``v = i``.
* Intrinsics ``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` in pixels, for a stated ``width x height``.
* A picture shown on a frame of another aspect (the photo on the video's frames, the drawing canvas on them) is
  cut, centred, to the frame's aspect and then scaled to it, as ComfyUI's own centre crop does (:func:`centre_crop`),
  so the frames and a video model's start image show the same part of the photo.
* Extrinsics are 4x4 homogeneous matrices named by direction, ``dst_T_src`` maps points in
  ``src`` coordinates to ``dst`` coordinates:

  - ``world_T_cam`` is camera-to-world (the camera's pose; its last column is the camera centre).
  - ``cam_T_world`` is world-to-camera (what RealEstate10K / CameraCtrl / MotionCtrl store as 3x4).

* World frame: the camera that took the source image, so a trajectory made from a stroke starts at
  ``world_T_cam[0] = I`` unless a preset says otherwise. World units are "scene units"; with a relative
  depth map one unit is the subject distance (the default depth of the lifted stroke).

Other conventions (OpenGL / glTF / Nuke / nerfstudio: y up, z backward) are converted only at the edges, where a format
needs them, and only through :func:`opencv_to_opengl` / :func:`opengl_to_opencv` below.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Name of the convention, written into every serialised trajectory.
CONVENTION = "opencv"

#: Default distance (scene units) of the subject when no depth is given.
DEFAULT_SUBJECT_DEPTH = 1.0


def centre_crop(width: int, height: int, frame_width: int, frame_height: int) -> tuple[int, int]:
    """Whole pixels ``(x, y)`` cut from each side of a ``width x height`` picture shown on a ``frame_width x
    frame_height`` frame: the rest, ``(width - 2x) x (height - 2y)``, is what the frame shows, scaled to it per axis.
    The rule of ComfyUI's ``comfy.utils.common_upscale(..., crop="center")`` (ImageScale, and the start image of
    SVD_img2vid_Conditioning and the Wan image-to-video nodes); at least one pixel is kept. Matching aspects cut
    nothing."""
    old, new = width / height, frame_width / frame_height
    if old > new:
        return min(round((width - width * (new / old)) / 2), (width - 1) // 2), 0
    if old < new:
        return 0, min(round((height - height * (old / new)) / 2), (height - 1) // 2)
    return 0, 0


# -- the one conversion to the y-up, camera-looks-down--z tools (glTF, Blender via glTF, Nuke .chan, nerfstudio) ------

#: OpenCV axes -> OpenGL axes (and back: it is its own inverse): flip y and z.
CV_TO_GL = ((1.0, 0.0, 0.0, 0.0), (0.0, -1.0, 0.0, 0.0), (0.0, 0.0, -1.0, 0.0), (0.0, 0.0, 0.0, 1.0))


def opencv_to_opengl(world_T_cam: Any) -> np.ndarray:
    """OpenGL ``world_T_cam [..., 4, 4]`` of OpenCV ones: ``C @ world_T_cam @ C`` with ``C = diag(1, -1, -1, 1)``.

    The camera flips to x right, y up, z backward (it looks along ``-z``), and so does the world, so the source
    camera (``world_T_cam = I``) stays the identity: a y-up world with the first camera at the origin looking down
    ``-z``, the default camera of glTF, Nuke and nerfstudio.
    """
    C = np.asarray(CV_TO_GL)
    return C @ np.asarray(world_T_cam, dtype=np.float64) @ C


def opengl_to_opencv(world_T_cam: Any) -> np.ndarray:
    """Inverse of :func:`opencv_to_opengl` (the same map)."""
    return opencv_to_opengl(world_T_cam)
