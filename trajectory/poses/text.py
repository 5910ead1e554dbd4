"""Trajectories as file text in the pose formats the pack reads and writes (shared by nodes, CLI and batch jobs)."""

from __future__ import annotations

import json
import math

import numpy as np

from ..camera.model import CameraTrajectory
from .clock import TIMESTAMPS, fps_from_us, rebased, with_fps
from .formats import from_motionctrl, from_re10k, to_motionctrl, to_re10k
from .vfx import from_chan, from_gltf, from_nerfstudio, to_chan, to_gltf, to_nerfstudio

#: ``json`` = the pack's own trajectory JSON; ``re10k`` = RealEstate10K pose text (CameraCtrl);
#: ``motionctrl`` = MotionCtrl's RT list as JSON; ``gltf``, ``chan``, ``nerfstudio`` = the VFX exports of :mod:`.vfx`.
FORMATS = ("json", "re10k", "motionctrl", "gltf", "chan", "nerfstudio")
#: Formats a file can be read from: the above, or ``auto`` (told apart by :func:`detect_format`).
READ_FORMATS = ("auto", *FORMATS)
EXTENSIONS = {"json": "json", "re10k": "txt", "motionctrl": "json", "gltf": "gltf", "chan": "chan",
              "nerfstudio": "json"}


WRITERS = {"gltf": to_gltf, "chan": to_chan, "nerfstudio": to_nerfstudio}


def _check(fmt: str, allowed: tuple[str, ...] = FORMATS) -> None:
    if fmt not in allowed:
        raise ValueError(f"unknown pose format {fmt!r:.40}; choose one of: {', '.join(allowed)}")


def detect_format(text: str) -> str:
    """A JSON object is ``gltf`` (it has ``asset``), ``nerfstudio`` (``camera_path``) or else the pack's ``json``; a
    JSON list ``motionctrl``; lines of 7-8 numbers ``chan``; anything else ``re10k``."""
    head = text.lstrip()[:1]
    if head == "{":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            return "json"
        return "gltf" if "asset" in doc else "nerfstudio" if "camera_path" in doc else "json"
    if head == "[":
        return "motionctrl"
    first = next((ln.split() for ln in text.splitlines() if ln.strip()), [])
    try:
        numeric = len(first) in (7, 8) and all(math.isfinite(float(v)) for v in first)
    except ValueError:
        numeric = False
    return "chan" if numeric else "re10k"


def trajectory_to_text(traj: CameraTrajectory, fmt: str) -> str:
    """The trajectory as the text of a ``fmt`` file."""
    _check(fmt)
    if fmt == "json":
        return traj.to_json(indent=1)
    if fmt == "re10k":
        return to_re10k(traj)
    if fmt in WRITERS:
        return WRITERS[fmt](traj)
    return json.dumps(to_motionctrl(traj))


def trajectory_from_text(text: str, fmt: str, *, width: int = 1024, height: int = 576, fps: float = 24.0,
                         fov_deg: float = 50.0, rebase: bool = False, name: str | None = None) -> CameraTrajectory:
    """Parse ``fmt`` text (or ``auto``); ``width``/``height``/``fps``/``fov_deg`` fill in what the format does not
    store (RealEstate10K's timestamps give its fps; ``fps`` only when they cannot). Nothing the file holds is dropped
    (see :mod:`.clock`); ``rebase`` re-expresses the poses relative to the first frame, explicitly. ``name`` (the file
    name) is recorded as the source's name."""
    _check(fmt, READ_FORMATS)
    if fmt == "auto":
        fmt = detect_format(text)
    if fmt == "json":
        traj = CameraTrajectory.from_json(text)
    elif fmt == "re10k":
        traj = from_re10k(text, width, height, name=name)
        if fps_from_us(np.asarray(traj.meta[TIMESTAMPS]), None) is None:  # no usable clock in the file
            traj = with_fps(traj, fps)
    elif fmt == "gltf":
        traj = from_gltf(text, width, height)
    elif fmt == "chan":
        traj = from_chan(text, width, height, fps=fps)
    elif fmt == "nerfstudio":
        traj = from_nerfstudio(text)
    else:
        traj = from_motionctrl(text, width, height, fov_deg=fov_deg, fps=fps, name=name)
    return rebased(traj) if rebase else traj
