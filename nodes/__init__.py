"""ComfyUI V3 glue: every node of the pack, registered through one :class:`ComfyExtension`.

Nodes are thin: they convert ComfyUI types at the boundary and call the pure libraries in ``trajectory/`` and
``effects/``. Every node id starts with :data:`PREFIX` and never changes.
"""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from .common import PREFIX, all_nodes

__all__ = ["PREFIX", "DrawToVideoExtension"]


class DrawToVideoExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return all_nodes()
