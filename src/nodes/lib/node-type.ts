import type { Node, NodeAPI, NodeDef } from "node-red";

/**
 * Values of the runtime a node's edit dialog needs (event names, targets, actions), by setting name:
 * the editor reads each as RED.settings.<name>, so that the HTML never copies them. Every name must
 * start with the camel-cased type ("socketIoOn..." for socket-io-on): else Node-RED drops the type's
 * settings, with a warning in its log.
 */
export type EditorSettings = Record<string, unknown>;

/** What a node type may register besides its constructor. */
export interface NodeTypeOptions {
  /** Kept out of the flow file (flows_cred.json, encrypted by Node-RED's credentialSecret). */
  credentials?: Record<string, { type: "text" | "password" }>;
  /** Exported to the edit dialog (exportable settings, Node-RED 1.3 on). */
  editor?: EditorSettings;
}

/**
 * Registers a node type. `setup` is the body of its constructor: it gets the node, already created,
 * and its settings from the flow.
 */
export function registerNode<N extends Node, D extends NodeDef>(
  RED: NodeAPI,
  type: string,
  setup: (node: N, def: D) => void,
  options: NodeTypeOptions = {},
): void {
  function NodeOfType(this: N, def: D): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }
  const editor = Object.entries(options.editor ?? {});
  RED.nodes.registerType(type, NodeOfType, {
    credentials: options.credentials,
    settings: editor.length
      ? Object.fromEntries(editor.map(([name, value]) => [name, { value, exportable: true }]))
      : undefined,
  });
}
