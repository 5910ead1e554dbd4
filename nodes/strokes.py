"""Stroke input and intent analysis nodes: the drawn path, validated once, and what it means."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from comfy_api.latest import io

from ..trajectory.camera.presets import PRESET_NAMES
from ..trajectory.stroke.format import StrokeError, StrokeSet, parse_strokes
from ..trajectory.stroke.intent import analyze
from .base import CATEGORY, PREFIX, DTVNode, Intent, Strokes

#: A gentle push toward the right third of a 1024x576 frame: what a new node starts with.
DEFAULT_STROKES = json.dumps({
    "version": 1, "canvas": {"width": 1024, "height": 576},
    "strokes": [{"points": [[512, 300, 0], [560, 290, 120], [620, 278, 240], [680, 268, 360], [730, 262, 480]],
                 "role": "camera"}],
})


def strokes_error(text: str) -> str | None:
    """None when ``text`` is a valid stroke set, else the validator's one-line message."""
    try:
        parse_strokes(text)
    except StrokeError as exc:
        msg = str(exc)  # "body: what" is the whole text, which is this input
        return f"strokes: {msg.removeprefix('body: ')}" if msg.startswith("body: ") else f"strokes: {msg}"
    return None


class StrokeInput(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}StrokeInput",
            display_name="Draw to Video: stroke input",
            category=CATEGORY,
            description="The path you draw on the image, as stroke JSON (version 1: canvas size plus strokes of "
                        "[x, y, t_ms] points). Wire a LoadImage into 'image' and draw on it in the node's canvas: "
                        "the widget writes this text and shows the stroke's intent and a camera preview live. API "
                        "users and batch jobs send the text directly. It is validated here with the same validator "
                        "as the CLI and the HTTP route.",
            inputs=[
                io.String.Input("strokes", default=DEFAULT_STROKES, multiline=True,
                                tooltip='Stroke JSON: {"version": 1, "canvas": {"width": W, "height": H}, '
                                        '"strokes": [{"points": [[x, y, t_ms], ...], "role": "camera"}]}. '
                                        "x, y in canvas pixels (the image's pixels); t_ms optional. The drawing "
                                        "canvas writes it; the JSON button shows it."),
                io.Combo.Input("preset", options=PRESET_NAMES, default="auto", optional=True,
                               tooltip="Camera move for this drawing ('auto' picks one from the drawn shape; the "
                                       "widget's 'use ...' switch sets the runner-up's move). It travels with the "
                                       "strokes: a trajectory node left on 'auto' takes it; a preset chosen there "
                                       "wins."),
                io.Image.Input("image", optional=True,
                               tooltip="Optional image to draw on (wire a LoadImage): the canvas shows it before "
                                       "anything runs and takes its pixel size. Not used when the graph runs."),
            ],
            outputs=[Strokes.Output(display_name="strokes"), io.String.Output(display_name="strokes_json")],
        )

    @classmethod
    def check_inputs(cls, values: dict[str, Any]) -> str | None:
        text = values.get("strokes")
        return None if text is None else strokes_error(text)

    @classmethod
    def execute(cls, strokes: str, preset: str = "auto", image: object = None) -> io.NodeOutput:
        ss = parse_strokes(strokes)
        if preset != "auto":  # the move picked here travels with the strokes; trajectory nodes on 'auto' follow it
            ss = replace(ss, preset=preset)
        return io.NodeOutput(ss, ss.to_json())


class IntentAnalysis(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}IntentAnalysis",
            display_name="Draw to Video: stroke intent",
            category=CATEGORY,
            description="Classifies the drawn path as straight, arc, circle, spiral, zigzag or freeform, with a "
                        "confidence and its attributes (direction, clockwise, turns, centre, speed profile).",
            inputs=[Strokes.Input("strokes", tooltip="The validated strokes from the stroke input node.")],
            outputs=[Intent.Output(display_name="intent"),
                     io.String.Output(display_name="label", tooltip='The class, or "circle, or arc?" when the '
                                      "runner-up is close."),
                     io.Float.Output(display_name="confidence"), io.String.Output(display_name="report_json")],
        )

    @classmethod
    def execute(cls, strokes: StrokeSet) -> io.NodeOutput:
        intent = analyze(strokes)
        return io.NodeOutput(intent, intent.label, float(intent.confidence), json.dumps(intent.to_dict()))


NODES = [StrokeInput, IntentAnalysis]
