"""HTTP route of the drawing widget: ``POST /draw_to_video/analyze`` -> intent, camera preview, camera centres.

Request body (JSON, at most :data:`MAX_BODY_BYTES`)::

    {"strokes": <stroke JSON object or its text>, "frames": 49, "preset": "auto", "width": 1024, "height": 576,
     "strength_mode": "auto", "strength": 1.0, "coverage_budget": 0.03, "overscan": 0.95}

Only ``strokes`` is required; ``frames`` (int, 1..:data:`MAX_FRAMES`), ``preset`` (one of the node's presets),
``width`` and ``height`` (ints, the trajectory's image size; default: the stroke canvas), ``strength_mode``
("auto"/"manual"), ``strength``, ``coverage_budget`` and ``overscan`` (numbers in the trajectory node's ranges; default: the
node's defaults, so the preview is the move as the node renders it by default, judged with the depth prior) are
optional. Unknown
fields are refused. Strokes are validated by :func:`~draw_to_video.trajectory.stroke.format.parse_strokes`, the
same validator as the stroke input node, and may hold at most :data:`MAX_ROUTE_POINTS` points. ``MAX_FRAMES`` is
the one trajectory limit: a 10,000-frame preview answers in about 50 ms on one CPU core (0.5 MB of JSON), so the
route needs no smaller cap of its own.

200 answer::

    {"intent": Intent.to_dict(), "preview_png": "data:image/png;base64,...",
     "trajectory": {"preset": "orbit", "intent": "circle", "frames": 49, "fps": 24.0, "centres": [[x, y, z], ...],
                    "strength": 0.02, "limited": true, "worst_uncovered": 0.023, "note": "coverage budget 3% ..."}}

Any bad input answers 400 ``{"error": "<one line>"}``. The route reads no files and writes none; the CPU work runs
in a worker thread so the server stays responsive.

Importing this module registers nothing: :func:`register` adds the route, called once from the pack's load hook in
``nodes/__init__.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Mapping
from typing import Any

import cv2
from aiohttp import web

from ..trajectory.camera.budget import DEFAULT_BUDGET, budget_note
from ..trajectory.camera.build import MAX_STRENGTH, MIN_OVERSCAN, ShotOptions, build_trajectory, runner_up_preset
from ..trajectory.camera.model import MAX_FRAMES
from ..trajectory.camera.presets import PRESET_NAMES
from ..trajectory.camera.preview import preview_image
from ..trajectory.stroke.features import N_FEATURE_SAMPLES
from ..trajectory.stroke.format import MAX_CANVAS, StrokeError, StrokeSet, parse_strokes
from ..trajectory.stroke.intent import analyze_prepared
from ..trajectory.stroke.prepare import prepare
from .inputs import DEFAULT_OVERSCAN

ROUTE = "/draw_to_video/analyze"
MAX_BODY_BYTES = 2 * 1024 * 1024  #: largest accepted request body
MAX_ROUTE_POINTS = 20_000  #: most stroke points one preview request may carry
DEFAULT_FRAMES = 49
PREVIEW_SIZE = (384, 192)  #: (width, height) of the preview PNG (two square panels: top and side view)
FIELDS = ("strokes", "frames", "preset", "width", "height", "strength_mode", "strength", "coverage_budget", "overscan")
STRENGTH_MODES = ("auto", "manual")
_MAX_MSG = 300
_CONCURRENCY = 2  #: analyses running at once; further requests wait their turn

log = logging.getLogger(__name__)
_slots: asyncio.Semaphore | None = None


class BadRequest(ValueError):
    """A malformed request; the message is one line."""

    def __init__(self, msg: str) -> None:
        text = " ".join(str(msg).split())
        super().__init__(text if len(text) <= _MAX_MSG else text[: _MAX_MSG - 3] + "...")


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"body: {name} is not allowed in JSON")


def _int_field(data: Mapping[str, Any], key: str, lo: int, hi: int, default: int) -> int:
    if key not in data:
        return default
    v = data[key]
    if not isinstance(v, int) or isinstance(v, bool):
        raise BadRequest(f"{key} must be an integer, got {'null' if v is None else type(v).__name__}")
    if not lo <= v <= hi:
        raise BadRequest(f"{key} must be between {lo} and {hi}, got {v if abs(v) < 10**12 else 'a huge number'}")
    return v


def _num_field(data: Mapping[str, Any], key: str, lo: float, hi: float, default: float) -> float:
    if key not in data:
        return default
    v = data[key]
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise BadRequest(f"{key} must be a number, got {'null' if v is None else type(v).__name__}")
    if not lo <= v <= hi:
        raise BadRequest(f"{key} must be between {lo:g} and {hi:g}, got {v if abs(v) < 1e12 else 'a huge number'}")
    return float(v)


def parse_request(body: bytes) -> tuple[StrokeSet, int, str, int, int, dict[str, Any]]:
    """Validate a request body -> ``(stroke_set, frames, preset, width, height, shot)`` (``shot``: the strength
    fields of :class:`ShotOptions`); raises :class:`BadRequest`."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"body: {len(body)} bytes is more than the limit of {MAX_BODY_BYTES}")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except BadRequest:
        raise
    except json.JSONDecodeError as e:
        raise BadRequest(f"body: invalid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise BadRequest("body: invalid JSON: nested too deeply") from None
    except ValueError as e:  # undecodable bytes, integer literals with too many digits
        raise BadRequest(f"body: invalid JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"body must be a JSON object, got {'null' if data is None else type(data).__name__}")
    unknown = [k for k in data if k not in FIELDS]
    if unknown:
        raise BadRequest(f"body: unknown field {unknown[0]!r:.40}; allowed: {', '.join(FIELDS)}")
    if "strokes" not in data:
        raise BadRequest("body: missing field 'strokes'")
    raw = data["strokes"]
    if not isinstance(raw, (str, dict)):
        raise BadRequest(f"strokes must be a stroke JSON object or its text, got {type(raw).__name__}")
    try:
        stroke_set = parse_strokes(raw)
    except StrokeError as e:
        msg = str(e)  # the parser's "body" is the strokes field here, not the request body
        raise BadRequest(f"strokes: {msg.removeprefix('body: ')}" if msg.startswith("body: ") else f"strokes: {msg}") from None
    if stroke_set.n_points > MAX_ROUTE_POINTS:
        raise BadRequest(f"strokes: {stroke_set.n_points} points is more than the limit of {MAX_ROUTE_POINTS}")
    frames = _int_field(data, "frames", 1, MAX_FRAMES, DEFAULT_FRAMES)
    preset = data.get("preset", "auto")
    if not isinstance(preset, str) or preset not in PRESET_NAMES:
        shown = preset if isinstance(preset, str) else type(preset).__name__
        raise BadRequest(f"preset must be one of {', '.join(PRESET_NAMES)}; got {shown!r:.40}")
    width = _int_field(data, "width", 1, MAX_CANVAS, stroke_set.width)
    height = _int_field(data, "height", 1, MAX_CANVAS, stroke_set.height)
    mode = data.get("strength_mode", "auto")
    if mode not in STRENGTH_MODES:
        raise BadRequest(f"strength_mode must be one of {', '.join(STRENGTH_MODES)}; got {str(mode)!r:.40}")
    shot = {"strength": _num_field(data, "strength", 0.0, MAX_STRENGTH, 1.0),
            "budget": _num_field(data, "coverage_budget", 0.0, 1.0, DEFAULT_BUDGET), "auto_strength": mode == "auto",
            "overscan": _num_field(data, "overscan", MIN_OVERSCAN, 1.0, DEFAULT_OVERSCAN)}
    return stroke_set, frames, preset, width, height, shot


def png_data_url(rgb: Any) -> str:
    """An RGB ``uint8 [H, W, 3]`` image as a ``data:image/png;base64,`` URL."""
    ok, buf = cv2.imencode(".png", rgb[:, :, ::-1])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def analyze_request(stroke_set: StrokeSet, frames: int, preset: str, width: int, height: int,
                    shot: Mapping[str, Any] | None = None) -> bytes:
    """The CPU work of one request: intent, trajectory and preview, as the JSON answer's bytes. ``shot`` holds the
    strength fields (default: strength auto up to 1 within :data:`DEFAULT_BUDGET`, as the trajectory node)."""
    prepared = prepare(stroke_set, N_FEATURE_SAMPLES)
    intent = analyze_prepared(prepared)
    fields = dict(shot) if shot is not None else {"strength": 1.0, "budget": DEFAULT_BUDGET, "auto_strength": True,
                                                  "overscan": DEFAULT_OVERSCAN}
    traj = build_trajectory(stroke_set, ShotOptions(preset=preset, frames=frames, width=width, height=height, **fields),
                            prepared=prepared, intent=intent)
    preview = preview_image(traj, prepared, size=PREVIEW_SIZE)
    answer = {
        "intent": intent.to_dict(),
        "label": intent.label,
        "runner_up_preset": runner_up_preset(intent, prepared),
        "preview_png": png_data_url(preview),
        "trajectory": {"preset": traj.preset, "intent": traj.intent, "frames": traj.num_frames, "fps": traj.fps,
                       "centres": traj.centres().tolist(), "strength": traj.meta["strength"],
                       "limited": traj.meta["limited"], "worst_uncovered": traj.meta["worst_uncovered"],
                       "note": budget_note(traj.meta)},
    }
    return json.dumps(answer, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _error(status: int, msg: str) -> web.Response:
    return web.json_response({"error": str(BadRequest(msg))}, status=status)


async def _read_body(request: web.Request) -> bytes:
    """The request body, read in bounded chunks; refuses more than :data:`MAX_BODY_BYTES`."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise BadRequest(f"body: {declared} bytes is more than the limit of {MAX_BODY_BYTES}")
    chunks: list[bytes] = []
    total = 0
    while chunk := await request.content.read(64 * 1024):
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise BadRequest(f"body: more than the limit of {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def handle_analyze(request: web.Request) -> web.Response:
    """``POST`` handler: validate, then analyse in a worker thread (see the module docstring)."""
    global _slots
    try:
        args = parse_request(await _read_body(request))
    except BadRequest as e:
        return _error(400, str(e))
    if _slots is None:
        _slots = asyncio.Semaphore(_CONCURRENCY)
    try:
        async with _slots:
            body = await asyncio.to_thread(analyze_request, *args)
    except ValueError as e:  # the libraries' one-line messages for inputs they cannot use
        return _error(400, str(e) or type(e).__name__)
    except Exception as e:  # noqa: BLE001 - answer, log, and keep serving
        log.exception("draw-to-video: %s failed", ROUTE)
        return _error(500, f"{type(e).__name__}: {e}")
    return web.Response(body=body, content_type="application/json")


def register(routes: web.RouteTableDef) -> bool:
    """Add ``POST`` :data:`ROUTE` to ``routes`` unless it is already there (so loading the pack twice, or both of
    ComfyUI's load hooks, add it once). True when this call added it."""
    if any(isinstance(r, web.RouteDef) and r.method == "POST" and r.path == ROUTE for r in routes):
        return False
    routes.post(ROUTE)(handle_analyze)
    return True
