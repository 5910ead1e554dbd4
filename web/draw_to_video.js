// Draw to Video: the pack's frontend extension. It registers itself with ComfyUI's public extension API only
// (app.registerExtension); node-specific widgets live in their own files next to this one.
import { app } from "../../scripts/app.js";

export const EXTENSION_NAME = "DrawToVideo.Core";
export const NODE_PREFIX = "DTV_";

app.registerExtension({
  name: EXTENSION_NAME,
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (!nodeData?.name?.startsWith(NODE_PREFIX)) return;
    // Pack nodes get a recognisable colour in the graph.
    const onNodeCreated = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      const r = onNodeCreated?.apply(this, arguments);
      this.color = this.color ?? "#2a4858";
      this.bgcolor = this.bgcolor ?? "#1d3340";
      return r;
    };
  },
});
