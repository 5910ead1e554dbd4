"""Where the camera becomes frames: the 2.5D depth-warp renderer.

``depth`` turns any depth map (or none: a labelled prior) into scene depth; ``warp`` (:func:`.warp.render_views`,
:func:`.warp.iter_render`) renders one image along the camera, on the building blocks of ``warpcore`` (projection,
z-buffer, splats) and ``holefill`` (what the photo never showed); ``vace`` makes a render core WanVaceToVideo's controls.
"""
