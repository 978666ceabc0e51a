import type { DeployGate } from "./deploy-gate";
import type { Logger } from "./logger";
import type { SocketHandle } from "./socket-handle";

/** The lifecycle events of a connection. */
export const LIFECYCLE_EVENTS = ["connection", "disconnecting", "disconnect"] as const;
/** The events of a namespace's adapter when rooms change. */
export const ROOM_EVENTS = ["create-room", "delete-room", "join-room", "leave-room"] as const;

export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];
export type RoomEvent = (typeof ROOM_EVENTS)[number];

/**
 * Event names another instance cannot send with `serverSideEmit`: Socket.IO reserves the first
 * three on a namespace, and a Node.js EventEmitter throws on an "error" nobody listens for.
 */
export const RESERVED_INSTANCE_EVENTS: readonly string[] = ["connect", "connection", "new_namespace", "error"];

/**
 * What a subscriber listens for. Lifecycle and room events live apart from client events, so a
 * client that emits an event named "connection" or "join-room" only ever reaches a subscriber of
 * that *client* event name. Instance events come from other Node-RED instances (`serverSideEmit`
 * through a Redis adapter): no client can send one, and they never reach client-event subscribers.
 */
export type Topic =
  | { kind: "lifecycle"; name: LifecycleEvent }
  | { kind: "room"; name: RoomEvent }
  | { kind: "client"; name: string }
  | { kind: "any-client" }
  | { kind: "instance"; name: string };

/** An array of the arguments a client sent with an event (`msg.args` of a socket-io-on node). */
export type ClientArguments = unknown[];

/**
 * Node-RED's deep clone keeps an array's constructor, calling it without `new` as
 * `array.constructor(length)`, so this is a plain function rather than a class.
 */
function ClientArgumentsCtor(length = 0): ClientArguments {
  return Object.setPrototypeOf(new Array(length), ClientArgumentsCtor.prototype) as ClientArguments;
}
ClientArgumentsCtor.prototype = Object.create(Array.prototype, {
  constructor: { value: ClientArgumentsCtor, writable: true, configurable: true },
});

/**
 * Marks the arguments a client sent, so the emit node can tell them, carried along unchanged,
 * from arguments a flow built: see `argumentsToSend`. The mark survives Node-RED's cloning. The
 * array itself is marked (no copy per event): pass one that nothing else holds, such as rest args.
 */
export function clientArguments(args: unknown[]): ClientArguments {
  return Object.setPrototypeOf(args, ClientArgumentsCtor.prototype) as ClientArguments;
}

function isClientArguments(value: unknown[]): boolean {
  return Object.getPrototypeOf(value) === ClientArgumentsCtor.prototype;
}

/**
 * What an emit sends for a msg. `msg.args` when a flow set it; the client's own `msg.args` only while
 * `msg.payload` is still their first item, so that a flow that replaced the payload sends the payload.
 */
export function argumentsToSend(payload: unknown, args: unknown): unknown[] {
  if (!Array.isArray(args)) return [payload];
  if (isClientArguments(args) && args[0] !== payload) return [payload];
  return args;
}

/** One event on its way to the flow. `args` are the sender's arguments, without the ack function. */
export interface RoutedEvent {
  kind: "lifecycle" | "room" | "client" | "instance";
  name: string;
  /** The connection the event is about, when there is one. */
  socket?: SocketHandle;
  /** For room events: true when the room is a socket's own (named after its id). */
  privateRoom?: boolean;
  args: unknown[];
  /** Answers the sender once; false when it was answered already. */
  ack?: (...args: unknown[]) => boolean;
  reason?: string;
  room?: string;
  /** For "disconnecting": the rooms the socket was in, which it leaves right after. */
  rooms?: string[];
}

export type Subscriber = (event: RoutedEvent) => void;

/** How many events wait for a deploy to finish before the oldest are dropped (and said so). */
export const DEFAULT_QUEUE_LIMIT = 10_000;

/**
 * Routes every event of one namespace to the subscribers (on nodes) that want it.
 *
 * The package listens on each socket once, whatever the number of nodes, and fans out here. So a
 * node hears sockets that connected before it was deployed, an event emitted right after connecting
 * is never lost, and 10,000 sockets with 20 nodes still carry a fixed handful of listeners each.
 * While a deploy is in progress events are queued and delivered to the new nodes afterwards.
 *
 * @example
 * const router = new EventRouter(gate, log);
 * const off = router.subscribe({ kind: "client", name: "chat" }, (e) => send(e));
 * router.route({ kind: "client", name: "chat", socket, args: ["hi"] });
 * off();
 */
export class EventRouter {
  private readonly byKey = new Map<string, Set<Subscriber>>();
  private readonly anyClient = new Set<Subscriber>();
  private queue: RoutedEvent[] = [];
  private dropped = 0;
  private flushScheduled = false;

  constructor(
    private readonly gate: DeployGate,
    private readonly log: Logger,
    private readonly queueLimit = DEFAULT_QUEUE_LIMIT,
  ) {}

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(topic: Topic, fn: Subscriber): () => void {
    const set = topic.kind === "any-client" ? this.anyClient : this.setFor(`${topic.kind}:${topic.name}`);
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** False while a deploy is in progress. */
  get gateOpen(): boolean {
    return this.gate.isOpen;
  }

  /** How many subscribers there are in all (for tests and status). */
  get subscriberCount(): number {
    let n = this.anyClient.size;
    for (const set of this.byKey.values()) n += set.size;
    return n;
  }

  route(event: RoutedEvent): void {
    if (this.gate.isOpen && this.queue.length === 0) {
      this.deliver(event);
      return;
    }
    if (this.queue.length >= this.queueLimit) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(event);
    this.scheduleFlush();
  }

  /** Forgets queued events (the server is closing). */
  clear(): void {
    this.queue = [];
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.gate.whenOpen(() => {
      this.flushScheduled = false;
      const queued = this.queue;
      this.queue = [];
      if (this.dropped > 0) {
        this.log.warn("events.dropped", { count: this.dropped, limit: this.queueLimit });
        this.dropped = 0;
      }
      for (const event of queued) this.deliver(event);
    });
  }

  private deliver(event: RoutedEvent): void {
    const targets = this.byKey.get(`${event.kind}:${event.name}`);
    if (targets) for (const fn of targets) this.call(fn, event);
    if (event.kind === "client") for (const fn of this.anyClient) this.call(fn, event);
  }

  private call(fn: Subscriber, event: RoutedEvent): void {
    try {
      fn(event);
    } catch (err) {
      // A subscriber is a node adapter; whatever it throws must not reach socket.io's event loop.
      this.log.error("events.undeliverable", { event: event.name, error: (err as Error).message });
    }
  }

  private setFor(key: string): Set<Subscriber> {
    let set = this.byKey.get(key);
    if (!set) {
      set = new Set();
      this.byKey.set(key, set);
    }
    return set;
  }
}
