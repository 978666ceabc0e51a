import { debugChannel } from "./debug-channel";
import type { Logger } from "./logger";
import { Term, type WordValue } from "./problem";
import type { ScaleOutSettings } from "./server-settings";

const debug = debugChannel("redis");

/** Whether the instance reaches the others: "unreachable" comes with a reason. */
export type RedisState = "connecting" | "connected" | "unreachable";

/** Hears of every change of state. */
export type RedisStateWatcher = (state: RedisState, reason?: WordValue) => void;

/**
 * The state of the link to Redis, for the nodes' status and the log: the log tells when Redis goes
 * down, when it is back (and after how long), and the first connection; a reconnect after a mere
 * "connecting" says nothing.
 */
export class RedisStateReport {
  private stateNow: RedisState = "connecting";
  private reasonNow: WordValue | undefined;
  private readonly watchers = new Set<RedisStateWatcher>();
  private everConnected = false;
  private outageSince: number | undefined;

  constructor(
    private readonly settings: Pick<ScaleOutSettings, "url" | "adapter">,
    private readonly log: Logger,
  ) {}

  get state(): RedisState {
    return this.stateNow;
  }

  /** Why Redis is unreachable, while it is. */
  get reason(): WordValue | undefined {
    return this.reasonNow;
  }

  /** Calls `fn` now and on every change of state; returns the function that stops it. */
  watch(fn: RedisStateWatcher): () => void {
    this.watchers.add(fn);
    fn(this.stateNow, this.reasonNow);
    return () => {
      this.watchers.delete(fn);
    };
  }

  /** Takes the state now: a change is logged and told to the watchers; the same state again is not. */
  set(state: RedisState, reason: WordValue | undefined): void {
    if (state === this.stateNow) return;
    // Every change, also the reconnects the log leaves out.
    debug(
      "%s: %s -> %s%s",
      this.settings.url,
      this.stateNow,
      state,
      reason === undefined ? "" : ` (${String(reason)})`,
    );
    this.stateNow = state;
    this.reasonNow = reason;
    this.report(state, reason);
    for (const fn of this.watchers) fn(state, reason);
  }

  /** Forgets the watchers. */
  stop(): void {
    this.watchers.clear();
  }

  private report(state: RedisState, reason: WordValue | undefined): void {
    const url = this.settings.url;
    if (state === "unreachable" && this.outageSince === undefined) {
      this.outageSince = Date.now();
      this.log.warn("redis.down", { url, reason: reason ?? "" });
    } else if (state === "connected") {
      const adapter = new Term(`adapter.${this.settings.adapter}`);
      if (this.outageSince !== undefined) {
        const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
        this.log.log?.("redis.back", { url, seconds, adapter });
      } else if (!this.everConnected) {
        this.log.log?.("redis.connected", { url, adapter });
      }
      this.everConnected = true;
      this.outageSince = undefined;
    }
  }
}
