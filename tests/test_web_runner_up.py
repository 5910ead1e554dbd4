"""web/lib/runner_up.js, the widget's pure runner-up helpers, run under Node (scripts/setup.sh --test installs
Debian's nodejs where it is missing).

The browser test (tests/test_widget_browser.py) drives the same code in the real frontend; this pins each branch of
the switch: offer the runner-up's preset under 'auto', offer 'auto' once it is set, nothing for a hand-picked preset,
for a runner-up whose move is auto's own, for a preset the combo does not list, or without a runner-up.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from comfy_harness import REPO

LIB = REPO / "web" / "lib" / "runner_up.js"
NODE = shutil.which("node")

SCRIPT = """
const m = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
const out = cases.map(([fn, args]) => m[fn](...args));
process.stdout.write(JSON.stringify(out));
"""


def _run(cases: list) -> list:
    assert NODE is not None, "node is missing: scripts/setup.sh --test installs Debian's nodejs"
    proc = subprocess.run([NODE, "--input-type=module", "-e", SCRIPT, LIB.as_uri(), json.dumps(cases)],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _answer(runner_up: str | None = "spiral", target: str | None = "spiral_zoom", auto_pick: str = "orbit") -> dict:
    return {"intent": {"intent": "circle", "confidence": 0.574, "runner_up": runner_up,
                       "runner_up_confidence": 0.376 if runner_up else 0.0},
            "label": f"circle, or {runner_up}?" if runner_up else "circle",
            "runner_up_preset": target, "trajectory": {"preset": auto_pick}}


def test_intent_text() -> None:
    both, one, no_label = _run([["intentText", [_answer()]], ["intentText", [_answer(None, None)]],
                                ["intentText", [{**_answer("arc", "arc"), "label": None}]]])
    assert both == {"text": "circle, or spiral?",
                    "title": "circle 57%, spiral 38%: the two readings are close"}
    assert one["text"] == "circle 57%"
    assert no_label["text"] == "circle, or arc?"


def test_switch_control() -> None:
    values = ["auto", "orbit", "spiral_zoom", "dolly_in"]
    out = _run([
        ["switchControl", [_answer(), "auto", values]],
        ["switchControl", [_answer(), "spiral_zoom", values]],
        ["switchControl", [_answer(), "dolly_in", values]],
        ["switchControl", [_answer(None, None), "auto", values]],
        ["switchControl", [_answer(target="orbit"), "auto", values]],  # both readings pick the same move
        ["switchControl", [_answer(), "auto", ["auto", "orbit"]]],  # a preset the combo does not offer
        ["switchControl", [_answer(), "auto"]],  # combo values unknown: trust the route
        ["switchControl", [None, "auto"]],
        ["runnerUp", [_answer()]],
        ["runnerUp", [{"intent": {"runner_up": ""}}]],
    ])
    use, back, hand, none, same, unlisted, unknown, empty, ru, no_ru = out
    assert use == {"text": "use spiral", "title": "Read the stroke as spiral: camera spiral_zoom",
                   "next": "spiral_zoom", "active": False}
    assert back == {"text": "back to auto", "title": "Back to auto: read the stroke as circle", "next": "auto", "active": True}
    assert hand is None and none is None and same is None and unlisted is None and empty is None
    assert unknown["next"] == "spiral_zoom"
    assert ru == "spiral" and no_ru is None
