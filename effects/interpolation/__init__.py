"""Frame interpolation, apart from the look effects: in-between frames for smoother motion, slow motion and retiming.

``frames`` (:func:`.frames.interpolate_at`, :func:`.frames.retime`) makes in-between frames with RIFE when weights
are given (``rife``, with the IFNet architectures in ``rife_net``), else with weight-free DIS optical flow;
``camera_views`` makes them for clips with a known camera path (camera-aware interpolation and bullet time, through
the 2.5D renderer of ``draw_to_video.trajectory.render``).
"""
