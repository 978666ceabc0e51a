import { createAdapter as createPubSubAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import type { Namespace } from "socket.io";
import { AdapterGuard } from "./adapter-guard";
import type { Logger } from "./logger";
import { Problem, type WordValue } from "./problem";
import { RateLimitedReport } from "./rate-limited-report";
import { RedisClients, type RedisClient } from "./redis-clients";
import { RedisStateReport, type RedisState, type RedisStateWatcher } from "./redis-state";
import { STALL_MS, StallWatch } from "./redis-stall-watch";
import type { ScaleOutSettings } from "./server-settings";

// The names other modules and tests import from here, wherever they are defined.
export { reasonOf, reconnectDelay, RECONNECT_CAP_MS } from "./redis-clients";
export type { RedisState } from "./redis-state";
export { STALL_MS };

/** How often, at most, the log tells how many messages for other instances were lost. */
export const REPORT_INTERVAL_MS = 10_000;

/** Makes a namespace's adapter, seen as its methods by name (as the guard wraps them). */
type AdapterFactory = (nsp: Namespace) => Record<string, unknown>;

/**
 * The Socket.IO adapter of the settings on the publishing client. The Redis adapter gets a duplicate
 * of it to subscribe with; the Streams adapter makes and connects its own reading clients (duplicates),
 * and sends its ephemeral messages (server-side emits, socket listings) through pub/sub channels, which
 * are prefixed too.
 */
function adapterOn(pub: RedisClient, settings: ScaleOutSettings): AdapterFactory {
  const prefix = settings.prefix;
  if (settings.adapter === "redis") {
    const sub = pub.duplicate();
    const inner = createPubSubAdapter(pub, sub, { key: prefix });
    void sub.connect();
    return inner as unknown as AdapterFactory;
  }
  return createStreamsAdapter(pub, {
    streamName: prefix,
    channelPrefix: prefix,
    sessionKeyPrefix: `${prefix}:session:`,
  }) as unknown as AdapterFactory;
}

/**
 * The Redis connections behind one Socket.IO server's adapter, and what the package needs to know
 * about them: whether the other instances can be reached, and how many messages for them were lost.
 *
 * It ties together the clients (made safe for adapters that do not await their commands), the stall
 * watch (a Redis that hangs counts as unreachable), the guard of the adapter's own Promises, and the
 * state reported to the nodes and the log. A message for the other instances fails at once while Redis
 * is unreachable and is counted; local clients are served right away. Clients retry forever, and the
 * adapter recovers on its own.
 *
 * @example
 * const link = new RedisAdapterLink(settings.scaleOut, log);
 * const io = new Server({ adapter: link.adapter });
 * link.watch((state, reason) => showStatus(state, reason));
 * // ... when the server closes, after io.close():
 * link.close();
 */
export class RedisAdapterLink {
  /** Socket.IO's `adapter` option. */
  readonly adapter: (nsp: Namespace) => unknown;
  private readonly clients: RedisClients;
  private readonly stall: StallWatch;
  private readonly status: RedisStateReport;
  private readonly guard: AdapterGuard;
  private readonly undelivered: RateLimitedReport;
  private closed = false;

  /**
   * @param reportIntervalMs the shortest time between two log lines about lost messages
   * @param stallMs how long a command of the publishing connection may go unanswered
   */
  constructor(
    readonly settings: ScaleOutSettings,
    log: Logger,
    reportIntervalMs = REPORT_INTERVAL_MS,
    stallMs = STALL_MS,
  ) {
    this.status = new RedisStateReport(settings, log);
    this.undelivered = new RateLimitedReport((count) => {
      const reason = this.status.reason;
      log.warn(reason ? "redis.undeliveredBecause" : "redis.undelivered", {
        count,
        url: settings.url,
        ...(reason ? { reason } : {}),
      });
    }, reportIntervalMs);
    this.clients = new RedisClients(settings, {
      sendOnPub: (send) => this.stall.guard(send),
      lost: () => this.countUndelivered(),
      failed: () => this.refresh(),
      ready: (client) => {
        if (client === this.clients.pub) this.stall.reset();
        this.refresh();
      },
    });
    this.stall = new StallWatch(this.clients, () => this.refresh(), stallMs);
    const guard = new AdapterGuard(this, log, reportIntervalMs);
    this.guard = guard;
    const inner = adapterOn(this.clients.pub, settings);
    this.clients.connect();
    // A plain function, not an arrow: Socket.IO calls it with `new`.
    this.adapter = function (nsp: Namespace) {
      return guard.wrap(inner(nsp));
    };
  }

  get state(): RedisState {
    return this.status.state;
  }

  /** Why Redis is unreachable (the last connection error, or the stall), while it is. */
  get reason(): WordValue | undefined {
    return this.status.reason;
  }

  /** True while messages can be published to the other instances. */
  get reachable(): boolean {
    return !this.closed && this.clients.pubReady && this.stall.stalled === undefined;
  }

  /** Resolves once messages can be published to the other instances, or after `ms` at the latest. */
  publishable(ms: number): Promise<void> {
    if (this.reachable) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stop();
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      // Not reachable now, so the watcher's first call (at once) does not end the wait.
      const stop = this.watch(() => {
        if (this.reachable) done();
      });
    });
  }

  /** Calls `fn` now and on every change of state; returns the function that stops it. */
  watch(fn: RedisStateWatcher): () => void {
    return this.status.watch(fn);
  }

  /** Counts a message for the other instances that was not sent (reported with a rate limit). */
  countUndelivered(n = 1): void {
    this.undelivered.add(n);
  }

  /**
   * An error for an operation that needs the other instances while Redis is unreachable; counted as undelivered.
   * @param what what cannot be done, worded by the caller
   */
  unreachableError(what: WordValue): Problem {
    this.countUndelivered();
    const reason = this.status.reason;
    return reason
      ? new Problem("redis.unreachableBecause", { url: this.settings.url, reason, what })
      : new Problem("redis.unreachable", { url: this.settings.url, what });
  }

  /** Closes every Redis connection; call it after the Socket.IO server has closed. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stall.stop();
    this.status.stop();
    this.undelivered.stop();
    this.guard.stop();
    this.clients.close();
  }

  private refresh(): void {
    if (this.closed) return;
    const stalled = this.stall.stalled;
    // Unreachable while the publishing connection stalls; otherwise as the clients' connections are.
    if (stalled !== undefined && this.clients.pubReady) this.status.set("unreachable", stalled);
    else this.status.set(...this.clients.status());
  }
}
