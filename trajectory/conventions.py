"""The one camera convention of Draw to Video, named here and nowhere else.

Convention: **OpenCV**.

* Camera frame: ``x`` right, ``y`` down, ``z`` forward (the camera looks along ``+z``).
* Pixels: ``u`` right, ``v`` down; the centre of pixel ``(i, j)`` is at ``u = j``, ``v = i``.
* Intrinsics ``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` in pixels, for a stated ``width x height``.
* Extrinsics are 4x4 homogeneous matrices named by direction, ``dst_T_src`` maps points in
  ``src`` coordinates to ``dst`` coordinates:

  - ``world_T_cam`` is camera-to-world (the camera's pose; its last column is the camera centre).
  - ``cam_T_world`` is world-to-camera (what RealEstate10K / CameraCtrl / MotionCtrl store as 3x4).

* World frame: the camera that took the source image, so a trajectory made from a stroke starts at
  ``world_T_cam[0] = I`` unless a preset says otherwise. World units are "scene units"; with a relative
  depth map one unit is the subject distance (the default depth of the lifted stroke).

Other conventions (OpenGL / Blender: y up, z backward) are converted only at the edges, where a format needs them.
"""

from __future__ import annotations

#: Name of the convention, written into every serialised trajectory.
CONVENTION = "opencv"

#: Default distance (scene units) of the subject when no depth is given.
DEFAULT_SUBJECT_DEPTH = 1.0
