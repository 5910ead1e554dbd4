"""Shared pieces of the node glue: the id prefix, the category, custom types and the node list."""

from __future__ import annotations

from comfy_api.latest import io

#: Every node id of the pack starts with this and never changes.
PREFIX = "DTV_"
CATEGORY = "draw-to-video"

#: Custom ComfyUI types of the pack.
Strokes = io.Custom("DTV_STROKES")
Intent = io.Custom("DTV_INTENT")
Trajectory = io.Custom("DTV_TRAJECTORY")
Depth = io.Custom("DTV_DEPTH")


def cancel_hook() -> bool:
    """The ``check_cancel``/``cancel`` callback the libraries take: raises ComfyUI's interrupt when the user cancels,
    else returns False."""
    import comfy.model_management as mm

    mm.throw_exception_if_processing_interrupted()
    return False


def all_nodes() -> list[type[io.ComfyNode]]:
    """Every node class of the pack, in menu order (imported lazily: only ComfyUI calls this)."""
    from . import (
        camera,
        camera_effects,
        depth,
        depth_estimator,
        effects,
        fidelity,
        info,
        interpolate,
        poses,
        render,
        strokes,
        svd,
    )

    modules = (strokes, camera, depth, depth_estimator, render, poses, interpolate, svd, camera_effects, effects,
               fidelity, info)
    return [node for module in modules for node in module.NODES]
