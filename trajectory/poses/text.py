"""Trajectories as file text in the pose formats the pack reads and writes (shared by nodes, CLI and batch jobs)."""

from __future__ import annotations

import json

from ..camera.model import CameraTrajectory
from .formats import from_motionctrl, from_re10k, to_motionctrl, to_re10k

#: ``json`` = the pack's own trajectory JSON; ``re10k`` = RealEstate10K pose text (CameraCtrl);
#: ``motionctrl`` = MotionCtrl's RT list as JSON.
FORMATS = ("json", "re10k", "motionctrl")
EXTENSIONS = {"json": "json", "re10k": "txt", "motionctrl": "json"}


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown pose format {fmt!r:.40}; choose one of: {', '.join(FORMATS)}")


def trajectory_to_text(traj: CameraTrajectory, fmt: str) -> str:
    """The trajectory as the text of a ``fmt`` file."""
    _check(fmt)
    if fmt == "json":
        return traj.to_json(indent=1)
    if fmt == "re10k":
        return to_re10k(traj)
    return json.dumps(to_motionctrl(traj))


def trajectory_from_text(text: str, fmt: str, *, width: int = 1024, height: int = 576, fps: float = 24.0,
                         fov_deg: float = 50.0) -> CameraTrajectory:
    """Parse ``fmt`` text; ``width``/``height``/``fps``/``fov_deg`` fill in what the format does not store."""
    _check(fmt)
    if fmt == "json":
        return CameraTrajectory.from_json(text)
    if fmt == "re10k":
        return from_re10k(text, width, height, fps=fps)
    return from_motionctrl(text, width, height, fov_deg=fov_deg, fps=fps)
