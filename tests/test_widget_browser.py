"""The drawing widget on DTV_StrokeInput in the real ComfyUI frontend (headless Chromium, real mouse events).

A real photo (skimage's astronaut, 512x512) is uploaded and wired LoadImage -> DTV_StrokeInput; the tests read the
widget's canvas pixels, draw with page.mouse, and check the stroke JSON (image pixels), the live intent label, undo,
a prompt queued from the page, a save/reload round trip, node resize + graph zoom, and the runner-up switch on an
ambiguous stroke ("circle, or spiral?" -> one click sets the node's preset to the runner-up's move).
"""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
import skimage.data

from draw_to_video.trajectory.camera.build import runner_up_preset
from draw_to_video.trajectory.stroke.features import N_FEATURE_SAMPLES
from draw_to_video.trajectory.stroke.format import parse_strokes
from draw_to_video.trajectory.stroke.intent import analyze_prepared
from draw_to_video.trajectory.stroke.prepare import prepare

IMAGE_NAME = "dtv_astronaut.png"
STROKE_RGB = (0xFF, 0xB0, 0x20)  # the first stroke's colour in web/stroke_widget.js

BUILD_GRAPH = """([image, withRun]) => {
  app.graph.clear();
  const load = LiteGraph.createNode("LoadImage");
  load.pos = [40, 120];
  app.graph.add(load);
  load.widgets.find((w) => w.name === "image").value = image;
  const node = LiteGraph.createNode("DTV_StrokeInput");
  node.pos = [380, 60];
  app.graph.add(node);
  node.setSize([600, 560]);
  load.connect(0, node, node.findInputSlot("image"));
  const ids = { load: load.id, node: node.id };
  if (withRun) {
    const intent = LiteGraph.createNode("DTV_IntentAnalysis");
    intent.pos = [1020, 60];
    app.graph.add(intent);
    node.connect(0, intent, 0);
    const preview = LiteGraph.createNode("PreviewAny");
    preview.pos = [1020, 300];
    app.graph.add(preview);
    intent.connect(1, preview, 0);
    ids.preview = preview.id;
  }
  return ids;
}"""

VIEW = """([id, scale]) => {
  const node = app.graph.getNodeById(id);
  app.canvas.ds.scale = scale;
  app.canvas.ds.offset = [-node.pos[0] + 70, -node.pos[1] + 60];
  app.canvas.setDirty(true, true);
}"""

# widget state read through public handles: the node's widgets and the DOM widget's element
STATE = """(id) => {
  const node = app.graph.getNodeById(id);
  const root = node.widgets.find((w) => w.name === "dtv_canvas").element;
  const canvas = root.querySelector("canvas");
  const r = canvas.getBoundingClientRect();
  const sw = root.querySelector("button.dtv-switch");
  const sr = sw?.getBoundingClientRect();
  return { text: node.widgets.find((w) => w.name === "strokes").value, state: root.dataset.state,
           intent: root.dataset.intent ?? "", preset: root.dataset.preset ?? "",
           label: root.querySelector(".dtv-intent").textContent,
           info: root.querySelector(".dtv-info").textContent,
           preview: root.querySelector(".dtv-preview").src.slice(0, 22),
           preset_widget: node.widgets.find((w) => w.name === "preset")?.value ?? null,
           runner_up: root.dataset.runnerUp ?? "", runner_up_preset: root.dataset.runnerUpPreset ?? "",
           switch: sw && !sw.hidden && sr.width > 0
             ? { text: sw.textContent, next: sw.dataset.next, x: sr.left + sr.width / 2, y: sr.top + sr.height / 2 }
             : null,
           rect: { left: r.left, top: r.top, width: r.width, height: r.height } };
}"""

# the canvas's pixels inside the letterboxed image area, averaged into a g x g grid (RGB)
IMAGE_GRID = """([id, g]) => {
  const node = app.graph.getNodeById(id);
  const canvas = node.widgets.find((w) => w.name === "dtv_canvas").element.querySelector("canvas");
  const m = JSON.parse(node.widgets.find((w) => w.name === "strokes").value).canvas;
  const s = Math.min(canvas.width / m.width, canvas.height / m.height);
  const w = Math.floor(m.width * s), h = Math.floor(m.height * s);
  const x0 = Math.ceil((canvas.width - m.width * s) / 2), y0 = Math.ceil((canvas.height - m.height * s) / 2);
  const data = canvas.getContext("2d").getImageData(x0, y0, w - 1, h - 1).data;
  const out = new Array(g * g * 3).fill(0), cnt = new Array(g * g).fill(0);
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) {
    const c = Math.min(g - 1, Math.floor((x * g) / (w - 1))) + g * Math.min(g - 1, Math.floor((y * g) / (h - 1)));
    const i = 4 * (y * (w - 1) + x);
    out[3 * c] += data[i]; out[3 * c + 1] += data[i + 1]; out[3 * c + 2] += data[i + 2]; cnt[c]++;
  }
  return out.map((v, i) => v / Math.max(cnt[Math.floor(i / 3)], 1));
}"""

# RGB of the canvas pixels in a small square around an image-pixel position
PIXELS_AT = """([id, x, y, r]) => {
  const node = app.graph.getNodeById(id);
  const canvas = node.widgets.find((w) => w.name === "dtv_canvas").element.querySelector("canvas");
  const m = JSON.parse(node.widgets.find((w) => w.name === "strokes").value).canvas;
  const s = Math.min(canvas.width / m.width, canvas.height / m.height);
  const cx = (canvas.width - m.width * s) / 2 + x * s, cy = (canvas.height - m.height * s) / 2 + y * s;
  const d = canvas.getContext("2d").getImageData(Math.round(cx - r), Math.round(cy - r), 2 * r + 1, 2 * r + 1).data;
  const px = [];
  for (let i = 0; i < d.length; i += 4) px.push([d[i], d[i + 1], d[i + 2]]);
  return px;
}"""


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


@pytest.fixture
def uploaded(comfy, astronaut) -> str:
    ok, png = cv2.imencode(".png", astronaut[:, :, ::-1])
    assert ok
    return comfy.client().upload_image(IMAGE_NAME, png.tobytes())


def _state(page, node_id: int) -> dict:
    return page.evaluate(STATE, node_id)


def _strokes(page, node_id: int) -> dict:
    return json.loads(_state(page, node_id)["text"])


def _wait(page, node_id: int, cond, what: str, timeout: float = 15.0) -> dict:
    t0 = time.monotonic()
    while True:
        st = _state(page, node_id)
        if cond(st):
            return st
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}; widget state: {st}")
        page.wait_for_timeout(50)


def _wait_analyzed(page, node_id: int) -> dict:
    return _wait(page, node_id, lambda s: s["state"] in ("ok", "error"), "the live analysis")


def _to_client(rect: dict, canvas_wh: tuple[int, int], x: float, y: float) -> tuple[float, float]:
    w, h = canvas_wh
    s = min(rect["width"] / w, rect["height"] / h)
    return (rect["left"] + (rect["width"] - w * s) / 2 + x * s, rect["top"] + (rect["height"] - h * s) / 2 + y * s)


def _draw(page, node_id: int, pts: np.ndarray) -> None:
    """Press, move through every image-pixel point with real mouse events, release."""
    st = _state(page, node_id)
    c = json.loads(st["text"])["canvas"]
    path = [_to_client(st["rect"], (c["width"], c["height"]), x, y) for x, y in pts]
    page.mouse.move(*path[0])
    page.mouse.down()
    for x, y in path[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def _circle(n: int = 90) -> np.ndarray:
    a = np.linspace(0.0, 2 * np.pi * 1.05, n)
    return np.c_[256 + 150 * np.cos(a), 250 + 150 * np.sin(a)]


def _line(p0=(60, 420), p1=(450, 330), n: int = 40) -> np.ndarray:
    s = np.linspace(0.0, 1.0, n)[:, None]
    return np.asarray(p0) + s * (np.asarray(p1) - np.asarray(p0))


def _spiral(n: int = 160) -> np.ndarray:
    a = np.linspace(0.0, 2 * np.pi * 2.6, n)
    r = 25 + 160 * a / a[-1]
    return np.c_[256 + r * np.cos(a), 256 + r * np.sin(a)]


def _ambiguous(n: int = 150) -> np.ndarray:
    """A circle that drifts inwards (1.3 turns, radius shrinking by 36.5%): halfway between a circle and a spiral, so
    the classifier reads "circle, or spiral?" (checked against the Python classifier in the test)."""
    a = np.linspace(0.0, 2 * np.pi * 1.3, n)
    r = 150 * (1 - 0.365 * a / a[-1])
    return np.c_[256 + r * np.cos(a), 256 + r * np.sin(a)]


def _python_reading(text: str) -> tuple[str, str | None]:
    """The label and runner-up preset that the pack's Python classifier gives these strokes (what the route answers)."""
    prepared = prepare(parse_strokes(text), N_FEATURE_SAMPLES)
    intent = analyze_prepared(prepared)
    return intent.label, runner_up_preset(intent, prepared)


def _setup(page, image: str, with_run: bool = False, scale: float = 1.0) -> dict:
    ids = page.evaluate(BUILD_GRAPH, [image, with_run])
    page.evaluate(VIEW, [ids["node"], scale])
    # the image shows (canvas = its natural size) and the default stroke was analysed
    _wait(page, ids["node"], lambda s: json.loads(s["text"])["canvas"] == {"width": 512, "height": 512},
          "the wired image to load")
    _wait_analyzed(page, ids["node"])
    return ids


def _click(page, node_id: int, action: str) -> None:
    sel = page.evaluate("""([id, a]) => { const n = app.graph.getNodeById(id);
        const b = n.widgets.find((w) => w.name === "dtv_canvas").element.querySelector(`button[data-action=${a}]`);
        const r = b.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2, b.disabled]; }""",
                        [node_id, action])
    assert not sel[2], f"{action} button is disabled"
    page.mouse.click(sel[0], sel[1])


def _points_in_image_px(page, node_id: int, stroke: int = -1) -> np.ndarray:
    return np.array(_strokes(page, node_id)["strokes"][stroke]["points"])


def test_draw_intents_undo_and_run_from_page(app_page, comfy, uploaded, astronaut, output_dir):
    page = app_page
    ids = _setup(page, uploaded, with_run=True)
    node = ids["node"]
    _click(page, node, "clear")
    st = _wait(page, node, lambda s: json.loads(s["text"])["strokes"] == [] and s["state"] == "idle", "clear")

    # the canvas shows the photo before anything ran: its colours match the image's, cell by cell
    page.wait_for_timeout(100)
    g = 8
    shown = np.array(page.evaluate(IMAGE_GRID, [node, g])).reshape(g, g, 3)
    expected = cv2.resize(astronaut.astype(np.float32), (g, g), interpolation=cv2.INTER_AREA)
    assert shown.std() > 20, "the canvas looks blank"
    assert np.abs(shown - expected).mean() < 12, np.abs(shown - expected).mean()

    # a circle, with real mouse events: image-pixel points, a clock, the live label and preview
    _draw(page, node, _circle())
    st = _wait_analyzed(page, node)
    assert st["intent"] == "circle", st
    assert st["preview"] == "data:image/png;base64,"
    pts = _points_in_image_px(page, node)
    assert len(pts) > 40
    radius = np.hypot(pts[:, 0] - 256, pts[:, 1] - 250)
    assert np.abs(radius - 150).max() < 3, np.abs(radius - 150).max()  # image pixels, not screen pixels
    assert (np.diff(pts[:, 2]) >= 0).all() and pts[-1, 2] > pts[0, 2] == 0

    # a second stroke, then Undo (button) removes it and the label is the circle's again; Redo and Ctrl+Z
    _draw(page, node, _line())
    _wait_analyzed(page, node)
    assert len(_strokes(page, node)["strokes"]) == 2
    _click(page, node, "undo")
    st = _wait_analyzed(page, node)
    assert len(_strokes(page, node)["strokes"]) == 1 and st["intent"] == "circle"
    _click(page, node, "redo")
    assert len(_strokes(page, node)["strokes"]) == 2
    page.evaluate("(id) => { window.__dtvNode = app.graph.getNodeById(id); }", node)
    page.keyboard.press("Control+z")  # the drawing has had the focus since the last stroke (buttons keep it there)
    page.wait_for_timeout(100)  # the frontend's own shortcut handlers run on the next animation frame
    assert len(_strokes(page, node)["strokes"]) == 1
    # only the widget undid: the frontend's workflow undo did not also reload the graph
    assert page.evaluate("(id) => window.__dtvNode === app.graph.getNodeById(id)", node)

    # a straight line and a spiral, each on a cleared canvas (Delete key)
    page.keyboard.press("Delete")
    page.wait_for_timeout(100)
    assert _strokes(page, node)["strokes"] == []
    assert page.evaluate("(id) => window.__dtvNode === app.graph.getNodeById(id)", node)  # the node was not deleted
    _draw(page, node, _line())
    assert _wait_analyzed(page, node)["intent"] == "straight"
    pts = _points_in_image_px(page, node)
    assert np.allclose(pts[0, :2], (60, 420), atol=1.5) and np.allclose(pts[-1, :2], (450, 330), atol=1.5)
    _click(page, node, "clear")
    _draw(page, node, _spiral())
    st = _wait_analyzed(page, node)
    assert st["intent"] == "spiral" and st["preset"] == "spiral_zoom", st  # 'auto' picks the spiral zoom
    page.evaluate("() => { app.canvas.ds.scale = 0.95; app.canvas.ds.offset = [40, 110]; app.canvas.setDirty(true, true); }")
    page.wait_for_timeout(200)
    page.screenshot(path=str(output_dir / "widget.png"), clip={"x": 60, "y": 110, "width": 1320, "height": 680})
    # the node's preset dropdown drives the preview
    page.evaluate("""(id) => { const w = app.graph.getNodeById(id).widgets.find((w) => w.name === "preset");
                              w.value = "orbit"; w.callback?.(w.value); }""", node)
    st = _wait_analyzed(page, node)
    assert st["intent"] == "spiral" and st["preset"] == "orbit", st

    # queue from the page: the server runs the graph with the drawn strokes
    before = set(comfy.client().get_json("/history"))
    page.evaluate("() => app.queuePrompt(0)")
    t0 = time.monotonic()
    while True:
        hist = comfy.client().get_json("/history")
        new = [v for k, v in hist.items() if k not in before and v.get("status", {}).get("completed")]
        if new:
            break
        assert time.monotonic() - t0 < 60, "the prompt queued from the page did not finish"
        time.sleep(0.2)
    assert "".join(new[0]["outputs"][str(ids["preview"])]["text"]) == "spiral"
    sent = new[0]["prompt"][2][str(node)]["inputs"]
    assert json.loads(sent["strokes"]) == _strokes(page, node) and sent["preset"] == "orbit"
    assert set(sent) == {"strokes", "preset", "image"}  # the canvas widget itself is never sent
    assert not page.page_errors, page.page_errors


def test_reload_resize_zoom_and_fallbacks(app_page, uploaded):
    page = app_page
    ids = _setup(page, uploaded)
    node = ids["node"]
    _click(page, node, "clear")
    _draw(page, node, _circle())
    assert _wait_analyzed(page, node)["intent"] == "circle"
    text = _state(page, node)["text"]
    saved = page.evaluate("() => JSON.stringify(app.graph.serialize())")
    saved_node = next(n for n in json.loads(saved)["nodes"] if n["id"] == node)
    assert saved_node["widgets_values"] == [text, "auto"]  # the workflow keeps the text; the canvas saves nothing
    prompt = page.evaluate("async () => JSON.stringify((await app.graphToPrompt()).output)")
    assert json.loads(json.loads(prompt)[str(node)]["inputs"]["strokes"]) == json.loads(text)

    page.reload(wait_until="domcontentloaded")
    page.wait_for_function("() => window.app && window.app.graph && window.LiteGraph", timeout=60_000)
    page.evaluate("async (s) => { await app.loadGraphData(JSON.parse(s)); }", saved)
    page.evaluate(VIEW, [node, 1.0])
    st = _wait_analyzed(page, node)
    assert st["text"] == text and st["intent"] == "circle"
    # the strokes are drawn again: the stroke colour appears on the circle's path
    page.wait_for_timeout(100)
    for x, y in _circle(8)[:-1]:
        px = np.array(page.evaluate(PIXELS_AT, [node, float(x), float(y), 3]))
        assert (np.abs(px - STROKE_RGB).max(axis=1) < 40).any(), (x, y, px[:3])

    # the JSON button shows the text field (taking room from the canvas) and hides it again
    textarea_height = """(id) => app.graph.getNodeById(id).widgets.find((w) => w.name === "strokes").inputEl.offsetHeight"""
    canvas_height = _state(page, node)["rect"]["height"]
    _click(page, node, "json")
    page.wait_for_timeout(150)
    assert page.evaluate(textarea_height, node) > 30 and _state(page, node)["rect"]["height"] < canvas_height - 30
    _click(page, node, "json")
    page.wait_for_timeout(150)
    assert page.evaluate(textarea_height, node) == 0 and abs(_state(page, node)["rect"]["height"] - canvas_height) < 2

    # resize the node and zoom the graph: new strokes still land in image pixels
    for size, scale in (([820, 640], 1.0), ([560, 460], 1.3), ([600, 500], 0.7)):
        page.evaluate("([id, s]) => app.graph.getNodeById(id).setSize(s)", [node, size])
        page.evaluate(VIEW, [node, scale])
        before = _state(page, node)["rect"]["width"]
        page.wait_for_timeout(150)  # the DOM widget follows the canvas on its next frame
        rect = _state(page, node)["rect"]
        assert rect["width"] > 100 and before > 0
        n0 = len(_strokes(page, node)["strokes"])
        _draw(page, node, _line((100, 80), (400, 140), 25))
        pts = _points_in_image_px(page, node)
        assert len(_strokes(page, node)["strokes"]) == n0 + 1
        assert np.allclose(pts[0, :2], (100, 80), atol=2.0), (size, scale, pts[0])
        assert np.allclose(pts[-1, :2], (400, 140), atol=2.0), (size, scale, pts[-1])
        assert _strokes(page, node)["canvas"] == {"width": 512, "height": 512}

    # fallbacks: without addDOMWidget (or without a text widget) nothing is attached and nothing throws
    out = page.evaluate("""async () => {
      const mod = await import("/extensions/draw-to-video/stroke_widget.js");
      const bare = { widgets: [{ name: "strokes", value: "{}" }], inputs: [], size: [300, 200] };
      const noText = { widgets: [], addDOMWidget: () => { throw new Error("must not be called"); } };
      return [mod.attachEditor(bare), mod.attachEditor(noText), bare.widgets[0].value,
              window.app.extensions.filter((e) => e.name === "DrawToVideo.StrokeWidget").length];
    }""")
    assert out == [None, None, "{}", 1]
    # a real node whose text is not stroke JSON still gets its canvas, shows an empty drawing and keeps the text
    state = page.evaluate("""() => {
      const node = LiteGraph.createNode("DTV_StrokeInput"); app.graph.add(node);
      const text = node.widgets.find((w) => w.name === "strokes");
      text.value = "not json"; node.onConfigure?.({});
      const root = node.widgets.find((w) => w.name === "dtv_canvas")?.element;
      return [text.value, root?.dataset.state, root?.querySelector(".dtv-intent").textContent];
    }""")
    assert state == ["not json", "error", "unreadable stroke text"]
    page.wait_for_timeout(200)
    assert not page.page_errors, page.page_errors



def test_runner_up_switch(app_page, uploaded, output_dir):
    page = app_page
    ids = _setup(page, uploaded)
    node = ids["node"]
    _click(page, node, "clear")
    _wait(page, node, lambda s: s["state"] == "idle", "clear")

    # an ambiguous stroke: the widget shows both readings and offers the runner-up's move
    _draw(page, node, _ambiguous())
    st = _wait_analyzed(page, node)
    assert _python_reading(st["text"]) == ("circle, or spiral?", "spiral_zoom")  # the points as drawn in the page
    assert st["state"] == "ok" and st["intent"] == "circle" and st["label"] == "circle, or spiral?", st
    assert st["runner_up"] == "spiral" and st["runner_up_preset"] == "spiral_zoom", st
    assert st["preset_widget"] == "auto" and st["preset"] == "orbit" and st["info"] == "camera: auto → orbit", st
    assert st["switch"] and st["switch"]["text"] == "use spiral" and st["switch"]["next"] == "spiral_zoom", st
    # screenshots at the node's size as created (480 x 460) and the graph at 100%
    page.evaluate("(id) => app.graph.getNodeById(id).setSize([480, 460])", node)
    page.evaluate("""(id) => { const n = app.graph.getNodeById(id); app.canvas.ds.scale = 1;
        app.canvas.ds.offset = [-n.pos[0] + 120, -n.pos[1] + 160]; app.canvas.setDirty(true, true); }""", node)
    page.wait_for_timeout(250)
    clip = page.evaluate("""(id) => { const n = app.graph.getNodeById(id), ds = app.canvas.ds;
        const r = app.canvas.canvas.getBoundingClientRect();
        return { x: r.left + (n.pos[0] + ds.offset[0]) * ds.scale - 10, y: r.top + (n.pos[1] + ds.offset[1] - 40) * ds.scale,
                 width: n.size[0] * ds.scale + 20, height: (n.size[1] + 50) * ds.scale }; }""", node)
    page.screenshot(path=str(output_dir / "widget_runner_up.png"), clip=clip)
    st = _state(page, node)  # the switch's place after the resize
    assert st["switch"] and st["label"] == "circle, or spiral?", st
    text = st["text"]

    # one click (real mouse) on "use spiral": the node's preset widget takes the runner-up's preset and the preview
    # is asked again for it; the reading itself does not change, and the switch now offers the way back
    page.mouse.click(st["switch"]["x"], st["switch"]["y"])
    st = _wait(page, node, lambda s: s["state"] == "ok" and s["preset"] == "spiral_zoom", "the runner-up's preview")
    assert st["preset_widget"] == "spiral_zoom" and st["info"] == "camera: spiral_zoom", st
    assert st["label"] == "circle, or spiral?" and st["text"] == text, st
    assert st["switch"] and st["switch"]["text"] == "back to auto" and st["switch"]["next"] == "auto", st
    assert st["preview"] == "data:image/png;base64,"
    page.screenshot(path=str(output_dir / "widget_runner_up_on.png"), clip=clip)
    # the choice is saved with the workflow like any widget value, and goes into the prompt
    saved = json.loads(page.evaluate("() => JSON.stringify(app.graph.serialize())"))
    assert next(n for n in saved["nodes"] if n["id"] == node)["widgets_values"] == [text, "spiral_zoom"]
    prompt = json.loads(page.evaluate("async () => JSON.stringify((await app.graphToPrompt()).output)"))
    assert prompt[str(node)]["inputs"]["preset"] == "spiral_zoom"

    # a second click goes back to auto (and auto's own move)
    page.mouse.click(st["switch"]["x"], st["switch"]["y"])
    st = _wait(page, node, lambda s: s["state"] == "ok" and s["preset"] == "orbit", "the auto preview")
    assert st["preset_widget"] == "auto" and st["switch"]["text"] == "use spiral", st

    # a preset chosen by hand: the two readings still show, but no switch (the reading does not pick the move)
    page.evaluate("""(id) => { const w = app.graph.getNodeById(id).widgets.find((w) => w.name === "preset");
                              w.value = "dolly_in"; w.callback?.(w.value); }""", node)
    st = _wait(page, node, lambda s: s["state"] == "ok" and s["preset"] == "dolly_in", "the hand-picked preset")
    assert st["label"] == "circle, or spiral?" and st["switch"] is None, st
    page.evaluate("""(id) => { const w = app.graph.getNodeById(id).widgets.find((w) => w.name === "preset");
                              w.value = "auto"; w.callback?.(w.value); }""", node)
    _wait(page, node, lambda s: s["state"] == "ok" and s["preset"] == "orbit", "auto again")

    # clear strokes read as one class: no runner-up text and no switch
    for stroke, kind in ((_circle(), "circle"), (_line(), "straight"), (_spiral(), "spiral")):
        _click(page, node, "clear")
        _draw(page, node, stroke)
        st = _wait_analyzed(page, node)
        assert st["intent"] == kind and _python_reading(st["text"])[1] is None, st
        assert st["label"].startswith(f"{kind} ") and st["label"].endswith("%") and ", or " not in st["label"], st
        assert st["runner_up"] == "" and st["switch"] is None, st
    assert not page.page_errors, page.page_errors


IMAGE_STATE = """(id) => { const root = app.graph.getNodeById(id).widgets.find((w) => w.name === "dtv_canvas").element;
  return { image: root.dataset.image ?? "", message: root.dataset.imageMessage ?? "" }; }"""


def test_image_messages_say_what_is_wrong(app_page, uploaded):
    """No image wired, a Load Image with no file, one whose file is missing, and one that loads: each its message."""
    page = app_page
    ids = page.evaluate(BUILD_GRAPH, ["", False])
    node = ids["node"]
    page.evaluate(VIEW, [node, 1.0])

    def image_state(cond, what):
        t0 = time.monotonic()
        while True:
            st = page.evaluate(IMAGE_STATE, node)
            if cond(st):
                return st
            assert time.monotonic() - t0 < 15, f"timed out waiting for {what}: {st}"
            page.wait_for_timeout(50)

    value = page.evaluate("(id) => String(app.graph.getNodeById(id).widgets.find((w) => w.name === 'image').value)",
                          ids["load"])
    if value in ("", "undefined"):  # the frontend keeps a real file as the value once the input folder has one
        st = image_state(lambda s: s["image"] == "empty", "the empty Load Image")
        assert st["message"] == "'Load Image' has no file yet: choose or upload an image there", st
    set_file = """([id, name]) => { const w = app.graph.getNodeById(id).widgets.find((w) => w.name === "image");
                                    w.value = name; w.callback?.(name); }"""
    page.evaluate(set_file, [ids["load"], "dtv_not_there.png"])
    st = image_state(lambda s: s["image"] == "error", "the missing file")
    assert st["message"].startswith("could not load 'dtv_not_there.png' from 'Load Image'"), st
    page.evaluate(set_file, [ids["load"], uploaded])
    st = image_state(lambda s: s["image"] == "loaded", "the uploaded file")
    assert st["message"] == "", st
    page.evaluate("([a, b]) => app.graph.getNodeById(b).disconnectInput(app.graph.getNodeById(b).findInputSlot('image'))",
                  [ids["load"], node])
    st = image_state(lambda s: s["image"] == "none", "the unwired input")
    assert "connect a Load Image to 'image'" in st["message"], st

    # the camera preview: drawn at its own size (384 px wide at 100%), and a second, large view in the stage
    page.evaluate(set_file, [ids["load"], uploaded])
    page.evaluate("([a, b]) => app.graph.getNodeById(a).connect(0, app.graph.getNodeById(b), "
                  "app.graph.getNodeById(b).findInputSlot('image'))", [ids["load"], node])
    _wait(page, node, lambda s: json.loads(s["text"])["canvas"] == {"width": 512, "height": 512}, "the image")
    _click(page, node, "clear")
    _draw(page, node, _circle())
    _wait_analyzed(page, node)
    page.wait_for_timeout(200)
    size = page.evaluate("""(id) => { const root = app.graph.getNodeById(id).widgets.find((w) => w.name === "dtv_canvas").element;
        const r = root.querySelector(".dtv-preview").getBoundingClientRect(); return [r.width, r.height]; }""", node)
    assert size[0] >= 380 and abs(size[0] - 2 * size[1]) < 4, size
    _click(page, node, "camera")
    page.wait_for_timeout(150)
    big = page.evaluate("""(id) => { const root = app.graph.getNodeById(id).widgets.find((w) => w.name === "dtv_canvas").element;
        const r = root.querySelector(".dtv-big-preview").getBoundingClientRect();
        return [root.dataset.view, r.width, r.height]; }""", node)
    assert big[0] == "camera" and big[1] > 500, big
    _click(page, node, "camera")
    assert page.evaluate(IMAGE_STATE.replace("image: root.dataset.image", "image: root.dataset.view"), node)["image"] == "draw"
    assert not page.page_errors, page.page_errors


ADD_CAMERA = """(id) => {
  const node = app.graph.getNodeById(id);
  const cam = LiteGraph.createNode("DTV_CameraTrajectory");
  cam.pos = [1020, 60];
  app.graph.add(cam);
  node.connect(0, cam, cam.findInputSlot("strokes"));
  return cam.id;
}"""
ANSWER = "(id) => { const a = app.graph.getNodeById(id).__dtvEditor.answer; return a ? a.trajectory : null; }"
SET_WIDGET = """([id, name, value]) => { const n = app.graph.getNodeById(id);
  const w = n.widgets.find((w) => w.name === name); w.value = value; w.callback?.(value);
  app.canvas.setDirty(true, true); }"""


def test_the_preview_uses_the_camera_nodes_strength_settings(app_page, uploaded):
    """The preview route gets the strength mode, strength and budget of the camera node the strokes feed: strength
    auto limits an orbit, manual gives the full move, a looser budget lets more through."""
    page = app_page
    ids = _setup(page, uploaded)
    node = ids["node"]
    cam = page.evaluate(ADD_CAMERA, node)
    page.evaluate(SET_WIDGET, [node, "preset", "orbit"])
    _wait_analyzed(page, node)

    def settled(cond, what):
        t0 = time.monotonic()
        while True:
            a = page.evaluate(ANSWER, node)
            if a is not None and _state(page, node)["state"] == "ok" and cond(a):
                return a
            assert time.monotonic() - t0 < 20, f"{what}: {a}"
            page.evaluate("() => app.canvas.setDirty(true, true)")
            page.wait_for_timeout(100)

    # each answer is told apart by its note (the widget keeps showing the previous answer until the next arrives)
    auto = settled(lambda a: a["limited"] and "strength auto" in a["note"], "strength auto should limit an orbit")
    assert auto["strength"] < 1.0 and auto["worst_uncovered"] <= 0.031
    page.evaluate(SET_WIDGET, [cam, "strength_mode", "manual"])
    manual = settled(lambda a: a["note"].startswith("WARNING"), "manual should give the full move, with a warning")
    assert manual["strength"] == 1.0 and not manual["limited"]
    page.evaluate(SET_WIDGET, [cam, "strength_mode", "auto"])
    page.evaluate(SET_WIDGET, [cam, "coverage_budget", 0.25])
    loose = settled(lambda a: "coverage budget 25%" in a["note"] and "strength auto" in a["note"],
                    "a 25% budget should let more of the orbit through")
    assert loose["strength"] > auto["strength"]
    assert loose["worst_uncovered"] <= 0.251
    assert not page.page_errors, page.page_errors
