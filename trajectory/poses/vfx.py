"""Camera exports to the tools where shots are finished: glTF 2.0, Nuke/Blender ``.chan``, nerfstudio camera paths.

All three use the y-up, camera-looks-down ``-z`` axes; the pack's OpenCV poses are converted by
:func:`draw_to_video.trajectory.conventions.opencv_to_opengl` and nowhere else. The source camera (frame 0 of a
stroke's trajectory) is at the origin looking down ``-z`` with ``+y`` up. Frame ``k`` is at ``times_s[k]`` seconds (the
file's clock when it was imported with timestamps, else ``k / fps``). Vertical field of view ``2 atan(H / (2 fy))``.

* **glTF 2.0** (``.gltf``, one file, buffer embedded as a data URI): one perspective camera on one node; an
  animation with LINEAR samplers for the node's translation and rotation (quaternion ``x, y, z, w``) per frame,
  and, where the focal length changes, the camera's ``yfov`` through ``KHR_animation_pointer``
  (``/cameras/0/perspective/yfov``, listed in ``extensionsUsed`` only, so loaders without it keep the first yfov).
  ``aspectRatio`` is the field-of-view aspect ``W fy / (H fx)``, so fx != fy survives. The principal point and the
  image size, which glTF cannot hold, are in the camera's ``extras`` (ignored by other tools). Floats are float32.
* **.chan** (Nuke; Blender's chan import/export add-on): one line per frame, ``frame tx ty tz rx ry rz vfov``, frame
  numbers from 1 (``1 + round(t * fps)``), rotations in degrees in Nuke's default order ZXY (``R = Ry Rx Rz``), vertical
  FOV in degrees. It cannot hold fx != fy, the principal point, the image size or the clock beyond whole frames.
* **nerfstudio** ``camera_path.json`` (what ``ns-render camera-path`` reads): ``render_width``/``render_height``,
  ``fps``, ``seconds`` and per frame ``camera_to_world`` (16 floats, row-major, OpenGL axes), ``fov`` (vertical,
  degrees) and ``aspect``. nerfstudio rebuilds a square-pixel centred camera from ``fov``, so fx != fy and the
  principal point are not held.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ..camera.model import CameraTrajectory, TrajectoryError, intrinsics
from ..conventions import opencv_to_opengl, opengl_to_opencv
from .clock import fps_from_us, imported_meta, times_s

_URI = "data:application/octet-stream;base64,"
_YFOV = "/cameras/0/perspective/yfov"


def _vfov(traj: CameraTrajectory) -> np.ndarray:
    return 2.0 * np.arctan(traj.height / (2.0 * traj.K[:, 1, 1]))


def _pose(gl: np.ndarray) -> np.ndarray:
    """OpenCV ``world_T_cam`` of OpenGL ones, rotations re-orthonormalised after float32 storage."""
    T = opengl_to_opencv(gl)
    U, _, Vt = np.linalg.svd(T[:, :3, :3])
    T[:, :3, :3] = U @ Vt
    return T


def _from_fov(vfov: np.ndarray, width: int, height: int, fps: float, gl: np.ndarray, aspect: np.ndarray | None = None,
              cx: Any = None, cy: Any = None, fmt: str = "", ts: Any = None) -> CameraTrajectory:
    fy = height / (2.0 * np.tan(vfov / 2.0))
    fx = fy if aspect is None else width * fy / (height * aspect)
    cx = (width - 1) / 2.0 if cx is None else cx
    cy = (height - 1) / 2.0 if cy is None else cy
    F = len(gl)
    return CameraTrajectory(width, height, fps, intrinsics(fx, fy, cx, cy), _pose(gl), np.ones(F), np.full(F, 2.8),
                            preset=fmt, meta=imported_meta(fmt, ts))


# -- glTF 2.0 --------------------------------------------------------------------------------------


def to_gltf(traj: CameraTrajectory) -> str:
    """glTF 2.0 JSON text with the animated camera (see the module docstring)."""
    gl = opencv_to_opengl(traj.world_T_cam)
    t = times_s(traj).astype(np.float32)
    trans = gl[:, :3, 3].astype(np.float32)
    quat = Rotation.from_matrix(gl[:, :3, :3]).as_quat().astype(np.float32)  # x, y, z, w
    yfov = _vfov(traj).astype(np.float32)
    animate_fov = bool(np.ptp(yfov) > 0)
    parts = [t, trans, quat] + ([yfov] if animate_fov else [])
    blob, views, offset = b"", [], 0
    for a in parts:
        b = a.tobytes()
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(b)})
        blob += b
        offset += len(b)
    kinds = ["SCALAR", "VEC3", "VEC4", "SCALAR"]
    accessors = [{"bufferView": i, "componentType": 5126, "count": traj.num_frames, "type": kinds[i]}
                 for i in range(len(parts))]
    accessors[0].update(min=[float(t.min())], max=[float(t.max())])
    channels = [{"sampler": 0, "target": {"node": 0, "path": "translation"}},
                {"sampler": 1, "target": {"node": 0, "path": "rotation"}}]
    samplers = [{"input": 0, "output": 1, "interpolation": "LINEAR"}, {"input": 0, "output": 2, "interpolation": "LINEAR"}]
    doc: dict[str, Any] = {"asset": {"version": "2.0", "generator": "draw-to-video"}}
    if animate_fov:
        channels.append({"sampler": 2, "target": {"path": "pointer",
                                                  "extensions": {"KHR_animation_pointer": {"pointer": _YFOV}}}})
        samplers.append({"input": 0, "output": 3, "interpolation": "LINEAR"})
        doc["extensionsUsed"] = ["KHR_animation_pointer"]
    K = traj.K
    doc.update({
        "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "draw_to_video_camera", "camera": 0, "translation": trans[0].tolist(),
                   "rotation": quat[0].tolist()}],
        "cameras": [{"type": "perspective", "name": "draw_to_video_camera",
                     "perspective": {"yfov": float(yfov[0]), "aspectRatio": float(traj.width * K[0, 1, 1] / (
                         traj.height * K[0, 0, 0])), "znear": 0.01, "zfar": 1000.0},
                     "extras": {"width": traj.width, "height": traj.height, "fps": traj.fps,
                                "fx": K[:, 0, 0].tolist(), "fy": K[:, 1, 1].tolist(),
                                "cx": K[:, 0, 2].tolist(), "cy": K[:, 1, 2].tolist()}}],
        "animations": [{"name": "camera", "channels": channels, "samplers": samplers}],
        "buffers": [{"byteLength": len(blob), "uri": _URI + base64.b64encode(blob).decode("ascii")}],
        "bufferViews": views, "accessors": accessors,
    })
    return json.dumps(doc, indent=1)


def _accessor(doc: dict, index: int) -> np.ndarray:
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    uri = doc["buffers"][view["buffer"]]["uri"]
    if acc["componentType"] != 5126 or not uri.startswith("data:"):
        raise TrajectoryError("glTF: only float accessors in an embedded (data URI) buffer are read")
    raw = base64.b64decode(uri.split(",", 1)[1])
    n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    return np.frombuffer(raw, dtype="<f4", count=acc["count"] * n, offset=start).reshape(acc["count"], n).astype(float)


def from_gltf(text: str, width: int | None = None, height: int | None = None) -> CameraTrajectory:
    """Read back the animated camera of a glTF written by :func:`to_gltf` (the first camera node and its animation;
    size and principal point from ``extras`` when present, else ``width x height`` and a centred point)."""
    try:
        doc = json.loads(text)
        node_i = next(i for i, n in enumerate(doc["nodes"]) if "camera" in n)
        node, cam = doc["nodes"][node_i], doc["cameras"][doc["nodes"][node_i]["camera"]]
        ex = cam.get("extras", {})
        W, H = int(ex.get("width", width or 1024)), int(ex.get("height", height or 576))
        out: dict[str, np.ndarray] = {}
        t = np.zeros(1)
        for anim in doc.get("animations", [])[:1]:
            for ch in anim["channels"]:
                s = anim["samplers"][ch["sampler"]]
                tgt = ch["target"]
                key = tgt["path"] if tgt.get("node") == node_i else (
                    "yfov" if tgt.get("extensions", {}).get("KHR_animation_pointer", {}).get("pointer") == _YFOV
                    else None)
                if key:
                    t, out[key] = _accessor(doc, s["input"])[:, 0], _accessor(doc, s["output"])
    except (KeyError, IndexError, StopIteration, TypeError, ValueError, json.JSONDecodeError) as e:
        raise TrajectoryError(f"not a glTF camera animation: {type(e).__name__} {e}") from None
    F = len(t)
    trans = out.get("translation", np.broadcast_to(np.asarray(node.get("translation", [0, 0, 0]), float), (F, 3)))
    quat = out.get("rotation", np.broadcast_to(np.asarray(node.get("rotation", [0, 0, 0, 1]), float), (F, 4)))
    gl = np.tile(np.eye(4), (F, 1, 1))
    gl[:, :3, :3] = Rotation.from_quat(quat).as_matrix()
    gl[:, :3, 3] = trans
    p = cam["perspective"]
    yfov = out["yfov"][:, 0] if "yfov" in out else np.full(F, float(p["yfov"]))
    fps = float(ex.get("fps") or fps_from_us(t * 1e6, 24.0))
    fy = H / (2.0 * np.tan(yfov / 2.0))
    fx = np.asarray(ex["fx"], float) * fy / np.asarray(ex["fy"], float) if "fx" in ex else (
        W * fy / (H * float(p.get("aspectRatio", W / H))))
    K = intrinsics(fx, fy, ex.get("cx", (W - 1) / 2.0), ex.get("cy", (H - 1) / 2.0))
    return CameraTrajectory(W, H, fps, K, _pose(gl), np.ones(F), np.full(F, 2.8), preset="gltf",
                            meta=imported_meta("gltf", (t * 1e6).round().tolist()))


# -- Nuke / Blender .chan --------------------------------------------------------------------------


def to_chan(traj: CameraTrajectory) -> str:
    """``.chan`` text (see the module docstring)."""
    gl = opencv_to_opengl(traj.world_T_cam)
    rz, rx, ry = Rotation.from_matrix(gl[:, :3, :3]).as_euler("zxy", degrees=True).T
    frames = 1 + np.round(times_s(traj) * traj.fps).astype(int)
    cols = np.c_[gl[:, :3, 3], rx, ry, rz, np.degrees(_vfov(traj))]
    return "".join(f"{f} " + " ".join(map(repr, row)) + "\n" for f, row in zip(frames.tolist(), cols.tolist()))


def from_chan(text: str, width: int, height: int, fps: float = 24.0) -> CameraTrajectory:
    """Parse ``.chan`` text for a ``width x height`` image (square pixels, centred principal point; a line without
    the FOV column gets 50 degrees)."""
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        tok = line.split()
        if not tok:
            continue
        try:
            vals = [float(v) for v in tok]
        except ValueError:
            raise TrajectoryError(f"line {n}: .chan values must be numbers") from None
        if len(vals) not in (7, 8) or not all(map(math.isfinite, vals)):
            raise TrajectoryError(f"line {n}: expected 'frame tx ty tz rx ry rz [vfov]', got {len(vals)} values")
        rows.append(vals if len(vals) == 8 else [*vals, 50.0])
    if not rows:
        raise TrajectoryError(".chan text has no lines")
    a = np.asarray(rows)
    gl = np.tile(np.eye(4), (len(a), 1, 1))
    gl[:, :3, :3] = Rotation.from_euler("zxy", a[:, [6, 4, 5]], degrees=True).as_matrix()
    gl[:, :3, 3] = a[:, 1:4]
    ts = ((a[:, 0] - a[0, 0]) * 1e6 / fps).round()
    return _from_fov(np.radians(a[:, 7]), width, height, fps, gl, fmt="chan", ts=ts.tolist())


# -- nerfstudio camera_path.json -------------------------------------------------------------------


def to_nerfstudio(traj: CameraTrajectory) -> str:
    """nerfstudio ``camera_path.json`` text (see the module docstring)."""
    gl = opencv_to_opengl(traj.world_T_cam)
    vfov = np.degrees(_vfov(traj)).tolist()
    aspect = traj.width / traj.height
    path = [{"camera_to_world": m, "fov": f, "aspect": aspect} for m, f in zip(gl.reshape(-1, 16).tolist(), vfov)]
    return json.dumps({"camera_type": "perspective", "render_width": traj.width, "render_height": traj.height,
                       "fps": traj.fps, "seconds": float(times_s(traj)[-1]), "smoothness_value": 0.0,
                       "is_cycle": False, "keyframes": [], "camera_path": path}, indent=1)


def from_nerfstudio(text: str) -> CameraTrajectory:
    """Parse a nerfstudio ``camera_path.json`` (square pixels, centred principal point, as nerfstudio renders it)."""
    try:
        doc = json.loads(text)
        path = doc["camera_path"]
        gl = np.asarray([c["camera_to_world"] for c in path], dtype=float).reshape(-1, 4, 4)
        vfov = np.radians(np.asarray([c["fov"] for c in path], dtype=float))
        W, H, fps = int(doc["render_width"]), int(doc["render_height"]), float(doc.get("fps", 24.0))
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        raise TrajectoryError(f"not a nerfstudio camera path: {type(e).__name__} {e}") from None
    if not len(gl):
        raise TrajectoryError("nerfstudio camera path has no cameras")
    return _from_fov(vfov, W, H, fps, gl, fmt="nerfstudio")
