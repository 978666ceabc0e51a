import { inspect } from "node:util";
import type { BroadcastOperator, Socket } from "socket.io";
import { findSocket } from "./live-sockets";

/** The parts of a Socket.IO handshake a flow reads, copied into plain objects. */
export interface HandshakeSnapshot {
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  auth: Record<string, unknown>;
  address: string;
  time: string;
  issued: number;
  url: string;
  secure: boolean;
  xdomain: boolean;
}

/** Thrown when a flow acts on a connection that has gone. */
export class SocketGoneError extends Error {
  constructor(id: string, namespace: string) {
    super(`socket ${id} in namespace "${namespace}" is no longer connected`);
    this.name = "SocketGoneError";
  }
}

const BRAND = Symbol.for("node-red-contrib-socket-io.SocketHandle");

/** How many gone sockets' handshakes are kept for msgs still about them. */
const RETIRED_LIMIT = 1000;
const snapshots = new WeakMap<Socket, HandshakeSnapshot>();
const retired = new Map<string, HandshakeSnapshot>();
const retiredKey = (h: SocketHandle): string => `${h.serverKey}\n${h.namespace}\n${h.id}`;

function snapshotOf(socket: Socket): HandshakeSnapshot {
  let snapshot = snapshots.get(socket);
  if (!snapshot) {
    const h = socket.handshake;
    snapshot = {
      headers: { ...h.headers },
      query: { ...h.query },
      auth: { ...h.auth },
      address: h.address,
      time: h.time,
      issued: h.issued,
      url: h.url,
      secure: h.secure,
      xdomain: h.xdomain,
    };
    snapshots.set(socket, snapshot);
  }
  return snapshot;
}

function emptyHandshake(): HandshakeSnapshot {
  return { headers: {}, query: {}, auth: {}, address: "", time: "", issued: 0, url: "", secure: false, xdomain: false };
}

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
   * The handshake, copied into plain objects. Not an own field: Node-RED deep-clones a msg for every
   * wire but the first, and the handle's three strings clone in a fraction of the time the headers
   * would. It is read from the live socket, or, shortly after it has gone, from `retire`'s copy.
   */
  get handshake(): HandshakeSnapshot {
    const socket = this.live;
    if (socket) return snapshotOf(socket);
    return retired.get(retiredKey(this)) ?? emptyHandshake();
  }

  /**
   * Keeps the handshake of a socket that has just gone for the msgs still about it (a
   * disconnect flow). Only the most recent ones are kept.
   */
  static retire(handle: SocketHandle, socket: Socket): void {
    retired.set(retiredKey(handle), snapshotOf(socket));
    if (retired.size > RETIRED_LIMIT) retired.delete(retired.keys().next().value as string);
  }

  /** True for a SocketHandle and for any clone of one (lodash cloneDeep keeps the prototype). */
  static is(value: unknown): value is SocketHandle {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** The live Socket.IO socket, or undefined when it has gone. */
  get live(): Socket | undefined {
    return findSocket(this.serverKey, this.namespace, this.id);
  }

  private need(): Socket {
    const socket = this.live;
    if (!socket) throw new SocketGoneError(this.id, this.namespace);
    return socket;
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
  get data(): any {
    return this.live?.data ?? {};
  }

  set data(value: any) {
    this.need().data = value;
  }

  /** Sends an event to this socket. */
  emit(event: string, ...args: unknown[]): boolean {
    return this.need().emit(event, ...args);
  }

  /** Joins room(s); with an adapter that works across servers, returns a Promise to await. */
  join(rooms: string | string[]): Promise<void> | void {
    return this.need().join(rooms);
  }

  leave(room: string): Promise<void> | void {
    return this.need().leave(room);
  }

  /** Disconnects the socket; `close` true also closes the underlying connection. */
  disconnect(close = false): void {
    this.need().disconnect(close);
  }

  /** Broadcast to room(s), excluding this socket. */
  to(room: string | string[]): BroadcastOperator<any, any> {
    return this.need().to(room);
  }

  in(room: string | string[]): BroadcastOperator<any, any> {
    return this.need().in(room);
  }

  except(room: string | string[]): BroadcastOperator<any, any> {
    return this.need().except(room);
  }

  /** Broadcast to every socket of the namespace but this one. */
  get broadcast(): BroadcastOperator<any, any> {
    return this.need().broadcast;
  }

  /** `msg.socket.timeout(5000).emitWithAck("question")` resolves with the client's answer. */
  timeout(ms: number): Socket {
    return this.need().timeout(ms);
  }

  /** What a debug node, JSON.stringify and a file node see. */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      namespace: this.namespace,
      connected: this.connected,
      rooms: [...this.rooms],
      handshake: this.handshake,
    };
  }

  [inspect.custom](): string {
    return `SocketHandle ${inspect(this.toJSON(), { depth: 3 })}`;
  }
}

Object.defineProperty(SocketHandle.prototype, BRAND, { value: true });
