"""The camera trajectory type of Draw to Video, and its one JSON form.

A :class:`CameraTrajectory` is ``F >= 1`` frames of a pinhole camera in the convention of
:mod:`draw_to_video.trajectory.conventions` (read it there): per-frame intrinsics ``K [F, 3, 3]`` in pixels for
``width x height``, poses ``world_T_cam [F, 4, 4]``, and the lens state ``focus_distance [F]``
(scene units) and ``aperture [F]`` (f-number). It is immutable (arrays are read-only copies) and
validated on construction; bad input raises a one-line :class:`TrajectoryError` (a ``ValueError``).

JSON form (``to_json`` / ``from_json``; the same dict from ``to_dict`` / ``from_dict``), in the
spirit of nerfstudio's ``camera_path.json`` (one entry per frame)::

    {"convention": "opencv", "version": 1,
     "width": 1024, "height": 576, "fps": 24.0,
     "intent": "circle", "preset": "orbit", "meta": {...JSON-safe...},
     "frames": [{"K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
                 "world_T_cam": [[r11, r12, r13, tx], [..], [..], [0, 0, 0, 1]],
                 "focus_distance": 1.0, "aperture": 2.8}, ...]}

Floats are written with Python's shortest round-trip repr, so ``from_json(to_json(t))`` is exact.

Normalised intrinsics (RealEstate10K, CameraCtrl, core's Wan camera embedding) describe an image
spanning ``[0, 1]`` with pixel centres at ``(j + 0.5) / W``; ours put the centre of pixel ``j`` at
``u = j`` (see :mod:`draw_to_video.trajectory.conventions`). :func:`normalised_intrinsics` / :func:`pixel_intrinsics`
convert with that half-pixel shift: ``cx_n = (cx + 0.5) / W``, ``fx_n = fx / W``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..conventions import CONVENTION, centre_crop

FORMAT_VERSION = 1
ROT_TOL = 1e-6  #: tolerance on R^T R = I and det R = 1
MAX_FRAMES = 10_000  #: most frames of any trajectory, clip or frames input (the one limit)


class TrajectoryError(ValueError):
    """Invalid trajectory data; the message is one line."""

    def __init__(self, msg: str) -> None:
        super().__init__(" ".join(str(msg).split()))


def intrinsics(fx: Any, fy: Any, cx: Any, cy: Any) -> np.ndarray:
    """``K`` from focal lengths and principal point (pixels); arrays broadcast to ``[..., 3, 3]``."""
    fx, fy, cx, cy = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (fx, fy, cx, cy)))
    K = np.zeros(fx.shape + (3, 3))
    K[..., 0, 0], K[..., 1, 1], K[..., 0, 2], K[..., 1, 2], K[..., 2, 2] = fx, fy, cx, cy, 1.0
    return K


def K_from_fov(fov_y_deg: float, width: int, height: int) -> np.ndarray:
    """Square-pixel ``K [3, 3]`` with vertical field of view ``fov_y_deg`` and a centred principal point."""
    fov = float(fov_y_deg)
    if not (math.isfinite(fov) and 0.0 < fov < 180.0):
        raise TrajectoryError(f"fov_y_deg must be in (0, 180), got {fov_y_deg!r}")
    w, h = _side(width, "width"), _side(height, "height")
    f = 0.5 * h / math.tan(math.radians(fov) / 2.0)
    return intrinsics(f, f, (w - 1) / 2.0, (h - 1) / 2.0)


def normalised_intrinsics(K: np.ndarray, width: int, height: int) -> np.ndarray:
    """``[..., 4]`` = ``(fx/W, fy/H, (cx+0.5)/W, (cy+0.5)/H)`` (see the module docstring)."""
    K = np.asarray(K, dtype=np.float64)
    return np.stack([K[..., 0, 0] / width, K[..., 1, 1] / height,
                     (K[..., 0, 2] + 0.5) / width, (K[..., 1, 2] + 0.5) / height], axis=-1)


def pixel_intrinsics(norm: np.ndarray, width: int, height: int) -> np.ndarray:
    """Inverse of :func:`normalised_intrinsics`: ``[..., 4]`` normalised -> ``K [..., 3, 3]`` pixels."""
    n = np.asarray(norm, dtype=np.float64)
    return intrinsics(n[..., 0] * width, n[..., 1] * height, n[..., 2] * width - 0.5, n[..., 3] * height - 0.5)


def invert_rigid(T: np.ndarray) -> np.ndarray:
    """Inverse of rigid ``[..., 4, 4]`` transforms (``R^T, -R^T t``), vectorised."""
    R = T[..., :3, :3]
    out = np.zeros_like(T)
    Rt = np.swapaxes(R, -1, -2)
    out[..., :3, :3] = Rt
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", Rt, T[..., :3, 3])
    out[..., 3, 3] = 1.0
    return out


def _side(v: Any, name: str) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            raise TrajectoryError(f"{name} must be an integer >= 1, got {type(v).__name__} {v!r:.40}")
    if not 1 <= int(v) <= 1 << 16:
        raise TrajectoryError(f"{name} must be between 1 and 65536, got {v}")
    return int(v)


def _frozen(a: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise TrajectoryError(f"{name} must be numeric with shape {_shape_str(shape)}") from None
    if arr.shape != shape:
        raise TrajectoryError(f"{name} must have shape {_shape_str(shape)}, got {_shape_str(arr.shape)}")
    if not np.isfinite(arr).all():
        i = np.argwhere(~np.isfinite(arr))[0]
        raise TrajectoryError(f"{name}{list(map(int, i))} is not finite")
    arr.setflags(write=False)
    return arr


def _shape_str(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def check_rotations(R: np.ndarray, name: str = "world_T_cam") -> None:
    """Raise :class:`TrajectoryError` unless every ``R [F, 3, 3]`` is a proper rotation (within ROT_TOL)."""
    err = np.abs(np.einsum("fji,fjk->fik", R, R) - np.eye(3)).max(axis=(1, 2))
    det = np.linalg.det(R)
    bad = np.flatnonzero((err > ROT_TOL) | (np.abs(det - 1.0) > ROT_TOL))
    if bad.size:
        f = int(bad[0])
        raise TrajectoryError(f"{name}[{f}] rotation is not proper (|R^T R - I| = {err[f]:.3g}, det = {det[f]:.9g})")


def _json_safe(meta: Any) -> dict:
    if not isinstance(meta, dict):
        raise TrajectoryError(f"meta must be a dict, got {type(meta).__name__}")
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TrajectoryError(f"meta must be JSON-safe: {e}") from None
    return json.loads(text)


@dataclass(frozen=True, eq=False)
class CameraTrajectory:
    """``F`` frames of a pinhole camera (see the module docstring); validated, immutable."""

    width: int
    height: int
    fps: float
    K: np.ndarray
    world_T_cam: np.ndarray
    focus_distance: np.ndarray
    aperture: np.ndarray
    intent: str = "none"
    preset: str = "custom"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "width", _side(self.width, "width"))
        put(self, "height", _side(self.height, "height"))
        fps = self.fps
        if isinstance(fps, (bool, np.bool_)) or not isinstance(fps, (int, float, np.integer, np.floating)):
            raise TrajectoryError(f"fps must be a number, got {type(fps).__name__}")
        if not (math.isfinite(float(fps)) and 0.0 < float(fps) <= 1000.0):
            raise TrajectoryError(f"fps must be in (0, 1000], got {fps!r}")
        put(self, "fps", float(fps))
        try:
            Kin = np.asarray(self.K, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise TrajectoryError("K must be a numeric [F, 3, 3] array") from None
        F = Kin.shape[0] if Kin.ndim == 3 else -1
        if not 1 <= F <= MAX_FRAMES:
            raise TrajectoryError(f"K must have shape [F, 3, 3] with 1 <= F <= {MAX_FRAMES}, got {_shape_str(Kin.shape)}")
        K = _frozen(Kin, "K", (F, 3, 3))
        T = _frozen(self.world_T_cam, "world_T_cam", (F, 4, 4))
        fd = _frozen(self.focus_distance, "focus_distance", (F,))
        ap = _frozen(self.aperture, "aperture", (F,))
        form = np.abs(K[:, [0, 1, 2, 2, 2], [1, 0, 0, 1, 2]] - [0, 0, 0, 0, 1]).max(axis=1)
        if (form > 1e-9).any():
            f = int(np.argmax(form > 1e-9))
            raise TrajectoryError(f"K[{f}] must be [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]")
        if not (K[:, 0, 0] > 0).all() or not (K[:, 1, 1] > 0).all():
            f = int(np.argmax((K[:, 0, 0] <= 0) | (K[:, 1, 1] <= 0)))
            raise TrajectoryError(f"K[{f}] focal lengths must be positive, got fx={K[f, 0, 0]:.6g}, fy={K[f, 1, 1]:.6g}")
        last = np.abs(T[:, 3] - [0, 0, 0, 1]).max(axis=1)
        if (last > 1e-9).any():
            raise TrajectoryError(f"world_T_cam[{int(np.argmax(last > 1e-9))}] last row must be [0, 0, 0, 1]")
        check_rotations(T[:, :3, :3])
        if not (fd > 0).all():
            raise TrajectoryError(f"focus_distance[{int(np.argmax(fd <= 0))}] must be > 0")
        if not (ap > 0).all():
            raise TrajectoryError(f"aperture[{int(np.argmax(ap <= 0))}] must be > 0")
        for name in ("intent", "preset"):
            if not isinstance(getattr(self, name), str):
                raise TrajectoryError(f"{name} must be a string, got {type(getattr(self, name)).__name__}")
        put(self, "K", K)
        put(self, "world_T_cam", T)
        put(self, "focus_distance", fd)
        put(self, "aperture", ap)
        put(self, "meta", _json_safe(self.meta))

    # -- views -----------------------------------------------------------------------------------

    @property
    def num_frames(self) -> int:
        """Number of frames ``F``."""
        return int(self.K.shape[0])

    @property
    def duration_s(self) -> float:
        """Seconds from the first to the last frame, ``(F - 1) / fps``."""
        return (self.num_frames - 1) / self.fps

    def cam_T_world(self) -> np.ndarray:
        """World-to-camera ``[F, 4, 4]``."""
        return invert_rigid(self.world_T_cam)

    def centres(self) -> np.ndarray:
        """Camera centres in the world ``[F, 3]``."""
        return self.world_T_cam[:, :3, 3].copy()

    def fov_deg(self) -> np.ndarray:
        """Full field of view ``[F, 2]`` (x, y) in degrees."""
        return np.degrees(2.0 * np.arctan(np.stack([self.width / (2.0 * self.K[:, 0, 0]),
                                                     self.height / (2.0 * self.K[:, 1, 1])], axis=-1)))

    def rescaled(self, width: int, height: int) -> CameraTrajectory:
        """The same cameras for a ``width x height`` image (K scaled; pixel centres kept, see conventions)."""
        w, h = _side(width, "width"), _side(height, "height")
        sx, sy = w / self.width, h / self.height
        K = self.K.copy()
        K[:, 0, 0] *= sx
        K[:, 1, 1] *= sy
        K[:, 0, 2] = (K[:, 0, 2] + 0.5) * sx - 0.5
        K[:, 1, 2] = (K[:, 1, 2] + 0.5) * sy - 0.5
        return CameraTrajectory(w, h, self.fps, K, self.world_T_cam, self.focus_distance, self.aperture,
                                self.intent, self.preset, self.meta)

    def source_K(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """``K [3, 3]`` of the camera the source photo was taken with, for the photo at ``width x height`` (default
        the trajectory's size): frame 0's camera with the overscan undone. A photo of another aspect than the
        frames is shown as ComfyUI's centre crop shows it (:func:`~draw_to_video.trajectory.conventions.centre_crop`:
        the cut-off sides lie outside frame 0, never squashed into it). A shot built with overscan ``o < 1``
        (``meta["overscan"]``) zooms every frame by ``1 / o`` about the principal point, so frame 0 shows the
        central ``o`` share of that and the border a move uncovers stays off screen; without it, this is frame 0's
        ``K``. Everything that maps the photo itself (the renderer, the stroke, the feasibility model) uses this
        camera."""
        x0 = y0 = 0
        if width is None and height is None:
            K = self.K[0].copy()
        else:
            w, h = _side(width or self.width, "width"), _side(height or self.height, "height")
            x0, y0 = centre_crop(w, h, self.width, self.height)
            K = self.rescaled(w - 2 * x0, h - 2 * y0).K[0].copy()
        K[0, 2] += x0
        K[1, 2] += y0
        overscan = float(self.meta.get("overscan", 1.0))
        K[0, 0] *= overscan
        K[1, 1] *= overscan
        return K

    # -- serialisation ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring) as plain Python objects."""
        K, T = self.K.tolist(), self.world_T_cam.tolist()
        fd, ap = self.focus_distance.tolist(), self.aperture.tolist()
        return {
            "convention": CONVENTION, "version": FORMAT_VERSION,
            "width": self.width, "height": self.height, "fps": self.fps,
            "intent": self.intent, "preset": self.preset, "meta": json.loads(json.dumps(self.meta)),
            "frames": [{"K": K[i], "world_T_cam": T[i], "focus_distance": fd[i], "aperture": ap[i]}
                       for i in range(self.num_frames)],
        }

    def to_json(self, indent: int | None = None) -> str:
        """JSON text of :meth:`to_dict` (exact round trip through :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any) -> CameraTrajectory:
        """Validate and load the JSON form; any defect raises a one-line :class:`TrajectoryError`."""
        if not isinstance(data, dict):
            raise TrajectoryError(f"trajectory must be a JSON object, got {type(data).__name__}")
        for key in ("convention", "version", "width", "height", "fps", "frames"):
            if key not in data:
                raise TrajectoryError(f"trajectory: missing key '{key}'")
        if data["convention"] != CONVENTION:
            raise TrajectoryError(f"convention must be '{CONVENTION}', got {data['convention']!r:.40}")
        if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
            raise TrajectoryError(f"version must be {FORMAT_VERSION}, got {data['version']!r:.40}")
        frames = data["frames"]
        if not isinstance(frames, list) or not frames:
            raise TrajectoryError("frames must be a non-empty list")
        cols: dict[str, list] = {"K": [], "world_T_cam": [], "focus_distance": [], "aperture": []}
        for i, fr in enumerate(frames):
            if not isinstance(fr, dict):
                raise TrajectoryError(f"frames[{i}] must be an object, got {type(fr).__name__}")
            for key, col in cols.items():
                if key not in fr:
                    raise TrajectoryError(f"frames[{i}]: missing key '{key}'")
                v = fr[key]
                if v is None or isinstance(v, (bool, str, dict)):
                    raise TrajectoryError(f"frames[{i}].{key} must be numeric")
                col.append(v)
        arrays = {}
        for key, shape in (("K", (3, 3)), ("world_T_cam", (4, 4)), ("focus_distance", ()), ("aperture", ())):
            for i, v in enumerate(cols[key]):
                try:
                    a = np.asarray(v, dtype=np.float64)
                except (TypeError, ValueError, OverflowError):
                    raise TrajectoryError(f"frames[{i}].{key} must be numeric with shape {_shape_str(shape)}") from None
                if a.shape != shape:
                    raise TrajectoryError(f"frames[{i}].{key} must have shape {_shape_str(shape)}, got {_shape_str(a.shape)}")
            arrays[key] = np.asarray(cols[key], dtype=np.float64)
        return cls(width=data["width"], height=data["height"], fps=data["fps"], K=arrays["K"],
                   world_T_cam=arrays["world_T_cam"], focus_distance=arrays["focus_distance"],
                   aperture=arrays["aperture"], intent=data.get("intent", "none"),
                   preset=data.get("preset", "custom"), meta=data.get("meta", {}))

    @classmethod
    def from_json(cls, text: str | bytes) -> CameraTrajectory:
        """Parse JSON text (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, TypeError) as e:
            raise TrajectoryError(f"invalid trajectory JSON: {e}") from None
        return cls.from_dict(data)

    @classmethod
    def static(cls, width: int, height: int, frames: int, fps: float = 24.0, fov_y_deg: float = 50.0,
               focus_distance: float = 1.0, aperture: float = 2.8, **kw: Any) -> CameraTrajectory:
        """``frames`` copies of the source camera (identity pose, constant K)."""
        K = np.broadcast_to(K_from_fov(fov_y_deg, width, height), (frames, 3, 3))
        T = np.broadcast_to(np.eye(4), (frames, 4, 4))
        return cls(width, height, fps, K, T, np.full(frames, float(focus_distance)), np.full(frames, float(aperture)),
                   **kw)
