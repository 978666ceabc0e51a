import { inspect } from "node:util";
import type { Socket } from "socket.io";
import { emptyHandshake, snapshotOf, type HandshakeSnapshot } from "./handshake-snapshot";
export type { HandshakeSnapshot } from "./handshake-snapshot";
import { findSocket } from "./live-sockets";
import { Problem } from "./problem";
import { keepRetired, retiredOf, retiredUsage, type Retired } from "./retired-handshakes";

// How long, and within how many bytes, a departed socket's handshake stays readable through its handle.
export { RETIRED_BYTES, RETIRED_MS } from "./retired-handshakes";

/** Where a flow reads the header values that `msg.socket`'s JSON leaves out. */
export const HEADERS_ARE_AT = "msg.socket.handshake.headers";

/** `msg.socket` as JSON: what a debug node shows. */
export interface SocketSummary {
  id: string;
  namespace: string;
  rooms: string[];
  handshake: Pick<HandshakeSnapshot, "address" | "query" | "auth"> & { headers: typeof HEADERS_ARE_AT };
}

/** Thrown when a flow acts on a connection that has gone. */
export class SocketGoneError extends Problem {
  constructor(id: string, namespace: string) {
    super("socket.gone", { id, namespace });
  }
}

const BRAND = Symbol.for("node-red-contrib-socket-io.SocketHandle");

/** Where a broadcast from a socket goes: Socket.IO's operator, for any event. */
type Broadcast = Socket["broadcast"];

const retiredKey = (h: SocketHandle): string => `${h.serverKey}\n${h.namespace}\n${h.id}`;

/**
 * What `msg.socket` holds: a small stand-in for a Socket.IO socket that survives Node-RED's deep
 * clone of a msg. Its own fields are a few strings and a plain handshake snapshot; every method
 * looks the live socket up by server key, namespace and id, so a clone acts on the real connection.
 *
 * @example
 * msg.socket.join("room-1");
 * msg.socket.emit("hello", "world");
 * if (!msg.socket.connected) node.warn("gone");
 */
export class SocketHandle {
  /** The socket id (also the name of the socket's own room). */
  readonly id: string;
  /** The namespace name, e.g. "/" or "/chat". */
  readonly namespace: string;
  /** Which server the socket belongs to (the per-port registry key). */
  readonly serverKey: string;

  constructor(serverKey: string, socket: Socket) {
    this.id = socket.id;
    this.namespace = socket.nsp.name;
    this.serverKey = serverKey;
  }

  /**
   * The handshake, copied into plain objects on each read (`const h = msg.socket.handshake` reads
   * it once). Not an own field: Node-RED deep-clones a msg for every
   * wire but the first, and the handle's three strings clone in a fraction of the time the headers
   * would. It is read from the live socket; for RETIRED_MS after the socket has gone, from `retire`'s
   * copy, whose `auth` is `{}`; after that it is empty.
   */
  get handshake(): HandshakeSnapshot {
    const socket = this.live;
    if (socket) return snapshotOf(socket);
    const kept = this.kept();
    // A copy each time: what a flow writes into it is not kept.
    return kept
      ? { ...kept.snapshot, headers: { ...kept.snapshot.headers }, query: { ...kept.snapshot.query }, auth: {} }
      : emptyHandshake();
  }

  /**
   * Keeps the handshake of a socket that has just gone, without its auth, for the msgs still about
   * it (a disconnect flow): for RETIRED_MS, and within RETIRED_BYTES for all departed sockets together.
   */
  static retire(handle: SocketHandle, socket: Socket): void {
    keepRetired(retiredKey(handle), socket);
  }

  /** How many departed sockets' handshakes are kept, and their estimated bytes (for tests and diagnostics). */
  static retiredUsage(): { count: number; bytes: number } {
    return retiredUsage();
  }

  /** True for a SocketHandle and for any clone of one (lodash cloneDeep keeps the prototype). */
  static is(value: unknown): value is SocketHandle {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** The live Socket.IO socket, or undefined when it has gone. */
  get live(): Socket | undefined {
    return findSocket(this.serverKey, this.namespace, this.id);
  }

  /** What `retire` kept of this socket, while it is kept. */
  private kept(): Retired | undefined {
    return retiredOf(retiredKey(this));
  }

  private need(): Socket {
    const socket = this.live;
    if (!socket) throw new SocketGoneError(this.id, this.namespace);
    return socket;
  }

  /**
   * Where a broadcast from this socket goes: the live socket's own operator, or for a socket that
   * has just gone, its namespace (it is in no room any more, so "but this one" holds).
   */
  private broadcastFrom(): Broadcast {
    const socket = this.live;
    if (socket) return socket.broadcast;
    const kept = this.kept();
    if (!kept) throw new SocketGoneError(this.id, this.namespace);
    return kept.nsp.except(this.id);
  }

  /** False once the connection has gone (or while it is still in a middleware flow). */
  get connected(): boolean {
    return this.live?.connected ?? false;
  }

  /** The rooms the socket is in (a copy); empty once it has gone. */
  get rooms(): Set<string> {
    return new Set(this.live?.rooms ?? []);
  }

  /** The live `socket.data`; an empty object once the socket has gone. */
  get data(): Socket["data"] {
    return this.live?.data ?? {};
  }

  /** Sets `socket.data`; once the socket has gone there is nothing to set. */
  set data(value: Socket["data"]) {
    const socket = this.live;
    if (socket) socket.data = value;
  }

  // A client may leave at any moment (a page reload): acting on a socket that has gone is nothing
  // to do, not an error. Only what needs an answer from the client (timeout) throws SocketGoneError.

  /** Sends an event to this socket; false when it has gone. */
  emit(event: string, ...args: unknown[]): boolean {
    const socket = this.live;
    return socket ? socket.emit(event, ...args) : false;
  }

  /**
   * Joins room(s); with an adapter that works across servers, returns a Promise to await. Once the
   * socket has gone, nothing.
   */
  join(rooms: string | string[]): Promise<void> | void {
    return this.live?.join(rooms);
  }

  /** Leaves a room; once the socket has gone (it has left every room), nothing. */
  leave(room: string): Promise<void> | void {
    return this.live?.leave(room);
  }

  /** Disconnects the socket; `close` true also closes the underlying connection. Once it has gone, nothing. */
  disconnect(close = false): void {
    this.live?.disconnect(close);
  }

  /** Broadcast to room(s), excluding this socket; works for RETIRED_MS after it has gone. */
  to(room: string | string[]): Broadcast {
    return this.broadcastFrom().to(room);
  }

  in(room: string | string[]): Broadcast {
    return this.broadcastFrom().in(room);
  }

  except(room: string | string[]): Broadcast {
    return this.broadcastFrom().except(room);
  }

  /** Broadcast to every socket of the namespace but this one; works for RETIRED_MS after it has gone. */
  get broadcast(): Broadcast {
    return this.broadcastFrom();
  }

  /**
   * `msg.socket.timeout(5000).emitWithAck("question")` resolves with the client's answer.
   * @throws SocketGoneError once the socket has gone: no answer can come
   */
  timeout(ms: number): Socket {
    return this.need().timeout(ms);
  }

  /**
   * What a debug node, JSON.stringify and a file node see: the id, namespace and rooms, and the
   * handshake's address, query and auth. A debug node showing the complete msg formats each value
   * of it for every msg, so the header values stay out: `headers` names where they are.
   */
  toJSON(): SocketSummary {
    const socket = this.live;
    const h = socket ? socket.handshake : this.handshake;
    return {
      id: this.id,
      namespace: this.namespace,
      rooms: socket ? [...socket.rooms] : [],
      handshake: { address: h.address, query: { ...h.query }, auth: { ...h.auth }, headers: HEADERS_ARE_AT },
    };
  }

  /** util.inspect (a debug node's console output): the whole handshake, headers too. */
  [inspect.custom](): string {
    const { id, namespace, connected, rooms, handshake } = this;
    return `SocketHandle ${inspect({ id, namespace, connected, rooms: [...rooms], handshake }, { depth: 3 })}`;
  }
}

Object.defineProperty(SocketHandle.prototype, BRAND, { value: true });
