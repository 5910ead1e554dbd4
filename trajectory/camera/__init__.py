"""Where a stroke becomes a camera.

``build`` (:func:`.build.build_trajectory` with :class:`.build.ShotOptions`) picks a preset from ``presets`` (one
parametric function each, in ``shots_axis`` and ``shots_path``, on the shared pieces of ``shotkit``), lifts the
stroke into the scene (``lift``), keeps the motion smooth and within limits (``motion``), and returns a
:class:`.model.CameraTrajectory` (the type, with per-frame intrinsics, and its one JSON form). ``preview`` draws it.
"""
