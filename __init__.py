"""Draw to Video: a ComfyUI node pack that turns a path drawn on an image into a cinematic camera move.

ComfyUI loads this folder as a custom-node module and calls :func:`comfy_entrypoint`. The same folder installs as
the Python package ``draw_to_video`` (``pip install -e .``) for the CLI and the pure libraries, so nothing here may
import ComfyUI at module import time: the node glue is imported lazily inside the entrypoint.
"""

from __future__ import annotations

__version__ = "0.1.0"

WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    """Return the pack's one :class:`ComfyExtension` (ComfyUI's V3 node API)."""
    from .nodes import DrawToVideoExtension

    return DrawToVideoExtension()


__all__ = ["WEB_DIRECTORY", "__version__", "comfy_entrypoint"]
