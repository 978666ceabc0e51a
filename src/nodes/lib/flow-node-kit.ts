import type { Node, NodeAPI, NodeDef, NodeStatus } from "node-red";
import { registerNode, type EditorSettings } from "./node-type";
import { failed, StatusThrottle } from "./node-status";
import { failureOf, statusText } from "./wording";

/** How long a closing node still handles messages that were already on their way to it. */
export const IN_FLIGHT_GRACE_MS = 20;

/**
 * What every flow node of the package sets up: a throttled status, cleanups that run when the node
 * closes (its close handler always calls done), and the house way of reporting bad input: a short
 * red status, and the whole sentence for the log and the Catch node.
 *
 * @example
 * registerFlowNode<MyDef>(RED, "socket-io-x", (node, def, kit) => {
 *   kit.onClose(unsubscribe);
 *   node.on("input", (msg, send, done) => { try { ...; kit.succeeded(); done(); } catch (e) { kit.fail(e, done); } });
 * });
 */
export class FlowNodeKit {
  readonly status: StatusThrottle;
  private readonly cleanups: Array<() => void> = [];
  private showingError = false;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
  ) {
    this.status = new StatusThrottle(node);
    node.on("close", (_removed: boolean, done: () => void) => {
      for (const cleanup of this.cleanups) cleanup();
      this.status.stop();
      // Node-RED drops a msg that reaches a node once its close is done. Messages a deploy finds
      // already on their way (on -> room -> emit) still get handled during this short grace.
      setTimeout(done, IN_FLIGHT_GRACE_MS);
    });
  }

  /** Runs `fn` when the node closes. */
  onClose(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /**
   * A msg could not be handled: a short red status, and `done` with the sentence so that Catch nodes
   * get it. Node-RED takes a string there, as core nodes give it (json, join, batch): the Catch node
   * and the debug sidebar show it as plain text. An Error object shows in the sidebar as an object,
   * and its name ("Error: ") in front of the Catch node's message.
   * @param status the short status (a key under `status` of the server node's catalog) when the
   *   error's own is not the point, e.g. "badSetting" for a msg that meets settings that cannot work
   */
  fail(err: unknown, done: (err?: Error) => void, status?: string): void {
    const failure = failureOf(err);
    this.showingError = true;
    this.status.now(failed(statusText(this.RED, status ?? failure.status)));
    done(failure.text as unknown as Error);
  }

  /** A msg was handled: clears the red status an earlier msg left. */
  succeeded(): void {
    if (!this.showingError) return;
    this.showingError = false;
    this.status.now({});
  }

  /** Shows a status of the node's own (e.g. server up), unless a msg's error is on show. */
  show(status: NodeStatus): void {
    if (!this.showingError) this.status.now(status);
  }

  /** Settings that cannot work: a red "bad setting" status and one line in the log, at deploy. */
  refuse(err: unknown): void {
    this.status.now(failed(statusText(this.RED, "badSetting")));
    this.node.error(failureOf(err).text);
  }
}

/**
 * Registers a flow node type. `setup` is the body of its constructor: it gets the node (created),
 * its settings from the flow and its kit. `editor` values are exported to the edit dialog.
 */
export function registerFlowNode<D extends NodeDef>(
  RED: NodeAPI,
  type: string,
  setup: (node: Node, def: D, kit: FlowNodeKit) => void,
  editor?: EditorSettings,
): void {
  registerNode<Node, D>(RED, type, (node, def) => setup(node, def, new FlowNodeKit(RED, node)), { editor });
}
