"""The camera half of Draw to Video: pure, typed, vectorised numpy/torch (it never imports ComfyUI).

The way through, one stage a subpackage, with the one function to call at each step::

    stroke/    the drawn path        format.parse_strokes(json)          -> StrokeSet   (the one validator)
                                     prepare.prepare(strokes)            -> PreparedStroke
               what it means         intent.analyze(strokes)             -> Intent (straight, arc, circle, ...)
    camera/    where a stroke        build.build_trajectory(strokes, ShotOptions(...), depth=...)
               becomes a camera                                          -> model.CameraTrajectory
               (presets, motion, lift, preview)
    render/    where the camera      depth.depth_from_map(map) / depth.fallback_depth_prior(h, w)
               becomes frames        warp.render_views(image, depth, K_src, K, cam_T_src) -> RenderResult
    guidance.py  the frames steer a video model: LatentGuidance (a post-CFG blend towards the warped frames)
    fidelity/  what the clip shows   report.score_clip(frames, trajectory) -> rotation / direction / focal errors
    poses/     other tools' files    text.trajectory_to_text / text.trajectory_from_text (RealEstate10K/CameraCtrl,
                                     MotionCtrl), wan.to_wan_embedding (core's WAN_CAMERA_EMBEDDING)

``conventions.py`` names the one camera convention (OpenCV) every module follows; ``checks.py`` holds the shape
check and the progress/cancel callbacks every library entry shares. Nothing is imported here, so a reader (or the
CLI) pays only for the stage it uses.
"""
