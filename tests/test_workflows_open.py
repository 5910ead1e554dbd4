"""The shipped workflows as a new user opens them, on both frontends (1.32.9 as pinned, 1.58.1 from its PyPI wheel via
``--front-end-root``): readable at the saved zoom, nothing overlapping once a 3:2 or 16:9 photo is loaded, the preset
tour fitting at 50% or more, real titles and descriptions in the template browser, and no errors from the pack's
scripts. Screenshots of each workflow as opened (1280x800) land in ``tests/_output/open_<frontend>_<name>.png``."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import cv2
import pytest
import skimage.data
from conftest import OUTPUT_DIR

from comfy_harness import REPO, start_server

WF = REPO / "workflows"
NAMES = sorted(p.stem for p in WF.glob("*.json"))
TEMPLATES = runpy.run_path(str(REPO / "scripts" / "workflow_specs.py"))["TEMPLATES"]
NEW_FRONTEND = "1.58.1"
CACHE = REPO / ".cache" / f"comfyui-frontend-{NEW_FRONTEND}"
PHOTOS = {"photo_3x2.png": (768, 512), "photo_16x9.png": (1024, 576)}


def _new_frontend_root() -> Path:
    """The 1.58.1 frontend's static folder, extracted from its PyPI wheel by ``scripts/setup.sh --test``."""
    static = CACHE / "comfyui_frontend_package" / "static"
    assert (static / "index.html").is_file(), f"{static} is missing: scripts/setup.sh --test extracts it"
    return static


@pytest.fixture(scope="module", params=["1.32.9", NEW_FRONTEND])
def server(request, tmp_path_factory):
    args = () if request.param == "1.32.9" else ("--front-end-root", str(_new_frontend_root()))
    srv = start_server(tmp_path_factory.mktemp(f"fe-{request.param}"), extra_args=args)
    photo = skimage.data.astronaut()
    for name, (w, h) in PHOTOS.items():
        cv2.imwrite(str(srv.base / "input" / name), cv2.resize(photo, (w, h))[:, :, ::-1])
    (srv.base / "input" / "example.png").write_bytes((REPO / ".comfyui" / "input" / "example.png").read_bytes())
    srv.frontend = request.param  # type: ignore[attr-defined]
    try:
        yield srv
    finally:
        srv.stop()


def _page(browser, server, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    # errors and warnings that come from the pack's own scripts
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") and "draw-to-video" in (m.location or {}).get("url", "") else None)
    page.goto(server.url, wait_until="domcontentloaded")
    page.wait_for_function("() => window.app && window.app.graph && window.LiteGraph", timeout=60_000)
    page.wait_for_timeout(1500)
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


OPEN = """async (text) => { await app.loadGraphData(JSON.parse(text)); }"""

SET_PHOTO = """(name) => {
  for (const n of app.graph._nodes.filter((n) => n.type === "LoadImage")) {
    const w = n.widgets.find((w) => w.name === "image");
    w.value = name; w.callback?.(name);
  }
}"""

LOADED = """(name) => app.graph._nodes.filter((n) => n.type === "LoadImage")
  .every((n) => n.imgs?.length && n.imgs[0].complete && n.imgs[0].naturalWidth > 0 && n.imgs[0].src.includes(name))"""

BOXES = """() => app.graph._nodes.map((n) => ({ id: String(n.id), type: n.type, title: n.title,
  box: Array.from(n.getBounding ? n.getBounding() : [n.pos[0], n.pos[1] - 30, n.size[0], n.size[1] + 30]) }))"""

VIEW = """() => ({ scale: app.canvas.ds.scale, low_quality: !!app.canvas.low_quality,
                  threshold: app.canvas._lowQualityZoomThreshold ?? null })"""


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(boxes):
        ax, ay, aw, ah = a["box"]
        for b in boxes[i + 1:]:
            bx, by, bw, bh = b["box"]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                out.append((f"{a['title']} ({a['type']})", f"{b['title']} ({b['type']})"))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_opens_readable_and_nothing_overlaps(browser, server, name):
    context, page = _page(browser, server, 1280, 800)
    try:
        page.evaluate(OPEN, (WF / f"{name}.json").read_text(encoding="utf-8"))
        page.wait_for_timeout(1500)
        view = page.evaluate(VIEW)
        # the saved view: node text is drawn (not the frontend's low-quality mode), at 80%
        assert view["scale"] >= 0.8 and not view["low_quality"], view
        if view["threshold"] is not None:
            assert view["scale"] > view["threshold"], view
        page.screenshot(path=str(OUTPUT_DIR / f"open_{server.frontend}_{name}.png"))
        assert not _overlaps(page.evaluate(BOXES)), "as opened"
        for photo in PHOTOS:
            page.evaluate(SET_PHOTO, photo)
            page.wait_for_function(LOADED, arg=photo, timeout=15_000)
            page.wait_for_timeout(500)  # the node takes its new size on the next frame
            assert not _overlaps(page.evaluate(BOXES)), photo
        assert not page.problems, page.problems
    finally:
        context.close()


def test_preset_tour_fits_at_half_zoom(browser, server):
    context, page = _page(browser, server, 1600, 1000)
    try:
        page.evaluate(OPEN, (WF / "camera_preset_tour.json").read_text(encoding="utf-8"))
        page.wait_for_timeout(800)
        page.evaluate("() => app.extensionManager.command.execute('Comfy.Canvas.FitView')")
        page.wait_for_timeout(800)
        assert page.evaluate(VIEW)["scale"] >= 0.5  # issue 15: the tour fits at >= 50% (it was one tall column at 26%)
    finally:
        context.close()


def test_template_browser_shows_titles_and_descriptions(browser, server):
    context, page = _page(browser, server, 1400, 900)
    try:
        page.evaluate("() => app.extensionManager.command.execute('Comfy.BrowseTemplates')")
        page.get_by_text("draw-to-video", exact=True).first.click(timeout=20_000)
        page.wait_for_selector('[data-testid="template-workflow-draw_to_video_2_5d"] h3[data-dtv-template]',
                               timeout=20_000)
        page.wait_for_timeout(300)
        cards = json.loads(page.evaluate("""(names) => JSON.stringify(Object.fromEntries(names.map((n) => {
            const c = document.querySelector(`[data-testid="template-workflow-${n}"]`);
            return [n, c && { title: c.querySelector("h3")?.textContent.trim(),
                              description: c.querySelector("p.dtv-template-desc")?.textContent.trim() }];
        })))""", sorted(TEMPLATES)))
        page.screenshot(path=str(OUTPUT_DIR / f"templates_{server.frontend}.png"))
        assert cards == {n: {"title": t, "description": d} for n, (t, d) in TEMPLATES.items()}
        assert not page.problems, page.problems
    finally:
        context.close()
