"""Build the shipped workflows: API twins from ``scripts/workflow_specs.py``, UI format through the real frontend
(ComfyUI's own ``loadApiJson``, then the column layout of ``LAYOUTS`` with groups and a note, saved to open at a
readable zoom), thumbnails of each workflow's own camera move (:func:`result_thumbnail`), and ``web/lib/templates.js``
(titles and descriptions for the template browser).

Run after changing a spec or a node's widgets: ``.venv/bin/python scripts/build_workflows.py`` (needs
``scripts/setup.sh --test``: the pinned ComfyUI and Chromium). ``tests/test_workflows.py`` checks the result.
"""

from __future__ import annotations

import importlib.util
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

#: the saved view: this zoom (the frontend draws node text from about 0.57 up), the graph's top-left corner at
#: (VIEW_X, VIEW_Y) screen pixels, clear of the frontend's side bar and top menus
VIEW_SCALE, VIEW_X, VIEW_Y = 0.8, 80.0, 110.0
COL_GAP, ROW_GAP, TOP = 100, 70, 100  # between columns, between stacked nodes (a title bar is 30), first node's y

LAYOUT_JS = """
([api, layout, groups, sizes, note, title, gaps]) => {
  const [colGap, rowGap, top] = gaps;
  app.loadApiJson(JSON.parse(api), title);
  const noteNode = LiteGraph.createNode("Note");
  noteNode.widgets[0].value = note;
  noteNode.title = "About this workflow";
  app.graph.add(noteNode);
  const byId = (id) => id === "note" ? noteNode : app.graph.getNodeById(isNaN(+id) ? id : +id);
  for (const n of app.graph._nodes) {
    const want = sizes[n.type];
    const min = n.computeSize ? n.computeSize() : n.size;
    n.setSize([Math.max(n.size[0], min[0], want?.[0] ?? 0), Math.max(n.size[1], min[1], want?.[1] ?? 0)]);
  }
  const placed = new Set();
  let x = 40;
  for (const col of layout) {
    let y = top, w = 0;
    for (const entry of col) {
      const [id, level] = Array.isArray(entry) ? entry : [entry, null];
      const n = byId(id);
      if (level !== null) y = Math.max(y, byId(level).pos[1]);
      n.pos = [x, y];
      placed.add(n);
      y += n.size[1] + rowGap;
      w = Math.max(w, n.size[0]);
    }
    x += w + colGap;
  }
  const unplaced = app.graph._nodes.filter((n) => !placed.has(n)).map((n) => n.id);
  if (unplaced.length) throw new Error(`not in the layout: ${unplaced}`);
  const order = [];
  for (const g of Object.values(groups)) if (!order.includes(g)) order.push(g);
  for (const g of order) {
    const ns = Object.keys(groups).filter((id) => groups[id] === g).map(byId);
    const x0 = Math.min(...ns.map((n) => n.pos[0])), y0 = Math.min(...ns.map((n) => n.pos[1]));
    const x1 = Math.max(...ns.map((n) => n.pos[0] + n.size[0])), y1 = Math.max(...ns.map((n) => n.pos[1] + n.size[1]));
    const grp = new LiteGraph.LGraphGroup(g);
    grp.pos = [x0 - 25, y0 - 30 - 45];
    grp.size = [x1 - x0 + 50, y1 - y0 + 30 + 45 + 25];
    app.graph.add(grp);
  }
  app.graph.setDirtyCanvas(true, true);
  return JSON.stringify(app.graph.serialize());
}
"""

def saved_view(ui: dict) -> dict:
    """The view a workflow opens at: :data:`VIEW_SCALE`, the top-left of its nodes and groups at (VIEW_X, VIEW_Y)."""
    xs = [n["pos"][0] for n in ui["nodes"]] + [g["bounding"][0] for g in ui.get("groups", [])]
    ys = [n["pos"][1] - 30 for n in ui["nodes"]] + [g["bounding"][1] for g in ui.get("groups", [])]
    return {"scale": VIEW_SCALE, "offset": [VIEW_X / VIEW_SCALE - min(xs), VIEW_Y / VIEW_SCALE - min(ys)]}


THUMB_W = 320  #: width of one frame in a thumbnail (2 x 2 frames: 640 px wide)


def result_thumbnail(graph: dict) -> Image.Image:
    """Result frames of the workflow's own move: its camera node(s) as saved (preset, stroke, strength mode, budget,
    overscan), rendered in 2.5D on the bundled motorcycle photo with the workflow's own depth (the approximate prior
    of its DTV_FallbackDepth, as a user's photo without a depth map gets, else the photo's real depth), 25 frames,
    layered fill, supersampled as its render node is.
    One camera: frames 0, 1/3, 2/3 and last; several (the preset tour): the last frame of each. A video-model
    workflow shows the 2.5D render of the move its model is steered by (the model's own frames need its weights)."""
    import numpy as np
    import torch

    from draw_to_video.trajectory.camera.build import ShotOptions, build_trajectory
    from draw_to_video.trajectory.render.depth import depth_from_map, fallback_depth_prior
    from draw_to_video.trajectory.render.warp import render_views
    from draw_to_video.trajectory.stroke.format import parse_strokes

    photo = Image.open(REPO / "assets" / "motorcycle.jpg").convert("RGB")
    w, h = 2 * THUMB_W, 2 * round(2 * THUMB_W * photo.height / photo.width / 2)
    img = torch.from_numpy(np.asarray(photo.resize((w, h), Image.BICUBIC), np.float32) / 255).permute(2, 0, 1)
    inv = np.asarray(Image.open(REPO / "assets" / "motorcycle_depth.png").resize((w, h), Image.NEAREST), np.float32)
    prior = [n["inputs"] for n in graph.values() if n["class_type"] == "DTV_FallbackDepth"]
    depth = (fallback_depth_prior(h, w, prior[0]["horizon"], subject_radius=prior[0]["subject_size"]) if prior
             else depth_from_map(inv, "inverse_depth")[0])
    cams = [n["inputs"] for n in graph.values() if n["class_type"] == "DTV_CameraTrajectory"]
    ss = max((n["inputs"].get("supersample", 1) for n in graph.values() if n["class_type"] == "DTV_Render25D"),
             default=1)
    frames = []
    for cam in cams:
        src = cam.get("strokes")
        text = graph[src[0]]["inputs"]["strokes"] if isinstance(src, list) else None
        auto = cam.get("strength_mode", "auto") == "auto"
        opts = ShotOptions(preset=cam["preset"], frames=25, width=w, height=h, fov_deg=28.2,  # the Middlebury camera
                           strength=cam["strength"], budget=cam.get("coverage_budget"), auto_strength=auto,
                           overscan=cam.get("overscan", 1.0))
        traj = build_trajectory(parse_strokes(text) if text else None, opts, depth=depth.numpy().astype(np.float64))
        r = render_views(img, depth, torch.tensor(traj.source_K(w, h)), torch.tensor(traj.K),
                         torch.tensor(traj.cam_T_world()), fill="layered", supersample=ss)
        picks = [24] if len(cams) > 1 else [0, 8, 16, 24]
        frames += [(r.frames[i].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8) for i in picks]
    tiles = [Image.fromarray(f).resize((THUMB_W, round(THUMB_W * h / w)), Image.LANCZOS) for f in frames[:4]]
    th = tiles[0].height
    sheet = Image.new("RGB", (2 * THUMB_W, 2 * th), "white")
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % 2) * THUMB_W, (i // 2) * th))
    return sheet


def write_template_index() -> Path:
    """``web/lib/templates.js``: the template browser's titles and descriptions (read by ``web/templates.js``)."""
    path = REPO / "web" / "lib" / "templates.js"
    body = json.dumps({k: {"title": t, "description": d} for k, (t, d) in SPECS["TEMPLATES"].items()}, indent=2)
    path.write_text("// Generated by scripts/build_workflows.py from TEMPLATES in scripts/workflow_specs.py: do not edit.\n"
                    "// Each shipped workflow's title and one-sentence description, keyed by its file name in workflows/.\n"
                    f"export const TEMPLATES = Object.freeze({body});\n", encoding="utf-8")
    return path


def main() -> None:
    from playwright.sync_api import sync_playwright

    written = [*SPECS["write_api_twins"](), write_template_index()]
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
                    ui = json.loads(page.evaluate(LAYOUT_JS, [api, SPECS["LAYOUTS"][name], groups, SPECS["SIZES"],
                                                              note, name, [COL_GAP, ROW_GAP, TOP]]))
                    ui.setdefault("extra", {})["ds"] = saved_view(ui)
                    title, description = SPECS["TEMPLATES"][name]
                    ui["extra"]["draw_to_video"] = {"title": title, "description": description}
                    (REPO / "workflows" / f"{name}.json").write_text(json.dumps(ui, indent=1) + "\n")
                    result_thumbnail(graph).save(REPO / "workflows" / f"{name}.jpg", quality=85)
                    print(REPO / "workflows" / f"{name}.json")
                browser.close()
        finally:
            srv.stop()
    for p in written:
        print(p)


if __name__ == "__main__":
    main()
