import type { Node, NodeStatus } from "node-red";

export const ok = (text: string): NodeStatus => ({ fill: "green", shape: "dot", text });
export const waiting = (text: string): NodeStatus => ({ fill: "yellow", shape: "ring", text });
export const failed = (text: string): NodeStatus => ({ fill: "red", shape: "ring", text });

// Status texts come from the locale files and stay short (about 20 characters, as core nodes'):
// the whole story goes to the log and to the error a Catch node gets.

/** The longest status text that fits under a node. */
export const MAX_STATUS = 32;

/**
 * `words(path)` with as much of `path` as fits in MAX_STATUS characters, cut at its end: the start
 * holds the httpNodeRoot the status is there to show. With under 4 characters of it left, `without`.
 */
export function fitPath(path: string, words: (path: string) => string, without: string): string {
  const full = words(path);
  const over = full.length - MAX_STATUS;
  if (over <= 0) return full;
  const keep = path.length - over - 1;
  return keep >= 4 ? words(`${path.slice(0, keep)}…`) : without;
}

/**
 * Sets a node's status at most once per `ms`, always ending on the latest one, and never the same
 * status twice in a row: busy nodes would otherwise flood the editor with status messages.
 */
export class StatusThrottle {
  private last = "";
  private pending: NodeStatus | (() => NodeStatus) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;

  constructor(
    private readonly node: Node,
    private readonly ms = 500,
  ) {}

  /** `status` may be a function: it is called only when the status is really set, so a burst of
   * connections builds (and translates) one text, not one per connection. */
  set(status: NodeStatus | (() => NodeStatus)): void {
    this.pending = status;
    if (this.timer) return;
    const wait = this.lastSent + this.ms - Date.now();
    if (wait <= 0) this.flush();
    else {
      this.timer = setTimeout(() => this.flush(), wait);
      this.timer.unref();
    }
  }

  /** Sets a status at once (errors), dropping any pending one. */
  now(status: NodeStatus): void {
    this.pending = status;
    this.flush();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const status = typeof pending === "function" ? pending() : pending;
    const key = `${status.fill}|${status.shape}|${status.text}`;
    if (key === this.last) return;
    this.last = key;
    this.lastSent = Date.now();
    this.node.status(status);
  }
}
