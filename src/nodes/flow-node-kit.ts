import type { Node, NodeStatus } from "node-red";
import { failed, short, StatusThrottle } from "./node-status";

/** How long a closing node still handles messages that were already on their way to it. */
export const IN_FLIGHT_GRACE_MS = 20;

/**
 * What every flow node of the package sets up: a throttled status, cleanups that run when the node
 * closes (its close handler always calls done), and the house way of reporting bad input.
 *
 * @example
 * const kit = new FlowNodeKit(node);
 * kit.onClose(unsubscribe);
 * node.on("input", (msg, send, done) => { try { ...; kit.succeeded(); done(); } catch (e) { kit.fail(e, done); } });
 */
export class FlowNodeKit {
  readonly status: StatusThrottle;
  private readonly cleanups: Array<() => void> = [];
  private showingError = false;

  constructor(private readonly node: Node) {
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

  /** A msg could not be handled: a red status, and `done(err)` so that Catch nodes get it. */
  fail(err: Error, done: (err?: Error) => void): void {
    this.showingError = true;
    this.status.now(failed(short(err.message)));
    done(err);
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

  /** Settings that cannot work: a red status and one line in the log, at deploy. */
  refuse(message: string): void {
    this.status.now(failed(short(message)));
    this.node.error(message);
  }
}
