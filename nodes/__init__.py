"""ComfyUI V3 glue: the one place that wires the pack (the node list, and what is registered when ComfyUI loads it).

Nodes are thin: they convert ComfyUI types at the boundary and call the pure libraries in ``trajectory/`` and
``effects/``. Every node id starts with :data:`.base.PREFIX` and never changes. Node modules import only the shared
modules (:mod:`.base`, :mod:`.inputs`, :mod:`.models`, :mod:`.rendering`), never each other; nothing registers
itself on import: :func:`register` does it all, from :class:`DrawToVideoExtension`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from .base import PREFIX

__all__ = ["PREFIX", "DrawToVideoExtension", "ModelFolder", "all_nodes", "model_folders", "register"]


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
        overlay,
        poses,
        render,
        strokes,
        svd,
        wan_tracks,
        wan_vace,
    )

    modules = (strokes, camera, overlay, depth, depth_estimator, render, poses, wan_vace, wan_tracks, interpolate, svd,
               camera_effects, effects, fidelity, info)
    return [node for module in modules for node in module.NODES]


@dataclass(frozen=True)
class ModelFolder:
    """A folder of ComfyUI's ``models/`` the pack reads: its ``folder_paths`` name, the file extensions it lists
    (empty: every file; the depth models are folders, found by their ``config.json``), and other packs' folders that
    are searched too (paths below each ``custom_nodes`` folder)."""

    name: str
    extensions: frozenset[str]
    legacy: tuple[tuple[str, ...], ...] = ()


def model_folders() -> tuple[ModelFolder, ...]:
    """The one table of the pack's model folders; each name is the constant its node module reads."""
    from . import depth_estimator, effects, interpolate

    return (
        ModelFolder(interpolate.FOLDER, interpolate.EXTENSIONS, legacy=(interpolate.LEGACY_FOLDER,)),
        ModelFolder(depth_estimator.FOLDER, frozenset()),
        ModelFolder(effects.LUT_FOLDER, frozenset(effects.LUT_EXTENSIONS)),
    )


def register_folders() -> None:
    """Add :func:`model_folders` to ComfyUI's ``folder_paths`` (idempotent; merges with folders and extensions
    that ComfyUI, ``extra_model_paths.yaml`` or another pack registered already)."""
    import folder_paths

    for folder in model_folders():
        folder_paths.add_model_folder_path(folder.name, os.path.join(folder_paths.models_dir, folder.name))
        for root in folder_paths.get_folder_paths("custom_nodes"):
            for parts in folder.legacy:
                if os.path.isdir(path := os.path.join(root, *parts)):
                    folder_paths.add_model_folder_path(folder.name, path)
        paths, exts = folder_paths.folder_names_and_paths[folder.name]
        folder_paths.folder_names_and_paths[folder.name] = (paths, set(exts) | folder.extensions)


def register_route() -> bool:
    """Add the drawing widget's ``POST /draw_to_video/analyze`` to ``PromptServer.instance.routes`` once per server;
    False when there is no server (e.g. the pack is imported by a script)."""
    from server import PromptServer

    from . import routes

    instance = getattr(PromptServer, "instance", None)
    if instance is None:
        return False
    routes.register(instance.routes)
    return True


def register() -> None:
    """Everything the pack registers with ComfyUI: its model folders and its HTTP route. Safe to call repeatedly.

    When it runs: ComfyUI 0.3.75's ``main.start_comfyui`` creates the ``PromptServer`` (whose ``routes`` is an
    aiohttp ``RouteTableDef``), then awaits ``nodes.init_extra_nodes``, which imports the pack and calls
    ``comfy_entrypoint()`` and the extension's ``get_node_list()`` (``nodes.load_custom_node``), and only afterwards
    calls ``PromptServer.add_routes()``, which copies ``routes`` into the aiohttp app (plus the ``/api`` aliases).
    0.3.75 never calls ``ComfyExtension.on_load``; later ComfyUI versions call it right before ``get_node_list``. So
    both hooks call this function (the second call changes nothing), and both run before the routes reach the app
    and before any node schema (whose model lists need the folders) is built.
    """
    register_folders()
    register_route()


class DrawToVideoExtension(ComfyExtension):
    @override
    async def on_load(self) -> None:
        register()

    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        register()  # ComfyUI 0.3.75 never calls on_load (see register)
        return all_nodes()
