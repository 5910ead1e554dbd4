"""Build the shipped workflows: API twins from ``scripts/workflow_specs.py``, UI format and thumbnails through the
real frontend (ComfyUI's own ``loadApiJson``, then a column-per-stage layout with groups and a note).

Run after changing a spec or a node's widgets: ``.venv/bin/python scripts/build_workflows.py`` (needs
``scripts/setup.sh --test``: the pinned ComfyUI and Chromium). ``tests/test_workflows.py`` checks the result.
"""

from __future__ import annotations

import importlib.util
import io
import json
import runpy
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SPECS = runpy.run_path(str(REPO / "scripts" / "workflow_specs.py"))
_spec = importlib.util.spec_from_file_location("comfy_harness", REPO / "tests" / "comfy_harness.py")
harness = importlib.util.module_from_spec(_spec)
sys.modules["comfy_harness"] = harness  # dataclasses look their module up there
_spec.loader.exec_module(harness)  # type: ignore[union-attr]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

LAYOUT_JS = """
([api, groups, note, title]) => {
  app.loadApiJson(JSON.parse(api), title);
  const order = [];
  for (const [id, g] of Object.entries(groups)) { if (!order.includes(g)) order.push(g); }
  let x = 40;
  const noteNode = LiteGraph.createNode("Note");
  noteNode.widgets[0].value = note;
  noteNode.size = [360, 200];
  noteNode.title = "About this workflow";
  app.graph.add(noteNode);
  noteNode.pos = [x, 60];
  x += 400;
  for (const g of order) {
    const ids = Object.keys(groups).filter(id => groups[id] === g);
    let y = 100, w = 0;
    for (const id of ids) {
      const n = app.graph.getNodeById(isNaN(+id) ? id : +id);
      n.pos = [x, y];
      y += n.size[1] + 70;
      w = Math.max(w, n.size[0]);
    }
    const grp = new LiteGraph.LGraphGroup(g);
    grp.pos = [x - 20, 20];
    grp.size = [w + 40, y - 20];
    app.graph.add(grp);
    x += w + 90;
  }
  app.graph.setDirtyCanvas(true, true);
  return JSON.stringify(app.graph.serialize());
}
"""

FIT_JS = """
() => {
  const ns = app.graph._nodes;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const n of ns) { x0 = Math.min(x0, n.pos[0]); y0 = Math.min(y0, n.pos[1] - 40);
                        x1 = Math.max(x1, n.pos[0] + n.size[0]); y1 = Math.max(y1, n.pos[1] + n.size[1]); }
  const c = app.canvas.canvas, s = Math.min(c.width / (x1 - x0 + 80), c.height / (y1 - y0 + 80), 1.0);
  app.canvas.ds.scale = s;
  app.canvas.ds.offset = [-x0 + 40 / s, -y0 + 40 / s];
  app.graph.setDirtyCanvas(true, true);
}
"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    written = SPECS["write_api_twins"]()
    with tempfile.TemporaryDirectory() as tmp:
        srv = harness.start_server(Path(tmp))
        try:
            (Path(tmp) / "input" / "example.png").write_bytes((REPO / ".comfyui" / "input" / "example.png").read_bytes())
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1600, "height": 900})
                page.goto(srv.url)
                page.wait_for_function("() => window.app && window.app.graph", timeout=60_000)
                page.wait_for_timeout(3000)
                page.evaluate("() => app.ui?.settings?.setSettingValue?.('Comfy.Minimap.Visible', false)")
                for name, (build, note) in SPECS["WORKFLOWS"].items():
                    graph = build()
                    groups = {k: v["group"] for k, v in graph.items()}
                    api = json.dumps(SPECS["api_twin"](graph))
                    ui = json.loads(page.evaluate(LAYOUT_JS, [api, groups, note, name]))
                    (REPO / "workflows" / f"{name}.json").write_text(json.dumps(ui, indent=1) + "\n")
                    page.evaluate(FIT_JS)
                    page.wait_for_timeout(800)
                    # the canvas without the side bar, tabs and banner
                    shot = Image.open(io.BytesIO(page.screenshot(clip={"x": 64, "y": 90, "width": 1200,
                                                                       "height": 680}))).convert("RGB")
                    shot.thumbnail((640, 360))
                    shot.save(REPO / "workflows" / f"{name}.jpg", quality=85)
                    print(REPO / "workflows" / f"{name}.json")
                browser.close()
        finally:
            srv.stop()
    for p in written:
        print(p)


if __name__ == "__main__":
    main()
