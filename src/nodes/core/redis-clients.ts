import { createClient } from "redis";
import type { RedisState } from "./redis-state";
import type { ScaleOutSettings } from "./server-settings";
import { isThenable } from "./with-timeout";

/** The longest wait between two connection attempts, in ms. */
export const RECONNECT_CAP_MS = 2000;

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

/** The parts of a node-redis client this package uses; the adapters use more. */
export interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: "error", listener: (err: unknown) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
  connect(): Promise<unknown>;
  destroy(): void;
  unref(): void;
  duplicate(overrides?: Record<string, unknown>): RedisClient;
}

type Method = (...args: unknown[]) => unknown;

/** A client's methods by name, to wrap them. */
const methodsOf = (client: RedisClient): Record<string, Method> => client as unknown as Record<string, Method>;

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

const noop = (): void => undefined;

/** What the owner of the clients hears of them, and how it takes part in the commands of the publishing one. */
export interface ClientHooks {
  /** Sends a command of the publishing client (`send` turns a throw into a rejection); returns what the adapter gets. */
  sendOnPub(send: () => unknown): unknown;
  /** A command that carried a message for the other instances failed. */
  lost(): void;
  /** A client's connection attempt failed: `status()` may have changed. */
  failed(): void;
  /** A client (re)connected: `status()` may have changed. */
  ready(client: RedisClient): void;
}

/**
 * The node-redis clients behind one adapter: the publishing client, made here, and the duplicates the
 * adapters make of it (made the same way through its `duplicate()`).
 *
 * Socket.IO's Redis adapters fire most commands without awaiting them, and node-redis emits "error"
 * for every failed connection attempt: either would crash Node-RED while Redis is down. So every
 * client has an "error" listener and every command the adapters send has its rejection observed. The
 * publishing client does not queue commands while offline: a message for the other instances fails at
 * once and is counted. The receiving clients queue their few commands, so subscriptions come back on
 * reconnect. Clients retry forever, with a capped backoff.
 */
export class RedisClients {
  /** The publishing client, the one handed to the adapter. */
  readonly pub: RedisClient;
  /** The publishing client's own `sendCommand`, taken before it is wrapped. */
  private readonly sendRaw: Method;
  private readonly all = new Set<RedisClient>();
  /** Clients whose last connection attempt failed, with the reason. */
  private readonly failing = new Map<RedisClient, string>();
  private closed = false;

  constructor(
    settings: ScaleOutSettings,
    private readonly hooks: ClientHooks,
  ) {
    const pub = createClient({
      url: settings.url,
      username: settings.username,
      password: settings.password,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries: number) => reconnectDelay(retries) },
    }) as unknown as RedisClient;
    this.sendRaw = methodsOf(pub).sendCommand;
    this.pub = this.prepare(pub);
  }

  /** Whether the publishing client is connected. */
  get pubReady(): boolean {
    return this.pub.isReady;
  }

  /** A PING on the publishing client, sent as the adapters' commands are (through `hooks.sendOnPub`). */
  ping(): unknown {
    return methodsOf(this.pub).sendCommand(["PING"]);
  }

  /** A PING on the publishing client around `hooks.sendOnPub`: a probe that hook must not refuse. */
  probe(): PromiseLike<unknown> {
    return Promise.resolve(this.sendRaw.call(this.pub, ["PING"]));
  }

  /** Starts connecting the publishing client. */
  connect(): void {
    void this.pub.connect();
  }

  /** Unreachable while any client's last attempt failed (with the reason); connecting while one is not ready yet. */
  status(): [RedisState, string | undefined] {
    let state: RedisState = "connected";
    for (const client of this.all) {
      if (client.isReady || (!client.isOpen && !this.failing.has(client))) continue;
      const failure = this.failing.get(client);
      if (failure !== undefined) return ["unreachable", failure];
      state = "connecting";
    }
    return [state, undefined];
  }

  /** Closes every client; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const client of this.all) {
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
    this.all.add(client);
    client.on("error", (err: unknown) => {
      if (this.closed || client.isReady) return;
      this.failing.set(client, reasonOf(err));
      this.hooks.failed();
    });
    client.on("ready", () => {
      this.failing.delete(client);
      this.hooks.ready(client);
    });
    const methods = methodsOf(client);
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

  /** Runs a command and observes its rejection; a failed publish is a message the other instances never get. */
  private observe(client: RedisClient, name: string, run: () => unknown): unknown {
    const send = (): unknown => {
      try {
        return run();
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const result = client === this.pub ? this.hooks.sendOnPub(send) : send();
    if (isThenable(result)) {
      result.then(undefined, () => {
        if (!this.closed && PUBLISHING.has(name)) this.hooks.lost();
      });
    }
    return result;
  }
}
