// Draw to Video: pure helpers for the stroke canvas widget (no DOM, no ComfyUI, no side effects on import).
// The stroke JSON format is defined in trajectory/stroke/format.py (parse_strokes is the one validator); this module only
// reads it leniently for display and writes it in the same shape.

export const FORMAT_VERSION = 1;
export const DEFAULT_CANVAS = Object.freeze({ width: 1024, height: 576 });
/** Most points the widget records in one stroke set (the route refuses more; parse_strokes allows 100 000). */
export const MAX_POINTS = 20000;
export const MAX_CANVAS = 16384;

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const side = (v, fallback) => (Number.isInteger(v) && v >= 1 && v <= MAX_CANVAS ? v : fallback);

/** An empty model: canvas size and no strokes. */
export function emptyModel(width = DEFAULT_CANVAS.width, height = DEFAULT_CANVAS.height) {
  return { width: side(width, DEFAULT_CANVAS.width), height: side(height, DEFAULT_CANVAS.height), strokes: [] };
}

/**
 * Parse stroke JSON text leniently for display: returns {width, height, strokes: [{points: [[x, y, t], ...], role}]}
 * or null when the text is not a stroke set at all. Malformed points are dropped (the server reports them).
 */
export function parseModel(text) {
  let data;
  try {
    data = typeof text === "string" ? JSON.parse(text) : text;
  } catch {
    return null;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) return null;
  const canvas = data.canvas && typeof data.canvas === "object" ? data.canvas : {};
  const model = emptyModel(canvas.width, canvas.height);
  if (!Array.isArray(data.strokes)) return model;
  for (const raw of data.strokes) {
    if (!raw || !Array.isArray(raw.points)) continue;
    const points = [];
    raw.points.forEach((p, i) => {
      if (!Array.isArray(p) || !finite(p[0]) || !finite(p[1])) return;
      const prev = points.length ? points[points.length - 1][2] : -Infinity;
      points.push([p[0], p[1], Math.max(prev, finite(p[2]) ? p[2] : i * 16)]); // time never runs backwards
    });
    const role = typeof raw.role === "string" ? raw.role : "camera";
    if (points.length) model.strokes.push({ points, role });
  }
  return model;
}

const round = (v, d) => Math.round(v * d) / d;

/** The wire format text of a model: coordinates to 0.1 px, times to 0.1 ms. */
export function serializeModel(model) {
  return JSON.stringify({
    version: FORMAT_VERSION,
    canvas: { width: model.width, height: model.height },
    strokes: model.strokes.map((s) => ({
      points: s.points.map((p) => [round(p[0], 10), round(p[1], 10), round(p[2], 10)]),
      role: s.role || "camera",
    })),
  });
}

/** Total number of points of a model. */
export function countPoints(model) {
  return model.strokes.reduce((n, s) => n + s.points.length, 0);
}

/** The model resized to a new canvas: points scaled per axis (same relative position on the image). */
export function rescaleModel(model, width, height) {
  const sx = width / model.width;
  const sy = height / model.height;
  return {
    width,
    height,
    strokes: model.strokes.map((s) => ({ ...s, points: s.points.map((p) => [p[0] * sx, p[1] * sy, p[2]]) })),
  };
}

/**
 * Letterboxed fit of an image of size (iw, ih) into a box (bw, bh): {x, y, w, h, scale} in box units.
 */
export function fitRect(bw, bh, iw, ih) {
  const scale = Math.max(Math.min(bw / iw, bh / ih), 1e-9);
  const w = iw * scale;
  const h = ih * scale;
  return { x: (bw - w) / 2, y: (bh - h) / 2, w, h, scale };
}

/**
 * A pointer position (clientX, clientY) to image pixels, through the element's bounding rect (which already includes
 * any CSS transform such as the graph zoom) and the letterboxed fit of the image.
 */
export function clientToImage(clientX, clientY, rect, iw, ih) {
  const f = fitRect(rect.width, rect.height, iw, ih);
  return [(clientX - rect.left - f.x) / f.scale, (clientY - rect.top - f.y) / f.scale];
}

/** True when the stroke has two points further apart than eps (what the validator needs of a camera stroke). */
export function hasDistinctPoints(points, eps = 1e-3) {
  if (points.length < 2) return false;
  const [x0, y0] = points[0];
  return points.some((p) => Math.abs(p[0] - x0) > eps || Math.abs(p[1] - y0) > eps);
}

/**
 * Display smoothing: a centred moving average of x, y over `radius` neighbours each side, the end points kept.
 * Returns [[x, y], ...].
 */
export function smoothPath(points, radius = 3) {
  const n = points.length;
  if (n < 3 || radius < 1) return points.map((p) => [p[0], p[1]]);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.min(radius, i, n - 1 - i);
    let sx = 0;
    let sy = 0;
    for (let j = i - r; j <= i + r; j++) {
      sx += points[j][0];
      sy += points[j][1];
    }
    out[i] = [sx / (2 * r + 1), sy / (2 * r + 1)];
  }
  return out;
}

/**
 * Arrowhead at the end of a path: the two barb end points for a head of length `len` (same units as the path),
 * pointing along the direction from the point about `len` back along the path to the last point. Null if degenerate.
 */
export function arrowHead(path, len, spreadDeg = 28) {
  const n = path.length;
  if (n < 2) return null;
  const tip = path[n - 1];
  let k = n - 2;
  while (k > 0 && Math.hypot(tip[0] - path[k][0], tip[1] - path[k][1]) < len) k--;
  const dx = tip[0] - path[k][0];
  const dy = tip[1] - path[k][1];
  const d = Math.hypot(dx, dy);
  if (!(d > 0)) return null;
  const a = Math.atan2(dy, dx);
  const s = (spreadDeg * Math.PI) / 180;
  return {
    tip,
    left: [tip[0] - len * Math.cos(a - s), tip[1] - len * Math.sin(a - s)],
    right: [tip[0] - len * Math.cos(a + s), tip[1] - len * Math.sin(a + s)],
  };
}

/**
 * The image a LoadImage-style widget value names, as /view query parameters: "sub/dir/name.png [input]" ->
 * {filename: "name.png", subfolder: "sub/dir", type: "input"}. Null for an empty or non-string value.
 */
export function viewParams(value) {
  if (typeof value !== "string") return null;
  let v = value.trim();
  let type = "input";
  const m = v.match(/^(.*?)\s*\[(input|output|temp)\]$/);
  if (m) {
    v = m[1];
    type = m[2];
  }
  if (!v) return null;
  const i = v.lastIndexOf("/");
  return { filename: v.slice(i + 1), subfolder: i >= 0 ? v.slice(0, i) : "", type };
}

