import type { Logger } from "./logger";
import { Term, type WordValue } from "./problem";
import { RateLimitedReport } from "./rate-limited-report";
import { reasonOf } from "./redis-clients";
import { isThenable } from "./with-timeout";

/** Adapter methods whose Promise Socket.IO drops (or that run on a Redis message): a rejection must not go unhandled. */
const ADAPTER_METHODS = [
  "broadcast",
  "broadcastWithAck",
  "addSockets",
  "delSockets",
  "disconnectSockets",
  "serverSideEmit",
  "persistSession",
  "close",
  "onrequest",
  "onmessage",
];

/** What the guard asks of the link to Redis. */
export interface GuardedLink {
  /** True while messages can be published to the other instances. */
  readonly reachable: boolean;
  /** Counts a message for the other instances that was not sent. */
  countUndelivered(): void;
}

type Method = (...args: unknown[]) => unknown;
type Ack = (err: Error, responses: unknown[]) => void;

/**
 * Observes the rejection of every Promise a Redis adapter's methods return, so none goes unhandled.
 * While Redis is unreachable a rejection is a message the other instances did not get, and counted as
 * such; otherwise it is a failure of the adapter itself, logged in one rate-limited error line.
 */
export class AdapterGuard {
  private readonly failures: RateLimitedReport;
  private lastFailure: WordValue = "";
  private stopped = false;

  /** @param reportIntervalMs the shortest time between two log lines about failures */
  constructor(
    private readonly link: GuardedLink,
    log: Logger,
    reportIntervalMs: number,
  ) {
    this.failures = new RateLimitedReport((count) => {
      log.error("redis.adapterFailed", { count, last: this.lastFailure });
    }, reportIntervalMs);
  }

  /** Wraps the adapter's methods in place; returns the adapter. */
  wrap(adapter: Record<string, unknown>): Record<string, unknown> {
    for (const name of ADAPTER_METHODS) {
      const method = adapter[name];
      if (typeof method !== "function") continue;
      adapter[name] = (...args: unknown[]) => {
        // serverSideEmit([event, ...args, ack]): the ack hears of a failure at once instead of after a timeout.
        const first = args[0];
        const last: unknown = name === "serverSideEmit" && Array.isArray(first) ? first[first.length - 1] : undefined;
        const result = (method as Method).apply(adapter, args);
        if (isThenable(result)) {
          result.then(undefined, (err: unknown) => {
            if (typeof last === "function") (last as Ack)(err as Error, []);
            this.failed(name, err);
          });
        }
        return result;
      };
    }
    return adapter;
  }

  /** Writes what is still counted and stops. */
  stop(): void {
    this.stopped = true;
    this.failures.stop();
  }

  private failed(operation: string, err: unknown): void {
    if (this.stopped) return;
    // While Redis is down, that is the reason: a message the other instances did not get.
    if (!this.link.reachable) {
      this.link.countUndelivered();
      return;
    }
    this.lastFailure = new Term("core.redis.adapterFailure", { operation, reason: reasonOf(err) });
    this.failures.add();
  }
}
