// What the middleware specs share: their flows on one tab, loaded with the Node-RED nodes they use.
import { serverConfig, slowCloseNode, type FlowNode } from "./flow-fixtures";
import { coreNodes, load } from "./helpers";

/** Loads `flow` with Node-RED's function and switch nodes and a node whose close holds a deploy open. */
export const loadFlow = (flow: FlowNode[]): Promise<void> =>
  load(flow, [coreNodes.function, coreNodes.switch, slowCloseNode]);

/**
 * A deployable flow: the server config node plus `nodes` on one tab, placed as the editor places them
 * (Node-RED takes a node without x/y for a config node, and then mishandles rewiring on redeploy).
 */
export function tab(port: number, ...nodes: FlowNode[]): FlowNode[] {
  return [
    { id: "tab", type: "tab", label: "middleware" },
    serverConfig(port),
    ...nodes.map((n) => ({ z: "tab", x: 100, y: 100, ...n })),
  ];
}
