import { createAdapter as createPubSubAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import type { Namespace } from "socket.io";
import type { Logger } from "./logger";
import { Problem, Term, type WordValue } from "./problem";
import { RateLimitedReport } from "./rate-limited-report";
import type { ScaleOutSettings } from "./server-settings";

/** Whether the instance reaches the others: "unreachable" comes with a reason. */
export type RedisState = "connecting" | "connected" | "unreachable";

/** The longest wait between two connection attempts, in ms. */
export const RECONNECT_CAP_MS = 2000;

/** How often, at most, the log tells how many messages for other instances were lost. */
export const REPORT_INTERVAL_MS = 10_000;

/**
 * How long the publishing connection may leave a command unanswered before Redis counts as not
 * answering. A Redis that hangs (frozen, or cut off without the connection closing) never refuses
 * anything: without this, the Streams adapter, which delivers locally only after its publish,
 * would hold every local emit until the connection died, minutes later.
 */
export const STALL_MS = 1000;

/** The parts of a node-redis client this module uses; the adapters use more. */
interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  connect(): Promise<unknown>;
  destroy(): void;
  unref(): void;
  duplicate(overrides?: Record<string, unknown>): RedisClient;
}

type Method = (...args: unknown[]) => unknown;

/** Commands the adapters send. Most of them they do not await: each one's rejection is observed here. */
const COMMANDS = [
  "publish",
  "sPublish",
  "xAdd",
  "xRead",
  "xRange",
  "set",
  "sendCommand",
  "subscribe",
  "unsubscribe",
  "pSubscribe",
  "pUnsubscribe",
  "sSubscribe",
  "sUnsubscribe",
];
/** Commands that carry a message to the other instances. */
const PUBLISHING = new Set(["publish", "sPublish", "xAdd"]);
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

const noop = (): void => undefined;
const isThenable = (value: unknown): value is Promise<unknown> =>
  typeof (value as Promise<unknown> | undefined)?.then === "function";

/** Waits between connection attempts: from 50 ms doubling up to the cap, with some jitter. Never gives up. */
export function reconnectDelay(retries: number, capMs = RECONNECT_CAP_MS): number {
  return Math.min(50 * 2 ** Math.min(retries, 16), capMs) + Math.floor(Math.random() * 100);
}

/** A short reason for a connection error (Node's AggregateError of a dual-stack host has no message). */
export function reasonOf(err: unknown): string {
  const e = err as (Error & { code?: string; errors?: unknown[] }) | undefined;
  if (!e) return String(err);
  if (e.message) return e.message;
  if (Array.isArray(e.errors) && e.errors.length > 0) return reasonOf(e.errors[0]);
  return e.code ?? e.name ?? String(err);
}

/**
 * The Redis connections behind one Socket.IO server's adapter, and what the package needs to know
 * about them: whether the other instances can be reached, and how many messages for them were lost.
 *
 * Socket.IO's Redis adapters fire most commands without awaiting them, and node-redis emits
 * "error" for every failed connection attempt: either would crash Node-RED while Redis is down. So
 * every client has an "error" listener, every command the adapters send has its rejection observed,
 * and so has every Promise an adapter method returns. The publishing client does not queue commands
 * while offline: a message for the other instances fails at once and is counted (local clients are
 * served right away, even by the Streams adapter, which waits for the publish before it delivers
 * locally). The receiving clients queue their few commands, so subscriptions come back on reconnect.
 * Clients retry forever, with a capped backoff, and the adapter recovers on its own.
 *
 * @example
 * const link = new RedisAdapterLink(settings.scaleOut, log);
 * const io = new Server({ adapter: link.adapter });
 * link.watch((state, reason) => showStatus(state, reason));
 * // ... when the server closes, after io.close():
 * link.close();
 */
export class RedisAdapterLink {
  /** Socket.IO's `adapter` option. A plain function: Socket.IO calls it with `new`. */
  readonly adapter: (nsp: Namespace) => unknown;
  private readonly pub: RedisClient;
  private readonly clients = new Set<RedisClient>();
  /** Clients whose last connection attempt failed, with the reason. */
  private readonly failing = new Map<RedisClient, string>();
  private readonly watchers = new Set<(state: RedisState, reason?: WordValue) => void>();
  private readonly undelivered: RateLimitedReport;
  private readonly adapterFailures: RateLimitedReport;
  private lastAdapterFailure: WordValue = "";
  private stateNow: RedisState = "connecting";
  private reasonNow: WordValue | undefined;
  private everConnected = false;
  private outageSince: number | undefined;
  private closed = false;
  /** Set while the publishing connection leaves a command unanswered: why. */
  private stalled: Term | undefined;
  private probing = false;
  private readonly heartbeat: NodeJS.Timeout;

  /**
   * @param reportIntervalMs the shortest time between two log lines about lost messages
   * @param stallMs how long a command of the publishing connection may go unanswered
   */
  constructor(
    readonly settings: ScaleOutSettings,
    private readonly log: Logger,
    reportIntervalMs = REPORT_INTERVAL_MS,
    private readonly stallMs = STALL_MS,
  ) {
    this.undelivered = new RateLimitedReport((count) => {
      const reason = this.reasonNow;
      this.log.warn(reason ? "redis.undeliveredBecause" : "redis.undelivered", {
        count,
        url: settings.url,
        ...(reason ? { reason } : {}),
      });
    }, reportIntervalMs);
    this.adapterFailures = new RateLimitedReport((count) => {
      this.log.error("redis.adapterFailed", { count, last: this.lastAdapterFailure });
    }, reportIntervalMs);

    const pub = createClient({
      url: settings.url,
      username: settings.username,
      password: settings.password,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries: number) => reconnectDelay(retries) },
    }) as unknown as RedisClient;
    // Taken before prepare() wraps it: the probe that ends a stall must not be refused by the guard.
    const ping = (pub as unknown as Record<string, Method>).sendCommand;
    this.pub = this.prepare(pub);
    // A PING on the publishing connection once per stall time: a hung Redis shows in the status even
    // when nothing is emitted. While stalled, the PING bypasses the guard and ends the stall when answered.
    this.heartbeat = setInterval(() => this.beat(ping), stallMs);
    this.heartbeat.unref();
    const prefix = settings.prefix;
    let inner: (nsp: Namespace) => unknown;
    if (settings.adapter === "redis") {
      const sub = pub.duplicate();
      inner = createPubSubAdapter(pub, sub, { key: prefix });
      void sub.connect();
    } else {
      // It makes and connects its own reading clients (duplicates). Its ephemeral messages (server-side
      // emits, socket listings) go through pub/sub channels: those are prefixed too.
      inner = createStreamsAdapter(pub, {
        streamName: prefix,
        channelPrefix: prefix,
        sessionKeyPrefix: `${prefix}:session:`,
      });
    }
    void pub.connect();
    const link = this;
    this.adapter = function (nsp: Namespace) {
      return link.guardAdapter(inner(nsp) as unknown as Record<string, unknown>);
    };
  }

  get state(): RedisState {
    return this.stateNow;
  }

  /** Why Redis is unreachable (the last connection error), while it is. */
  get reason(): WordValue | undefined {
    return this.reasonNow;
  }

  /** True while messages can be published to the other instances. */
  get reachable(): boolean {
    return !this.closed && this.pub.isReady && this.stalled === undefined;
  }

  /** Calls `fn` now and on every change of state; returns the function that stops it. */
  watch(fn: (state: RedisState, reason?: WordValue) => void): () => void {
    this.watchers.add(fn);
    fn(this.stateNow, this.reasonNow);
    return () => {
      this.watchers.delete(fn);
    };
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
    const reason = this.reasonNow;
    return reason
      ? new Problem("redis.unreachableBecause", { url: this.settings.url, reason, what })
      : new Problem("redis.unreachable", { url: this.settings.url, what });
  }

  /** Closes every Redis connection; call it after the Socket.IO server has closed. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.watchers.clear();
    this.undelivered.stop();
    this.adapterFailures.stop();
    for (const client of this.clients) {
      // A connection attempt in flight may still complete after destroy(): unref'd, it cannot keep the process alive.
      client.unref();
      if (client.isOpen) {
        try {
          client.destroy();
        } catch {
          // already closed
        }
      }
    }
  }

  /**
   * Makes a client safe to hand to an adapter: tracked for the state, every command's rejection
   * observed, `connect()` never rejecting, and its duplicates (the adapters make their own) the same.
   */
  private prepare(client: RedisClient): RedisClient {
    this.clients.add(client);
    client.on("error", (err: unknown) => {
      if (this.closed || client.isReady) return;
      this.failing.set(client, reasonOf(err));
      this.refresh();
    });
    client.on("ready", () => {
      this.failing.delete(client);
      // A new connection: whatever hung on the old one is gone with it.
      if (client === this.pub) this.stalled = undefined;
      this.refresh();
    });
    const methods = client as unknown as Record<string, Method>;
    for (const name of COMMANDS) {
      const command = methods[name];
      if (typeof command !== "function") continue;
      methods[name] = (...args) => this.observe(client, name, () => command.apply(client, args));
    }
    const multi = methods.multi;
    if (typeof multi === "function") {
      methods.multi = (...args) => {
        const transaction = multi.apply(client, args) as Record<string, Method>;
        const exec = transaction.exec;
        transaction.exec = (...a) => this.observe(client, "exec", () => exec.apply(transaction, a));
        return transaction;
      };
    }
    const connect = client.connect;
    // Resolves once connected; never rejects, and stays pending for a client closed meanwhile, so that an
    // adapter awaiting it (the Streams adapter's reading clients) never starts on a dead client.
    client.connect = () =>
      new Promise((resolve) => {
        connect.call(client).then(() => {
          if (client.isReady) resolve(client);
        }, noop);
      });
    const disconnect = methods.disconnect;
    methods.disconnect = () => {
      if (!client.isOpen) return Promise.resolve();
      try {
        return Promise.resolve(disconnect.call(client)).catch(noop);
      } catch {
        return Promise.resolve();
      }
    };
    const duplicate = client.duplicate;
    // Receiving clients keep an offline queue: their (re)subscriptions wait for the connection, and the
    // Streams adapter's blocking reads wait instead of failing in a loop.
    client.duplicate = (overrides = {}) =>
      this.prepare(duplicate.call(client, { ...overrides, disableOfflineQueue: false }));
    return client;
  }

  /**
   * Runs a command and observes its rejection; a failed publish is a message the other instances
   * never get. On the publishing connection a command fails at once while Redis does not answer, and
   * one left unanswered for the stall time fails then (Redis may still carry it out later).
   */
  private observe(client: RedisClient, name: string, run: () => unknown): unknown {
    let result: unknown;
    if (client === this.pub && this.stalled !== undefined) {
      result = Promise.reject(new Error(String(this.stalled)));
    } else {
      try {
        result = run();
      } catch (err) {
        result = Promise.reject(err);
      }
      if (client === this.pub && isThenable(result)) result = this.withinStallTime(result);
    }
    if (isThenable(result)) {
      result.then(undefined, () => {
        if (!this.closed && PUBLISHING.has(name)) this.countUndelivered();
      });
    }
    return result;
  }

  /** The command's result, or a rejection once it has been unanswered for the stall time (which marks Redis as stalled). */
  private withinStallTime(command: Promise<unknown>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        // After an event loop blocked longer than the stall time, the timer runs before the answer
        // waiting in the socket is read: the verdict waits for the poll phase that reads it.
        setImmediate(() => {
          if (settled) return;
          const reason = new Term("core.redis.noAnswer", { ms: this.stallMs });
          this.stall(reason);
          reject(new Error(String(reason)));
        });
      }, this.stallMs);
      timer.unref();
    });
    const done = (): void => {
      settled = true;
      clearTimeout(timer);
    };
    // The command may still settle after the race is lost: its outcome no longer matters.
    command.then(done, done);
    return Promise.race([command, late]);
  }

  private stall(reason: Term): void {
    if (this.closed || this.stalled !== undefined || !this.pub.isReady) return;
    this.stalled = reason;
    this.refresh();
  }

  /** One heartbeat: a PING through the guard while Redis answers, around it (one at a time) while it does not. */
  private beat(ping: Method): void {
    if (this.closed || this.probing || !this.pub.isReady) return;
    if (this.stalled === undefined) {
      (this.pub as unknown as Record<string, Method>).sendCommand(["PING"]);
      return;
    }
    this.probing = true;
    Promise.resolve(ping.call(this.pub, ["PING"])).then(
      () => {
        this.probing = false;
        if (this.stalled === undefined) return;
        this.stalled = undefined;
        this.refresh();
      },
      () => {
        this.probing = false;
      },
    );
  }

  private guardAdapter(adapter: Record<string, unknown>): unknown {
    for (const name of ADAPTER_METHODS) {
      const method = adapter[name];
      if (typeof method !== "function") continue;
      adapter[name] = (...args: unknown[]) => {
        // serverSideEmit([event, ...args, ack]): the ack hears of a failure at once instead of after a timeout.
        const last =
          name === "serverSideEmit" && Array.isArray(args[0])
            ? (args[0] as unknown[])[(args[0] as unknown[]).length - 1]
            : undefined;
        const result = (method as Method).apply(adapter, args);
        if (isThenable(result)) {
          result.then(undefined, (err: unknown) => {
            if (typeof last === "function") (last as (err: Error, responses: unknown[]) => void)(err as Error, []);
            if (this.closed) return;
            // While Redis is down, that is the reason: a message the other instances did not get.
            if (!this.reachable) {
              this.countUndelivered();
              return;
            }
            this.lastAdapterFailure = new Term("core.redis.adapterFailure", { operation: name, reason: reasonOf(err) });
            this.adapterFailures.add();
          });
        }
        return result;
      };
    }
    return adapter;
  }

  private refresh(): void {
    if (this.closed) return;
    const [state, reason] = this.currentState();
    if (state === this.stateNow) return;
    this.stateNow = state;
    this.reasonNow = reason;
    this.report(state, reason);
    for (const fn of this.watchers) fn(state, reason);
  }

  /** Unreachable while the publishing connection stalls or any client's last attempt failed; connecting while one is not ready yet. */
  private currentState(): [RedisState, WordValue | undefined] {
    if (this.stalled !== undefined && this.pub.isReady) return ["unreachable", this.stalled];
    let state: RedisState = "connected";
    for (const client of this.clients) {
      if (client.isReady || (!client.isOpen && !this.failing.has(client))) continue;
      const failure = this.failing.get(client);
      if (failure !== undefined) return ["unreachable", failure];
      state = "connecting";
    }
    return [state, undefined];
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
