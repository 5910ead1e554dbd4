// Draw to Video: canvas drawing and styles of the stroke widget (pure functions of a 2D context; no side effects on
// import). Everything is drawn in image pixels: the caller sets the context's transform to the letterboxed fit and
// passes `px`, one CSS pixel in image units, so lines keep their on-screen width at any zoom.
import { arrowHead, smoothPath } from "./stroke_model.js";

export const STROKE_COLOURS = Object.freeze(["#ffb020", "#40c8ff", "#ff5db1", "#7cff6b", "#c49bff"]);

/** The colour of the i-th stroke. */
export function strokeColour(i) {
  return STROKE_COLOURS[i % STROKE_COLOURS.length];
}

export const STROKE_WIDGET_CSS = `
.dtv-stroke{display:flex;flex-direction:column;gap:4px;width:100%;height:100%;box-sizing:border-box;
  font:12px/1.3 sans-serif;color:var(--input-text,#ddd)}
.dtv-stroke .dtv-bar{display:flex;gap:4px;align-items:center;flex:0 0 auto}
.dtv-stroke button{background:var(--comfy-input-bg,#222);color:inherit;border:1px solid var(--border-color,#555);
  border-radius:4px;padding:2px 8px;cursor:pointer;font:inherit}
.dtv-stroke button:disabled{opacity:.4;cursor:default}
.dtv-stroke .dtv-stage{position:relative;flex:1 1 auto;min-height:60px}
.dtv-stroke canvas.dtv-canvas{position:absolute;inset:0;width:100%;height:100%;touch-action:none;cursor:crosshair;
  outline:none;border-radius:4px;background:#111}
.dtv-stroke .dtv-stage.dtv-focus canvas.dtv-canvas{box-shadow:0 0 0 2px #4a90e2}
.dtv-stroke input.dtv-keys{position:absolute;left:0;top:0;width:1px;height:1px;opacity:0;border:0;padding:0;
  pointer-events:none}
.dtv-stroke .dtv-foot{display:flex;flex-wrap:wrap-reverse;gap:4px 8px;align-items:center;flex:0 0 auto;
  max-height:240px;overflow:hidden}
.dtv-stroke .dtv-preview{width:384px;max-width:100%;aspect-ratio:2/1;height:auto;object-fit:contain;
  border:1px solid #444;border-radius:3px;visibility:hidden;flex:0 1 384px;cursor:zoom-in}
.dtv-stroke .dtv-text{flex:1 1 110px;min-width:0;overflow:hidden}
.dtv-stroke img.dtv-big-preview{position:absolute;inset:0;width:100%;height:100%;object-fit:contain;display:none;
  background:#181a1e;border-radius:4px;cursor:zoom-out}
.dtv-stroke.dtv-big img.dtv-big-preview{display:block}
.dtv-stroke.dtv-big .dtv-foot .dtv-preview{display:none}
.dtv-stroke button.dtv-on{background:#2a4f7a;color:#fff}
.dtv-stroke .dtv-read{display:flex;align-items:center;gap:6px;min-width:0;min-height:20px}
.dtv-stroke .dtv-intent{font-weight:bold;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;min-width:0}
.dtv-stroke[data-state=error] .dtv-intent{color:#ff7070;font-weight:normal}
.dtv-stroke button.dtv-switch{flex:0 0 auto;padding:1px 8px;border-color:#4a90e2;color:#9cc8ff}
.dtv-stroke button.dtv-switch.dtv-on{background:#2a4f7a;color:#fff}
.dtv-stroke button.dtv-switch[hidden]{display:none}
.dtv-stroke[data-state=pending] button.dtv-switch{opacity:.6}
.dtv-stroke .dtv-info{display:block;opacity:.8;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}`;

/** The image, or without one a neutral W x H frame with thirds, its size and `message` (what is wrong). */
export function drawBackdrop(ctx, image, W, H, px, message = "no image wired: connect a Load Image to 'image'") {
  if (image) {
    ctx.drawImage(image, 0, 0, W, H);
    return;
  }
  ctx.fillStyle = "#262a30";
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = "#3a4048";
  ctx.lineWidth = px;
  ctx.beginPath();
  for (const t of [1 / 3, 2 / 3]) {
    ctx.moveTo(W * t, 0);
    ctx.lineTo(W * t, H);
    ctx.moveTo(0, H * t);
    ctx.lineTo(W, H * t);
  }
  ctx.stroke();
  ctx.fillStyle = "#8a929c";
  ctx.font = `${14 * px}px sans-serif`;
  ctx.fillText(`${W}×${H}`, 8 * px, 20 * px);
  // the message, wrapped to the frame's width
  const words = String(message).split(/\s+/).filter(Boolean);
  let line = "", y = 40 * px;
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (line && ctx.measureText(next).width > W - 16 * px) {
      ctx.fillText(line, 8 * px, y);
      line = w;
      y += 18 * px;
    } else line = next;
  }
  if (line) ctx.fillText(line, 8 * px, y);
}

/**
 * One stroke: a dark halo under a coloured line; `decorate` adds display smoothing, a start dot and an arrowhead
 * (finished strokes), without it the raw polyline is drawn (the stroke being drawn).
 */
export function drawStroke(ctx, points, colour, px, decorate) {
  if (!points.length) return;
  const path = decorate ? smoothPath(points, 3) : points;
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  const trace = () => {
    ctx.beginPath();
    ctx.moveTo(path[0][0], path[0][1]);
    for (let i = 1; i < path.length; i++) ctx.lineTo(path[i][0], path[i][1]);
  };
  trace();
  ctx.strokeStyle = "rgba(0,0,0,0.65)";
  ctx.lineWidth = 6 * px;
  ctx.stroke();
  trace();
  ctx.strokeStyle = colour;
  ctx.lineWidth = 3 * px;
  ctx.stroke();
  if (!decorate) return;
  ctx.beginPath();
  ctx.arc(path[0][0], path[0][1], 5 * px, 0, 2 * Math.PI);
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.lineWidth = 1.5 * px;
  ctx.strokeStyle = "#000";
  ctx.stroke();
  const head = arrowHead(path, 16 * px);
  if (!head) return;
  ctx.beginPath();
  ctx.moveTo(head.left[0], head.left[1]);
  ctx.lineTo(head.tip[0], head.tip[1]);
  ctx.lineTo(head.right[0], head.right[1]);
  ctx.closePath();
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.stroke();
}
