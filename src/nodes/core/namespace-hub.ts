import type { EventEmitter } from "node:events";
import type { Namespace, Socket } from "socket.io";
import { takeAck } from "./ack-once";
import { ConnectAttempts } from "./connect-attempts";
import type { DeployGate } from "./deploy-gate";
import {
  clientArguments,
  EventRouter,
  RESERVED_INSTANCE_EVENTS,
  ROOM_EVENTS,
  type RoomEvent,
  type Subscriber,
  type Topic,
} from "./event-router";
import { EventBucket, type EventLimit } from "./event-rate-limit";
import type { Logger } from "./logger";
import { MiddlewareChain } from "./middleware-chain";
import { RateLimitedReport } from "./rate-limited-report";
import { SocketHandle } from "./socket-handle";

/** What a hub limits per socket and connection. */
export interface HubLimits {
  /** Events per second each socket may send; undefined for no limit. */
  events?: EventLimit;
}

// What the hub keeps on a Socket.IO socket: its handle, and its event bucket when events are limited.
const HANDLE = Symbol("socketHandle");
const BUCKET = Symbol("eventBucket");
type Tagged = Socket & { [HANDLE]?: SocketHandle; [BUCKET]?: EventBucket };

/** Socket.IO's session store, as far as the hub wraps it (the in-memory one keeps sessions in a Map). */
interface SessionStore {
  restoreSession(pid: string, offset: string): Promise<{ sid: string } | null> | null;
  sessions?: Map<string, unknown>;
}

/**
 * Everything the package hangs on one Socket.IO namespace, attached exactly once: one `use()` that
 * runs the middleware chain, one connection listener, a fixed set of listeners per socket feeding
 * the event router, the adapter's room events, and one listener per instance event name.
 */
export class NamespaceHub {
  readonly router: EventRouter;
  readonly chain: MiddlewareChain;
  /** Sockets inside a middleware flow: not in `nsp.sockets` yet, but msg.socket must reach them. */
  private readonly pending = new Map<string, Socket>();
  private readonly countWatchers = new Set<(count: number) => void>();
  /** Names of the instance events the namespace already listens for: one listener per name. */
  private readonly instanceEvents = new Set<string>();
  /** Connections' attempts to join this namespace: one at a time each. */
  private readonly attempts: ConnectAttempts;
  /** Session ids being restored right now: a session is handed out once. */
  private readonly restoring = new Set<string>();
  private readonly dropped: RateLimitedReport;
  private readonly flooded: RateLimitedReport;

  constructor(
    readonly nsp: Namespace,
    private readonly serverKey: string,
    gate: DeployGate,
    log: Logger,
    private readonly limits: HubLimits = {},
  ) {
    this.router = new EventRouter(gate, log);
    this.chain = new MiddlewareChain(gate);
    const namespace = nsp.name;
    const limit = { rate: limits.events?.rate ?? 0, burst: limits.events?.burst ?? 0 };
    this.dropped = new RateLimitedReport((count) => log.warn("hub.rateDropped", { count, ...limit, namespace }));
    this.flooded = new RateLimitedReport((count) => log.warn("hub.rateDisconnected", { count, ...limit, namespace }));
    this.attempts = new ConnectAttempts(namespace, log);
    this.guardSessions(nsp.adapter as unknown as SessionStore);
    nsp.use((socket, next) => this.attempts.admit(socket, next, () => this.check(socket)));
    nsp.on("connection", (socket: Socket) => this.connected(socket));
    for (const name of ROOM_EVENTS) {
      nsp.adapter.on(name, (room: string, id?: string) => this.roomEvent(name, room, id));
    }
  }

  get name(): string {
    return this.nsp.name;
  }

  get clientCount(): number {
    return this.nsp.sockets.size;
  }

  /**
   * Subscribes to a topic of this namespace; returns the function that unsubscribes. For an instance
   * event, the namespace gets one listener for its name, shared by every subscriber.
   */
  subscribe(topic: Topic, fn: Subscriber): () => void {
    if (topic.kind === "instance") this.listenForInstanceEvent(topic.name);
    return this.router.subscribe(topic, fn);
  }

  /** Calls `fn` with the client count whenever it changes; returns the function that stops it. */
  watchCount(fn: (count: number) => void): () => void {
    this.countWatchers.add(fn);
    return () => {
      this.countWatchers.delete(fn);
    };
  }

  /** A connected socket, or one still inside a middleware flow. */
  findSocket(id: string): Socket | undefined {
    return this.nsp.sockets.get(id) ?? this.pending.get(id);
  }

  /** The one handle of a socket, made on first use (and kept on the socket). */
  handleOf(socket: Socket): SocketHandle {
    const tagged = socket as Tagged;
    return (tagged[HANDLE] ??= new SocketHandle(this.serverKey, socket));
  }

  /** Writes what the reports still count (the server is closing). */
  close(): void {
    this.router.clear();
    this.dropped.stop();
    this.flooded.stop();
    this.attempts.stop();
  }

  /**
   * Runs the middleware chain for a connection attempt, the socket reachable meanwhile; undefined
   * when there is nothing to run.
   */
  private check(socket: Socket): Promise<Error | undefined> | undefined {
    if (this.chain.size === 0 && this.router.gateOpen) return undefined;
    this.pending.set(socket.id, socket);
    return this.chain
      .run(this.handleOf(socket))
      .catch((err: Error) => err)
      .then((refusal) => {
        this.pending.delete(socket.id);
        return refusal;
      });
  }

  /**
   * Connection-state recovery hands a session out once, and never while a socket with its id is
   * connected or being admitted: a replayed pid/offset gets a new socket, which the middleware sees.
   */
  private guardSessions(store: SessionStore): void {
    if (typeof store.restoreSession !== "function") return;
    const restore = store.restoreSession.bind(store);
    store.restoreSession = async (pid, offset) => {
      if (this.restoring.has(pid)) return null;
      this.restoring.add(pid);
      try {
        const session = await restore(pid, offset);
        if (!session) return null;
        // The in-memory store keeps a session after restoring it; the Redis Streams store deletes it.
        store.sessions?.delete(pid);
        return this.findSocket(session.sid) ? null : session;
      } finally {
        this.restoring.delete(pid);
      }
    };
  }

  /**
   * A socket joined. Its listeners are the hub's own functions, shared by every socket (`this` is
   * the socket), and what they need per socket is kept on it: no closures per connection.
   */
  private connected(socket: Socket): void {
    this.attempts.connected(socket);
    const handle = this.handleOf(socket);
    if (this.limits.events) (socket as Tagged)[BUCKET] = new EventBucket(this.limits.events);
    this.router.route({ kind: "lifecycle", name: "connection", socket: handle, args: [] });
    socket.onAny(this.listeners.event);
    socket.on("disconnecting", this.listeners.disconnecting);
    socket.on("disconnect", this.listeners.disconnect);
    this.countChanged();
  }

  /** The listeners every socket of the namespace shares. */
  private readonly listeners = ((hub: NamespaceHub) => ({
    event(this: Socket, event: string, ...args: unknown[]): void {
      hub.clientEvent(this, event, args);
    },
    disconnecting(this: Socket, reason: string): void {
      const rooms = [...this.rooms];
      const handle = hub.handleOf(this);
      hub.router.route({ kind: "lifecycle", name: "disconnecting", socket: handle, args: [], reason, rooms });
    },
    disconnect(this: Socket, reason: string): void {
      const handle = hub.handleOf(this);
      SocketHandle.retire(handle, this);
      hub.router.route({ kind: "lifecycle", name: "disconnect", socket: handle, args: [], reason });
      hub.countChanged();
    },
  }))(this);

  private clientEvent(socket: Socket, event: string, args: unknown[]): void {
    const bucket = (socket as Tagged)[BUCKET];
    if (bucket) {
      const verdict = bucket.take();
      if (verdict !== "allow") {
        this.dropped.add();
        if (verdict === "disconnect" && socket.connected) {
          this.flooded.add();
          socket.disconnect(true);
        }
        return;
      }
    }
    const ack = takeAck(args);
    const handle = this.handleOf(socket);
    this.router.route({ kind: "client", name: String(event), socket: handle, args: clientArguments(args), ack });
  }

  /**
   * Socket.IO hands a `serverSideEmit` of another instance to the namespace's own listeners, with a
   * callback last when the sender waits for an answer. Names come from node settings only.
   */
  private listenForInstanceEvent(name: string): void {
    if (this.instanceEvents.has(name) || RESERVED_INSTANCE_EVENTS.includes(name)) return;
    this.instanceEvents.add(name);
    const router = this.router;
    (this.nsp as unknown as EventEmitter).on(name, (...args: unknown[]) => {
      const ack = takeAck(args);
      router.route({ kind: "instance", name, args: clientArguments(args), ack });
    });
  }

  private roomEvent(name: RoomEvent, room: string, id?: string): void {
    const socket = id === undefined ? undefined : this.findSocket(id);
    const privateRoom = id === undefined ? this.findSocket(room) !== undefined : room === id;
    this.router.route({
      kind: "room",
      name,
      room,
      privateRoom,
      socket: socket ? this.handleOf(socket) : undefined,
      args: [id === undefined ? { room } : { room, socketId: id }],
    });
  }

  private countChanged(): void {
    const count = this.clientCount;
    for (const fn of this.countWatchers) fn(count);
  }
}
