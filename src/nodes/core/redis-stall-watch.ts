import { Term } from "./problem";
import { isThenable, withTimeout } from "./with-timeout";

/**
 * How long the publishing connection may leave a command unanswered before Redis counts as not
 * answering. A Redis that hangs (frozen, or cut off without the connection closing) never refuses
 * anything: without this, the Streams adapter, which delivers locally only after its publish,
 * would hold every local emit until the connection died, minutes later.
 */
export const STALL_MS = 1000;

/** The publishing connection, as the watch uses it. */
export interface PublishingConnection {
  /** Whether it is connected: only a live connection can stall. */
  readonly pubReady: boolean;
  /** A PING sent as the adapters' commands are: through `StallWatch.guard`. */
  ping(): unknown;
  /** A PING around the guard: the probe that ends a stall must not be refused by it. */
  probe(): PromiseLike<unknown>;
}

/**
 * Notices a Redis that hangs: the publishing connection stalls once a command has been unanswered for
 * the stall time. While it stalls, its commands fail at once (local clients are served right away,
 * even by the Streams adapter) until a PING is answered again or the connection is replaced.
 *
 * A heartbeat PING once per stall time shows a hung Redis in the status even when nothing is emitted.
 */
export class StallWatch {
  /** Set while the publishing connection leaves a command unanswered: why. */
  private why: Term | undefined;
  private probing = false;
  private stopped = false;
  private readonly heartbeat: NodeJS.Timeout;

  /**
   * @param changed called when a stall starts or ends
   * @param stallMs how long a command of the publishing connection may go unanswered
   */
  constructor(
    private readonly pub: PublishingConnection,
    private readonly changed: () => void,
    private readonly stallMs = STALL_MS,
  ) {
    this.heartbeat = setInterval(() => this.beat(), stallMs);
    this.heartbeat.unref();
  }

  /** Why the publishing connection leaves commands unanswered, while it does. */
  get stalled(): Term | undefined {
    return this.why;
  }

  /**
   * Sends one command of the publishing connection: refused at once while it stalls, failed once it has
   * been unanswered for the stall time, which starts a stall (Redis may still carry it out later).
   */
  guard(send: () => unknown): unknown {
    if (this.why !== undefined) return Promise.reject(new Error(String(this.why)));
    const result = send();
    if (!isThenable(result)) return result;
    return withTimeout(result, this.stallMs, () => this.noAnswer(), { unref: true, afterIo: true });
  }

  /** A new connection: whatever hung on the old one is gone with it. */
  reset(): void {
    this.why = undefined;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
  }

  /** A command went unanswered for the stall time: the stall starts (if it has not already). */
  private noAnswer(): Error {
    const reason = new Term("core.redis.noAnswer", { ms: this.stallMs });
    if (!this.stopped && this.why === undefined && this.pub.pubReady) {
      this.why = reason;
      this.changed();
    }
    return new Error(String(reason));
  }

  /** One heartbeat: a PING through the guard while Redis answers, around it (one at a time) while it does not. */
  private beat(): void {
    if (this.stopped || this.probing || !this.pub.pubReady) return;
    if (this.why === undefined) {
      this.pub.ping();
      return;
    }
    this.probing = true;
    this.pub.probe().then(
      () => {
        this.probing = false;
        if (this.why === undefined) return;
        this.why = undefined;
        this.changed();
      },
      () => {
        this.probing = false;
      },
    );
  }
}
