// Draw to Video: real titles and descriptions for the pack's workflows in ComfyUI's template browser.
//
// ComfyUI lists a pack's workflows/ folder by file name only (GET /workflow_templates answers names), and the
// frontend (1.32.9 and 1.58.1 alike) shows that name as the card's title and, with "_" and "-" made spaces, as its
// description: it reads no title or description for custom-node templates. This extension gives the cards of this
// pack's workflows the titles and one-sentence descriptions of web/lib/templates.js (generated with the workflows by
// scripts/build_workflows.py). It only rewrites the text of cards it recognises by their thumbnail's name and test id
// (`template-workflow-<name>`), and touches nothing else; without such cards it does nothing.
import { app } from "../../scripts/app.js";
import { TEMPLATES } from "./lib/templates.js";

export const EXTENSION_NAME = "DrawToVideo.Templates";

/** The card elements of this pack's templates present in `root`: [element, name] pairs. */
export function findCards(root = document) {
  const out = [];
  for (const name of Object.keys(TEMPLATES)) {
    for (const card of root.querySelectorAll(`[data-testid="template-workflow-${name}"]`)) out.push([card, name]);
  }
  return out;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
  if (el.getAttribute("title") !== text) el.setAttribute("title", text);
}

/** Put the title and description of `name` on one card (its heading and its description paragraph). */
export function labelCard(card, name) {
  const meta = TEMPLATES[name];
  if (!meta) return false;
  const heading = card.querySelector("h3");
  if (!heading) return false;
  setText(heading, meta.title);
  heading.dataset.dtvTemplate = name;
  let desc = card.querySelector("p.dtv-template-desc") ?? card.querySelector("h3 ~ * p, h3 ~ p");
  if (!desc) {
    // the newer frontend shows no description line for custom-node templates: add one under the heading
    desc = document.createElement("p");
    desc.className = "m-0 line-clamp-2 text-sm text-muted dtv-template-desc";
    heading.insertAdjacentElement("afterend", desc);
  }
  desc.classList.add("dtv-template-desc");
  setText(desc, meta.description);
  return true;
}

export function labelAll(root = document) {
  let n = 0;
  for (const [card, name] of findCards(root)) n += labelCard(card, name) ? 1 : 0;
  return n;
}

app.registerExtension({
  name: EXTENSION_NAME,
  setup() {
    if (typeof MutationObserver !== "function") return;
    let queued = false;
    const run = () => {
      queued = false;
      try {
        labelAll();
      } catch (err) {
        console.warn("[draw-to-video] template labels:", err);
      }
    };
    // cheap per mutation: one check per animation frame, and only template cards are looked for
    new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(run);
    }).observe(document.body, { childList: true, subtree: true });
  },
});
