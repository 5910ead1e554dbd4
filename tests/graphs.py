"""Build small API-format graphs for the server tests."""

from __future__ import annotations

import json
from collections.abc import Mapping


def link(node: str, output: int = 0) -> list:
    return [node, output]


def preview_text(finished_outputs: Mapping[str, object], node: str) -> str:
    """The text a core PreviewAny node showed."""
    return "".join(finished_outputs[node]["text"])  # type: ignore[index]


def preview_json(finished_outputs: Mapping[str, object], node: str) -> object:
    return json.loads(preview_text(finished_outputs, node))


#: The pack's one-line error types (all ValueError subclasses): a failure of any other type is a bug.
CLEAR_ERRORS = {"ValueError", "StrokeError", "TrajectoryError", "DepthError", "RenderError", "FidelityError",
                "GuidanceError", "EffectError", "RIFEError"}


def error_type(details: object) -> str:
    """The exception class name of a failed run, from the history status a ComfyError carries."""
    for event, data in (details or {}).get("messages", []) if isinstance(details, dict) else []:
        if event == "execution_error":
            return str(data.get("exception_type", "")).rsplit(".", 1)[-1]
    return ""


def upload_astronaut(client, side: int, top: int = 32, height: int | None = None) -> str:
    """scikit-image's astronaut, a real photograph, resized to ``side`` square and cropped to rows
    ``top..top+height`` (default ``side - 64``), uploaded through ``client``; returns the server's file name."""
    import io

    import skimage.data
    from PIL import Image

    h = side - 64 if height is None else height
    img = Image.fromarray(skimage.data.astronaut()).resize((side, side)).crop((0, top, side, top + h))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return client.upload_image(f"astronaut_{side}x{h}.png", buf.getvalue())
