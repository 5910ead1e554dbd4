"""A new user's first run, in the real frontend on both versions: open the shipped 2.5D workflow, load a real 3:2
photo, queue from the page, and get a 3:2 video (issue 15: the size follows the photo)."""

from __future__ import annotations

import time

import av
import cv2
import skimage.data
from test_workflows_open import OPEN, SET_PHOTO, WF, _page, server  # noqa: F401 (server is a fixture)

PHOTO = "coffee_3x2.png"  # skimage's coffee: a real 600x400 photograph

SET_FRAMES = """(n) => { const cam = app.graph._nodes.find((n) => n.type === "DTV_CameraTrajectory");
  const w = cam.widgets.find((w) => w.name === "frames"); w.value = n; w.callback?.(n); }"""

STROKE_CANVAS = """() => { const s = app.graph._nodes.find((n) => n.type === "DTV_StrokeInput");
  return JSON.parse(s.widgets.find((w) => w.name === "strokes").value).canvas; }"""


def test_a_3_2_photo_gives_a_3_2_video(browser, server):  # noqa: F811
    cv2.imwrite(str(server.base / "input" / PHOTO), skimage.data.coffee()[:, :, ::-1])
    context, page = _page(browser, server, 1600, 1000)
    try:
        page.evaluate(OPEN, (WF / "draw_to_video_2_5d.json").read_text(encoding="utf-8"))
        page.wait_for_timeout(800)
        page.evaluate(SET_PHOTO, PHOTO)
        page.wait_for_function("() => { const s = app.graph._nodes.find((n) => n.type === 'DTV_StrokeInput'); "
                               "return JSON.parse(s.widgets.find((w) => w.name === 'strokes').value).canvas.width "
                               "=== 600; }", timeout=15_000)
        assert page.evaluate(STROKE_CANVAS) == {"width": 600, "height": 400}  # the drawing took the photo's shape
        page.evaluate(SET_FRAMES, 5)
        before = set(server.client().get_json("/history"))
        page.evaluate("() => app.queuePrompt(0)")
        t0 = time.monotonic()
        while True:
            hist = server.client().get_json("/history")
            new = [v for k, v in hist.items() if k not in before and v.get("status", {}).get("completed")]
            if new:
                break
            assert time.monotonic() - t0 < 180, "the prompt queued from the page did not finish"
            time.sleep(0.3)
        videos = [it for out in new[0]["outputs"].values() for key, items in out.items() if isinstance(items, list)
                  for it in items if isinstance(it, dict) and str(it.get("filename", "")).endswith(".mp4")]
        assert len(videos) == 1, new[0]["outputs"]
        v = videos[0]
        with av.open(str(server.base / "output" / v.get("subfolder", "") / v["filename"])) as clip:
            stream = clip.streams.video[0]
            w, h, n = stream.codec_context.width, stream.codec_context.height, sum(1 for _ in clip.decode(video=0))
        assert n == 5 and max(w, h) == 1024, (w, h, n)
        # 3:2, not a square crop: the photo's height at a 1024 long side, on the nearest multiple of 16 (688)
        assert w == 1024 and h % 16 == 0 and abs(h - 1024 * 400 / 600) <= 8, (w, h)
        assert not page.problems, page.problems
    finally:
        context.close()
