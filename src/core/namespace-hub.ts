import type { EventEmitter } from "node:events";
import type { Namespace, Socket } from "socket.io";
import type { DeployGate } from "./deploy-gate";
import { clientArguments, EventRouter, RESERVED_INSTANCE_EVENTS, ROOM_EVENTS, type RoomEvent, type Subscriber, type Topic } from "./event-router";
import type { Logger } from "./logger";
import { MiddlewareChain } from "./middleware-chain";
import { SocketHandle } from "./socket-handle";

/** Calls `fn` at most once; later calls return false. */
export function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => boolean {
  let used = false;
  return (...args: A) => {
    if (used) return false;
    used = true;
    fn(...args);
    return true;
  };
}

/**
 * Everything the package hangs on one Socket.IO namespace, attached exactly once: one `use()` that
 * runs the middleware chain, one connection listener, a fixed set of listeners per socket feeding
 * the event router, the adapter's room events, and one listener per instance event name.
 */
export class NamespaceHub {
  readonly router: EventRouter;
  readonly chain: MiddlewareChain;
  private readonly handles = new WeakMap<Socket, SocketHandle>();
  /** Sockets inside a middleware flow: not in `nsp.sockets` yet, but msg.socket must reach them. */
  private readonly pending = new Map<string, Socket>();
  private readonly countWatchers = new Set<(count: number) => void>();
  /** Names of the instance events the namespace already listens for: one listener per name. */
  private readonly instanceEvents = new Set<string>();

  constructor(
    readonly nsp: Namespace,
    private readonly serverKey: string,
    gate: DeployGate,
    log: Logger,
  ) {
    this.router = new EventRouter(gate, log);
    this.chain = new MiddlewareChain(gate);
    nsp.use((socket, next) => this.admit(socket, next));
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

  /** The one handle of a socket, made on first use. */
  handleOf(socket: Socket): SocketHandle {
    let handle = this.handles.get(socket);
    if (!handle) {
      handle = new SocketHandle(this.serverKey, socket);
      this.handles.set(socket, handle);
    }
    return handle;
  }

  private admit(socket: Socket, next: (err?: Error) => void): void {
    if (this.chain.size === 0 && this.router.gateOpen) {
      next();
      return;
    }
    this.pending.set(socket.id, socket);
    this.chain.run(this.handleOf(socket)).then(
      (refusal) => {
        this.pending.delete(socket.id);
        next(refusal);
      },
      (err: Error) => {
        this.pending.delete(socket.id);
        next(err);
      },
    );
  }

  private connected(socket: Socket): void {
    const handle = this.handleOf(socket);
    const router = this.router;
    router.route({ kind: "lifecycle", name: "connection", socket: handle, args: [] });
    socket.onAny((event: string, ...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === "function" ? once(args.pop() as (...a: unknown[]) => void) : undefined;
      router.route({ kind: "client", name: String(event), socket: handle, args: clientArguments(args), ack });
    });
    socket.on("disconnecting", (reason: string) => {
      const rooms = [...socket.rooms];
      router.route({ kind: "lifecycle", name: "disconnecting", socket: handle, args: [], reason, rooms });
    });
    socket.on("disconnect", (reason: string) => {
      SocketHandle.retire(handle, socket);
      router.route({ kind: "lifecycle", name: "disconnect", socket: handle, args: [], reason });
      this.countChanged();
    });
    this.countChanged();
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
      const last = args[args.length - 1];
      const ack = typeof last === "function" ? once(args.pop() as (...a: unknown[]) => void) : undefined;
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
