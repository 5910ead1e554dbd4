// Draw to Video: the runner-up reading of a stroke in the drawing widget (pure functions of the route's answer; no
// DOM, no ComfyUI, no side effects on import).
//
// POST /draw_to_video/analyze answers {intent: {intent, confidence, runner_up, runner_up_confidence, ...}, label,
// runner_up_preset, trajectory: {preset, ...}, ...}. When the classifier's top two classes are close, `label` reads
// "circle, or spiral?" and `runner_up_preset` names the preset 'auto' would pick for the runner-up class; the widget
// then offers one click that sets the node's preset to it, and a second click that goes back to 'auto'.

export const AUTO = "auto";

const pct = (p) => `${Math.round(100 * (Number.isFinite(p) ? p : 0))}%`;

/** The runner-up class of an answer, or null when the top two classes are not close. */
export function runnerUp(answer) {
  const r = answer?.intent?.runner_up;
  return typeof r === "string" && r ? r : null;
}

/**
 * What the widget shows for an answer's intent: {text, title}. With a runner-up the text is the route's label
 * ("circle, or spiral?") and the title gives both probabilities; without one it is the class and its confidence.
 */
export function intentText(answer) {
  const intent = answer?.intent ?? {};
  const kind = typeof intent.intent === "string" ? intent.intent : "?";
  const second = runnerUp(answer);
  if (!second) return { text: `${kind} ${pct(intent.confidence)}`, title: `${kind}: ${pct(intent.confidence)} sure` };
  const label = typeof answer.label === "string" && answer.label ? answer.label : `${kind}, or ${second}?`;
  return {
    text: label,
    title: `${kind} ${pct(intent.confidence)}, ${second} ${pct(intent.runner_up_confidence)}: the two readings are close`,
  };
}

/**
 * The one-click switch for an answer, given the node's current preset and the preset combo's values (optional):
 * null when there is nothing to offer, else {text, title, next, active}, where `next` is the preset a click sets.
 *
 * - preset 'auto' and a runner-up whose preset differs from auto's pick: "use spiral" -> the runner-up's preset;
 * - preset already the runner-up's preset: "auto" -> back to 'auto' (`active` is true: the switch is on);
 * - any other preset the user chose by hand: null (the reading does not decide the move then).
 */
export function switchControl(answer, preset, presetValues = null) {
  const second = runnerUp(answer);
  const target = answer?.runner_up_preset;
  if (!second || typeof target !== "string" || !target || target === AUTO) return null;
  if (Array.isArray(presetValues) && !presetValues.includes(target)) return null;
  const kind = answer?.intent?.intent ?? "?";
  if (preset === target) {
    return { text: "back to auto", title: `Back to auto: read the stroke as ${kind}`, next: AUTO, active: true };
  }
  if (preset !== AUTO) return null;
  if (answer?.trajectory?.preset === target) return null; // both readings give the same move
  return { text: `use ${second}`, title: `Read the stroke as ${second}: camera ${target}`, next: target, active: false };
}
