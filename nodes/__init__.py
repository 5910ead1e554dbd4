"""ComfyUI V3 glue: the one place that wires the pack (the node list, and what is registered when ComfyUI loads it).

Nodes are thin: they convert ComfyUI types at the boundary and call the pure libraries in ``trajectory/`` and
``effects/``. Every node id starts with :data:`.base.PREFIX` and never changes. Node modules import
:mod:`.base` and never each other's wiring; nothing registers itself on import.
"""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from .base import PREFIX

__all__ = ["PREFIX", "DrawToVideoExtension", "all_nodes"]


def all_nodes() -> list[type[io.ComfyNode]]:
    """Every node class of the pack, in menu order."""
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


class DrawToVideoExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return all_nodes()
