"""The cinematic presets: :data:`PRESETS` maps a name to a :class:`.shotkit.Preset`.

Each preset is one parametric function ``fn(ctx) -> Shot`` (see :mod:`.shotkit`); the single-axis moves live in
:mod:`.shots_axis`, the moves around and along things in :mod:`.shots_path`. :data:`PRESET_NAMES` is the node's
dropdown, ``"auto"`` first (:func:`.build.auto_preset` reads the stroke to choose one).
"""

from __future__ import annotations

from . import shots_axis as _shots_axis  # noqa: F401  (registers presets)
from . import shots_path as _shots_path  # noqa: F401  (registers presets)
from .shotkit import REGISTRY, Preset

PRESETS: dict[str, Preset] = dict(REGISTRY)
PRESET_NAMES: list[str] = ["auto", *PRESETS]

__all__ = ["PRESETS", "PRESET_NAMES", "Preset"]
