// Draw to Video: the drawing canvas on DTV_StrokeInput nodes.
//
// A DOM widget shows the node's image (from the LoadImage wired into its optional `image` input) before anything
// runs and lets you draw camera strokes on it with mouse, pen or touch, in the image's own pixel coordinates
// whatever the node size or graph zoom. The stroke JSON lives in the node's `strokes` STRING widget (saved in
// workflows, sent in prompts): the canvas writes it on every change and redraws from it whenever it changes.
// When a stroke ends the widget asks POST /draw_to_video/analyze for the intent and a camera preview (with the
// strength settings of the camera node the strokes feed, so the preview is the move the run makes). When the
// classifier's top two readings are close it shows both ("circle, or spiral?") and a one-click switch ("use spiral")
// that sets the node's own `preset` widget to the runner-up's move (so it is saved like any widget value); a second
// click ("back to auto") sets it back.
// Public extension API only: app.registerExtension, node.addDOMWidget, api.fetchApi, widgets.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { AUTO, intentText, runnerUp, switchControl } from "./lib/runner_up.js";
import { STROKE_WIDGET_CSS, drawBackdrop, drawStroke, strokeColour } from "./lib/stroke_draw.js";
import {
  MAX_POINTS,
  clientToImage,
  countPoints,
  emptyModel,
  fitRect,
  hasDistinctPoints,
  parseModel,
  rescaleModel,
  serializeModel,
  viewParams,
} from "./lib/stroke_model.js";

const NODE_TYPE = "DTV_StrokeInput";
const ROUTE = "/draw_to_video/analyze";
const PREVIEW_FRAMES = 49;
const WIDGET_NAME = "dtv_canvas";

function injectCss() {
  if (document.getElementById("dtv-stroke-css")) return;
  const style = document.createElement("style");
  style.id = "dtv-stroke-css";
  style.textContent = STROKE_WIDGET_CSS;
  document.head.appendChild(style);
}

function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

/** Whether input `slot` of `node` has a link (the frontend's own accessor where it has one). */
function inputLinked(node, slot) {
  if (typeof node.isInputConnected === "function") return node.isInputConnected(slot);
  return node.inputs?.[slot]?.link != null;
}

/**
 * Where the node's image comes from: `{ url, state, message }`. state is "none" (nothing wired into `image`),
 * "empty" (a Load Image with no file chosen), "waiting" (wired to a node that shows no image yet) or "url" (an image
 * to load; `name` is its file name). `message` says what is wrong, for the canvas.
 */
function imageSource(node) {
  const slot = node.inputs?.findIndex((i) => i.name === "image") ?? -1;
  const none = { url: null, state: "none", message: "no image wired: connect a Load Image to 'image' to draw on it" };
  if (slot < 0 || !inputLinked(node, slot)) return none;
  const up = node.getInputNode?.(slot);
  if (!up) return none;
  const title = up.title || up.type || "the image node";
  const fileWidget = up.widgets?.find((w) => w.name === "image");
  const value = fileWidget?.value;
  // a combo with no options shows its value as "undefined" on some frontends: that is no file
  const params = value === "undefined" || value === "null" ? null : viewParams(value);
  if (params) {
    const q = new URLSearchParams({ filename: params.filename, type: params.type, subfolder: params.subfolder });
    return { url: api.apiURL(`/view?${q}`), state: "url", name: params.filename, title };
  }
  if (fileWidget) {
    // a file chooser with no file (what it still shows is stale)
    return { url: null, state: "empty", message: `'${title}' has no file yet: choose or upload an image there` };
  }
  const shown = up.imgs?.[0]?.src;
  if (shown) return { url: shown, state: "url", name: title, title };
  return { url: null, state: "waiting", message: `'${title}' shows no image yet: run the graph once, or wire a Load Image` };
}

class StrokeEditor {
  constructor(node, textWidget) {
    this.node = node;
    this.textWidget = textWidget;
    this.model = emptyModel();
    this.undoStack = [];
    this.redoStack = [];
    this.lastText = null;
    this.image = null;
    this.imageURL = null;
    this.imageMessage = "";
    this.drawing = null;
    this.seq = 0;
    this.analyzeTimer = null;
    this.frame = 0;
    this.answer = null; // the last successful answer of the route, for the runner-up switch
    this.build();
  }

  // -- DOM ---------------------------------------------------------------------------------------------------------
  build() {
    injectCss();
    const btn = (label, title, fn) => {
      const b = el("button", { type: "button", textContent: label, title });
      b.dataset.action = label.toLowerCase();
      b.addEventListener("mousedown", (e) => e.preventDefault()); // the drawing keeps the keyboard focus
      b.addEventListener("click", (e) => {
        e.stopPropagation();
        fn();
      });
      return b;
    };
    this.undoBtn = btn("Undo", "Undo the last change (Ctrl+Z)", () => this.undo());
    this.redoBtn = btn("Redo", "Redo (Ctrl+Shift+Z)", () => this.redo());
    this.clearBtn = btn("Clear", "Remove every stroke (Delete)", () => this.clear());
    this.jsonBtn = btn("JSON", "Show or hide the stroke JSON text", () => this.toggleText());
    this.bigBtn = btn("Camera", "Show the camera preview large, in place of the drawing (click again to draw)",
      () => this.toggleBig());
    this.canvas = el("canvas", { className: "dtv-canvas" });
    // The keyboard focus of the drawing: a read-only input over the canvas, so that the frontend's own shortcuts
    // (its workflow undo on Ctrl+Z, Delete for nodes) leave keys typed here alone, as they do for text fields.
    this.keys = el("input", { className: "dtv-keys", readOnly: true, tabIndex: 0, inputMode: "none" });
    this.keys.setAttribute("aria-label", "Camera path drawing: Ctrl+Z undo, Ctrl+Shift+Z redo, Delete clear");
    this.preview = el("img", { className: "dtv-preview", alt: "camera preview", title: "Click to enlarge" });
    this.preview.addEventListener("click", (e) => {
      e.stopPropagation();
      this.toggleBig();
    });
    // the second view: the same preview filling the drawing's place (top and side views at full size)
    this.bigPreview = el("img", { className: "dtv-big-preview", alt: "camera preview, large",
      title: "Click to go back to drawing" });
    this.bigPreview.addEventListener("click", (e) => {
      e.stopPropagation();
      this.toggleBig();
    });
    this.intentEl = el("span", { className: "dtv-intent", textContent: "" });
    this.infoEl = el("span", { className: "dtv-info", textContent: "" });
    this.switchBtn = btn("use", "", () => this.onSwitch());
    this.switchBtn.className = "dtv-switch";
    this.switchBtn.dataset.action = "runner-up";
    this.switchBtn.hidden = true;
    this.stage = el("div", { className: "dtv-stage" }, [this.canvas, this.keys, this.bigPreview]);
    this.root = el("div", { className: "dtv-stroke" }, [
      el("div", { className: "dtv-bar" }, [this.undoBtn, this.redoBtn, this.clearBtn, this.jsonBtn, this.bigBtn]),
      this.stage,
      el("div", { className: "dtv-foot" }, [this.preview, el("div", { className: "dtv-text" }, [
        el("div", { className: "dtv-read" }, [this.intentEl, this.switchBtn]),
        this.infoEl,
      ])]),
    ]);
    this.root.dataset.state = "idle";
    this.root.dataset.view = "draw";
    // keep pointer presses on the controls from dragging the node
    this.root.addEventListener("pointerdown", (e) => e.stopPropagation());
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.onDown(e));
    c.addEventListener("pointermove", (e) => this.onMove(e));
    c.addEventListener("pointerup", (e) => this.onUp(e));
    c.addEventListener("pointercancel", (e) => this.onUp(e));
    c.addEventListener("lostpointercapture", (e) => this.onUp(e));
    this.keys.addEventListener("keydown", (e) => this.onKey(e));
    this.keys.addEventListener("focus", () => this.stage.classList.add("dtv-focus"));
    this.keys.addEventListener("blur", () => this.stage.classList.remove("dtv-focus"));
    c.addEventListener("contextmenu", (e) => e.preventDefault());
    if (typeof ResizeObserver === "function") {
      this.resizeObserver = new ResizeObserver(() => this.requestDraw());
      this.resizeObserver.observe(this.stage);
    }
  }

  destroy() {
    this.resizeObserver?.disconnect();
    clearTimeout(this.analyzeTimer);
    this.seq++;
  }

  // -- model <-> text widget -----------------------------------------------------------------------------------------
  /** Cheap per-frame check: re-read the text if someone else changed it, reload the image if its source changed. */
  sync() {
    const text = this.textWidget.value;
    if (typeof text === "string" && text !== this.lastText) this.loadText(text);
    const src = imageSource(this.node);
    if (src.url !== this.imageURL) this.loadImage(src);
    else if (!src.url && src.message !== this.imageMessage) this.setImageMessage(src.state, src.message);
    const [bw, bh] = this.backingSize();
    if (bw !== this.canvas.width || bh !== this.canvas.height) this.requestDraw();
    // the camera node's strength settings changed since the last analysis: refresh the preview for them
    if (this.lastShot !== undefined) {
      const shot = JSON.stringify(this.shotFields());
      if (shot !== this.lastShot) {
        this.lastShot = shot;
        this.scheduleAnalyze(300);
      }
    }
  }

  loadText(text) {
    this.lastText = text;
    const m = parseModel(text);
    this.undoStack = [];
    this.redoStack = [];
    this.requestDraw();
    if (!m) {
      // not stroke JSON at all: show an empty drawing and leave the text alone until the user draws
      const { naturalWidth: w, naturalHeight: h } = this.image ?? {};
      this.model = emptyModel(w || this.model.width, h || this.model.height);
      clearTimeout(this.analyzeTimer);
      this.seq++;
      this.preview.style.visibility = "hidden";
      this.setStatus("error", "unreadable stroke text", "The strokes text is not JSON; drawing replaces it.");
      return;
    }
    this.model = m;
    if (this.image) this.fitToImage();
    this.scheduleAnalyze(30);
  }

  write() {
    const text = serializeModel(this.model);
    this.lastText = text;
    this.textWidget.value = text;
    this.node.setDirtyCanvas?.(true, true);
    this.node.graph?.change?.();
  }

  commit(next) {
    this.undoStack.push(this.model);
    if (this.undoStack.length > 200) this.undoStack.shift();
    this.redoStack = [];
    this.model = next;
    this.afterChange();
  }

  afterChange() {
    this.write();
    this.requestDraw();
    this.scheduleAnalyze(0);
  }

  undo() {
    if (!this.undoStack.length) return;
    this.redoStack.push(this.model);
    this.model = this.undoStack.pop();
    this.afterChange();
  }

  redo() {
    if (!this.redoStack.length) return;
    this.undoStack.push(this.model);
    this.model = this.redoStack.pop();
    this.afterChange();
  }

  clear() {
    if (!this.model.strokes.length) return;
    this.commit({ ...this.model, strokes: [] });
  }

  /** Switch the stage between the drawing and the large camera preview. */
  toggleBig(on = !this.root.classList.contains("dtv-big")) {
    this.root.classList.toggle("dtv-big", on);
    this.root.dataset.view = on ? "camera" : "draw";
    this.bigBtn.classList.toggle("dtv-on", on);
    this.bigBtn.textContent = on ? "Draw" : "Camera";
    this.bigBtn.dataset.action = "camera"; // the action stays the same whatever the label says
    this.requestDraw();
  }

  toggleText() {
    this.setTextVisible(!!this.textWidget.hidden);
    const size = this.node.computeSize?.();
    if (size) this.node.setSize?.([this.node.size[0], Math.max(this.node.size[1], size[1])]);
    this.node.setDirtyCanvas?.(true, true);
  }

  /** Show or hide the JSON text field; hidden, it takes no room (its DOM widget's min and max height are 0). */
  setTextVisible(visible) {
    const w = this.textWidget;
    w.hidden = !visible;
    if (!w.options) return;
    if (!this.textHeights) this.textHeights = { min: w.options.getMinHeight, max: w.options.getMaxHeight };
    w.options.getMinHeight = visible ? this.textHeights.min : () => 0;
    w.options.getMaxHeight = visible ? this.textHeights.max : () => 0;
  }

  // -- image -----------------------------------------------------------------------------------------------------
  /** The canvas's message about the image (what is wrong with it, or empty once it shows); redraws. */
  setImageMessage(state, message) {
    this.imageMessage = message;
    this.root.dataset.image = state;
    this.root.dataset.imageMessage = message;
    this.requestDraw();
  }

  loadImage(src) {
    const url = src.url;
    this.imageURL = url;
    if (!url) {
      this.image = null;
      this.setImageMessage(src.state, src.message);
      return;
    }
    this.setImageMessage("loading", `loading '${src.name}'…`);
    const img = new Image();
    img.onload = () => {
      if (this.imageURL !== url) return;
      this.image = img;
      this.setImageMessage("loaded", "");
      this.fitToImage();
    };
    img.onerror = () => {
      if (this.imageURL !== url) return;
      this.image = null;
      this.setImageMessage("error", `could not load '${src.name}' from '${src.title}': is the file in ComfyUI's input folder?`);
    };
    img.src = url;
  }

  /** The stroke canvas takes the image's natural size; strokes keep their place on the image. */
  fitToImage() {
    const { naturalWidth: w, naturalHeight: h } = this.image;
    if (!w || !h || (w === this.model.width && h === this.model.height)) return;
    const re = (m) => rescaleModel(m, w, h);
    this.model = re(this.model);
    this.undoStack = this.undoStack.map(re);
    this.redoStack = this.redoStack.map(re);
    this.afterChange();
  }

  // -- drawing ---------------------------------------------------------------------------------------------------
  backingSize() {
    const c = this.canvas;
    const zoom = app.canvas?.ds?.scale ?? 1;
    const k = Math.min((window.devicePixelRatio || 1) * Math.max(zoom, 1), 3);
    return [Math.max(1, Math.round(c.clientWidth * k)), Math.max(1, Math.round(c.clientHeight * k))];
  }

  requestDraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const c = this.canvas;
    const [bw, bh] = this.backingSize();
    if (c.width !== bw) c.width = bw;
    if (c.height !== bh) c.height = bh;
    const ctx = c.getContext("2d");
    if (!ctx) return;
    const { width: W, height: H } = this.model;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, bw, bh);
    const f = fitRect(bw, bh, W, H);
    ctx.setTransform(f.scale, 0, 0, f.scale, f.x, f.y);
    const px = (bw / Math.max(c.clientWidth, 1)) / f.scale; // one CSS pixel in image units
    drawBackdrop(ctx, this.image, W, H, px, this.imageMessage);
    this.model.strokes.forEach((s, i) => drawStroke(ctx, s.points, strokeColour(i), px, true));
    if (this.drawing) drawStroke(ctx, this.drawing.points, "#ffffff", px, false);
    this.updateButtons();
  }

  updateButtons() {
    this.undoBtn.disabled = !this.undoStack.length;
    this.redoBtn.disabled = !this.redoStack.length;
    this.clearBtn.disabled = !this.model.strokes.length;
  }

  // -- pointer and keys ------------------------------------------------------------------------------------------
  toImage(e) {
    const r = this.canvas.getBoundingClientRect();
    return clientToImage(e.clientX, e.clientY, r, this.model.width, this.model.height);
  }

  /** The smallest spacing kept between recorded points: about one screen pixel, in image pixels. */
  minStep() {
    const r = this.canvas.getBoundingClientRect();
    return 0.75 / fitRect(r.width, r.height, this.model.width, this.model.height).scale;
  }

  onDown(e) {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    if (this.drawing) return;
    e.preventDefault();
    e.stopPropagation();
    this.keys.focus({ preventScroll: true });
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // capture is a nicety: drawing still works without it
    }
    const [x, y] = this.toImage(e);
    this.drawing = { id: e.pointerId, t0: performance.now(), points: [[x, y, 0]], step: this.minStep() };
    this.requestDraw();
  }

  addPoint(ev) {
    const d = this.drawing;
    if (countPoints(this.model) + d.points.length >= MAX_POINTS) return;
    const [x, y] = this.toImage(ev);
    const last = d.points[d.points.length - 1];
    const t = Math.max(last[2], performance.now() - d.t0);
    if (Math.hypot(x - last[0], y - last[1]) < d.step) return;
    d.points.push([x, y, t]);
  }

  onMove(e) {
    if (!this.drawing || e.pointerId !== this.drawing.id) return;
    e.preventDefault();
    e.stopPropagation();
    const batch = e.getCoalescedEvents?.();
    for (const ev of batch?.length ? batch : [e]) this.addPoint(ev);
    this.requestDraw();
  }

  onUp(e) {
    const d = this.drawing;
    if (!d || e.pointerId !== d.id) return;
    if (e.type === "pointerup") this.addPoint(e);
    this.drawing = null;
    try {
      if (this.canvas.hasPointerCapture?.(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    } catch {
      // already released
    }
    if (hasDistinctPoints(d.points)) {
      this.commit({ ...this.model, strokes: [...this.model.strokes, { points: d.points, role: "camera" }] });
    } else {
      this.requestDraw();
    }
  }

  onKey(e) {
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    let handled = true;
    if (mod && key === "z") e.shiftKey ? this.redo() : this.undo();
    else if (mod && key === "y") this.redo();
    else if (!mod && (e.key === "Delete" || e.key === "Backspace")) this.clear();
    else handled = false;
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  // -- live analysis ---------------------------------------------------------------------------------------------
  presetWidget() {
    return this.node.widgets?.find((w) => w.name === "preset") ?? null;
  }

  preset() {
    const v = this.presetWidget()?.value;
    return typeof v === "string" ? v : AUTO;
  }

  /** The strength settings of the camera node these strokes feed (directly, or through the intent node), so the
   * preview shows the move the run will make: {strength_mode, strength, coverage_budget, overscan}, or {} when none
   * is wired (the route then uses the camera node's defaults). */
  shotFields() {
    const graph = this.node.graph;
    const linkOf = (id) => (graph?.links instanceof Map ? graph.links.get(id) : graph?.links?.[id]);
    let frontier = [this.node];
    for (let depth = 0; depth < 2 && frontier.length; depth++) {
      const next = [];
      for (const n of frontier) {
        for (const out of n.outputs ?? []) {
          for (const id of out.links ?? []) {
            const target = graph?.getNodeById?.(linkOf(id)?.target_id);
            const value = (name) => target?.widgets?.find((w) => w.name === name)?.value;
            if (typeof value("strength_mode") === "string") {
              const f = { strength_mode: value("strength_mode") };
              for (const k of ["strength", "coverage_budget", "overscan"]) {
                if (typeof value(k) === "number") f[k] = value(k);
              }
              return f;
            }
            if (target) next.push(target);
          }
        }
      }
      frontier = next;
    }
    return {};
  }

  /** Set the node's preset widget (as choosing it in its dropdown would) and refresh the preview for it. */
  setPreset(value) {
    const w = this.presetWidget();
    if (!w || w.value === value) return;
    w.value = value;
    w.callback?.(value, app.canvas, this.node);
    this.node.setDirtyCanvas?.(true, true);
    this.node.graph?.change?.();
    this.scheduleAnalyze(0);
  }

  onSwitch() {
    const ctl = switchControl(this.answer, this.preset(), this.presetValues());
    if (ctl) this.setPreset(ctl.next);
  }

  presetValues() {
    const values = this.presetWidget()?.options?.values;
    return Array.isArray(values) ? values : null;
  }

  /** Show the runner-up switch for the last answer and the current preset, or hide it. */
  updateSwitch() {
    const ctl = this.root.dataset.state === "ok" ? switchControl(this.answer, this.preset(), this.presetValues()) : null;
    const b = this.switchBtn;
    b.hidden = !ctl;
    if (!ctl) return;
    b.textContent = ctl.text;
    b.title = ctl.title;
    b.dataset.next = ctl.next;
    b.classList.toggle("dtv-on", ctl.active);
  }

  scheduleAnalyze(delay) {
    clearTimeout(this.analyzeTimer);
    this.root.dataset.state = "pending"; // at once, so nobody reads the previous answer as this one's
    this.analyzeTimer = setTimeout(() => this.analyze(), delay);
  }

  setStatus(state, label, info, answer = null) {
    this.root.dataset.state = state;
    this.answer = answer;
    this.root.dataset.runnerUp = runnerUp(answer) ?? "";
    this.root.dataset.runnerUpPreset = (runnerUp(answer) && answer?.runner_up_preset) || "";
    this.intentEl.textContent = label;
    this.intentEl.title = answer ? intentText(answer).title : "";
    this.infoEl.textContent = info;
    this.infoEl.title = info;
    this.updateSwitch();
  }

  async analyze() {
    const seq = ++this.seq;
    const camera = this.model.strokes.filter((s) => s.role === "camera" && hasDistinctPoints(s.points));
    if (!camera.length) {
      this.root.dataset.intent = "";
      this.preview.style.visibility = "hidden";
      this.setStatus("idle", "", "Draw the camera path on the image.");
      return;
    }
    this.root.dataset.state = "pending";
    const shot = this.shotFields();
    this.lastShot = JSON.stringify(shot);
    const body = {
      strokes: JSON.parse(serializeModel(this.model)),
      frames: PREVIEW_FRAMES,
      preset: this.preset(),
      width: this.model.width,
      height: this.model.height,
      ...shot,
    };
    let res;
    let data = null;
    try {
      res = await api.fetchApi(ROUTE, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      data = await res.json().catch(() => null);
    } catch (err) {
      if (seq === this.seq) this.setStatus("error", "preview unavailable", String(err?.message ?? err));
      return;
    }
    if (seq !== this.seq) return;
    if (!res.ok || !data?.intent) {
      this.root.dataset.intent = "";
      this.preview.style.visibility = "hidden";
      this.setStatus("error", "invalid strokes", data?.error ?? `HTTP ${res.status}`);
      return;
    }
    const { intent, trajectory } = data;
    this.root.dataset.intent = intent.intent;
    this.root.dataset.preset = trajectory?.preset ?? "";
    this.root.dataset.confidence = String(intent.confidence);
    const preset = trajectory?.preset ? ` → ${trajectory.preset}` : "";
    const info = `camera: ${body.preset}${body.preset === AUTO ? preset : ""}`;
    this.setStatus("ok", intentText(data).text, info, data);
    if (data.preview_png) {
      this.preview.src = data.preview_png;
      this.bigPreview.src = data.preview_png;
      this.preview.style.visibility = "visible";
    }
  }
}

/** Give a DTV_StrokeInput node its drawing canvas; null (the text field stays as it is) where that cannot be done. */
export function attachEditor(node) {
  if (node.__dtvEditor) return node.__dtvEditor;
  const textWidget = node.widgets?.find((w) => w.name === "strokes");
  if (!textWidget || typeof node.addDOMWidget !== "function") return null; // plain text field stays usable
  const editor = new StrokeEditor(node, textWidget);
  const widget = node.addDOMWidget(WIDGET_NAME, "dtv_stroke_canvas", editor.root, {
    serialize: false,
    hideOnZoom: false,
    getMinHeight: () => 360,
  });
  widget.serialize = false;
  editor.widget = widget;
  node.__dtvEditor = editor;
  editor.setTextVisible(false);
  const presetWidget = node.widgets.find((w) => w.name === "preset");
  if (presetWidget) {
    const cb = presetWidget.callback;
    presetWidget.callback = function () {
      const r = cb?.apply(this, arguments);
      editor.scheduleAnalyze(0);
      return r;
    };
  }
  const textEl = "element" in textWidget ? textWidget.element : textWidget.inputEl; // inputEl: older frontends
  textEl?.addEventListener?.("input", () => editor.sync());
  editor.sync();
  return editor;
}

app.registerExtension({
  name: "DrawToVideo.StrokeWidget",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_TYPE) return;
    const proto = nodeType.prototype;
    const chain = (name, fn) => {
      const orig = proto[name];
      proto[name] = function () {
        const r = orig?.apply(this, arguments);
        try {
          fn.apply(this, arguments);
        } catch (err) {
          console.warn(`[draw-to-video] stroke widget ${name}:`, err);
        }
        return r;
      };
    };
    chain("onNodeCreated", function () {
      if (attachEditor(this)) this.setSize?.([Math.max(this.size[0], 520), Math.max(this.size[1], 600)]);
    });
    chain("onConfigure", function () {
      this.__dtvEditor?.sync();
    });
    chain("onConnectionsChange", function () {
      this.__dtvEditor?.sync();
    });
    chain("onDrawBackground", function () {
      this.__dtvEditor?.sync();
    });
    chain("onRemoved", function () {
      this.__dtvEditor?.destroy();
    });
  },
  loadedGraphNode(node) {
    node.__dtvEditor?.sync();
  },
});
