import { inspect } from "node:util";
import type { BroadcastOperator, Namespace, Socket } from "socket.io";
import { findSocket } from "./live-sockets";
import { Problem } from "./problem";

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
export class SocketGoneError extends Problem {
  constructor(id: string, namespace: string) {
    super("socket.gone", { id, namespace });
  }
}

const BRAND = Symbol.for("node-red-contrib-socket-io.SocketHandle");

/**
 * How long a departed socket's handshake (without its auth) stays readable, for the msgs still about
 * it: a disconnect flow reads it at once, or after an await or two (an HTTP request, a database).
 */
export const RETIRED_MS = 5000;
/**
 * What all departed sockets' handshakes may take together, estimated. Headers and URL come within
 * Node's header limit (16 KB by default) and the query is parsed from the URL: at most about 64 KB
 * each, a few hundred bytes to 2 KB in practice, so this holds every departure of the last
 * RETIRED_MS at a few hundred departures a second. Past it the oldest go first.
 */
export const RETIRED_BYTES = 4 * 1024 * 1024;

/** A departed socket's handshake, and what a flow may still reach through it. */
interface Retired {
  snapshot: HandshakeSnapshot;
  bytes: number;
  /** `performance.now()` after which it is forgotten. */
  until: number;
  /** Its namespace: a broadcast "to everyone but this socket" still means something. */
  nsp: Namespace;
}

const snapshots = new WeakMap<Socket, HandshakeSnapshot>();
// In the order they departed, so the oldest (first to expire) come first.
const retired = new Map<string, Retired>();
let retiredBytes = 0;
let sweeper: NodeJS.Timeout | undefined;
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

// A property's slot and string header, roughly.
const ENTRY_BYTES = 64;

/** The string and string-array values of headers or a query, and an estimate of their bytes (two per character at most). */
function stringsOf(source: Record<string, unknown>): [Record<string, string | string[]>, number] {
  const copy: Record<string, string | string[]> = {};
  let bytes = 0;
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === "string") {
      copy[key] = value;
      bytes += ENTRY_BYTES + 2 * (key.length + value.length);
    } else if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      copy[key] = [...value];
      bytes += ENTRY_BYTES + 2 * key.length + value.reduce((n, v) => n + ENTRY_BYTES + 2 * v.length, 0);
    }
  }
  return [copy, bytes];
}

/** What is kept of a departed socket: the handshake without auth, copied from Socket.IO's own. */
function departedSnapshot(socket: Socket): [HandshakeSnapshot, number] {
  const h = socket.handshake;
  const [headers, headerBytes] = stringsOf(h.headers);
  const [query, queryBytes] = stringsOf(h.query);
  const snapshot = {
    headers,
    query,
    auth: {},
    address: String(h.address),
    time: String(h.time),
    issued: h.issued,
    url: String(h.url),
    secure: h.secure,
    xdomain: h.xdomain,
  };
  const bytes =
    16 * ENTRY_BYTES +
    headerBytes +
    queryBytes +
    2 * (snapshot.address.length + snapshot.time.length + snapshot.url.length);
  return [snapshot, bytes];
}

function forget(key: string): void {
  const entry = retired.get(key);
  if (!entry) return;
  retired.delete(key);
  retiredBytes -= entry.bytes;
}

/** Forgets what has expired, and what is over the byte bound (the oldest first). */
function sweep(extraBytes = 0): void {
  const now = performance.now();
  for (const [key, entry] of retired) {
    if (entry.until > now && retiredBytes + extraBytes <= RETIRED_BYTES) break;
    forget(key);
  }
  if (sweeper || retired.size === 0) return;
  const first = retired.values().next().value as Retired;
  // One timer for all of them, so that a quiet server lets go of the last departures too.
  sweeper = setTimeout(
    () => {
      sweeper = undefined;
      sweep();
    },
    Math.max(1, first.until - now),
  );
  sweeper.unref();
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
    const key = retiredKey(handle);
    forget(key);
    const [snapshot, bytes] = departedSnapshot(socket);
    if (bytes > RETIRED_BYTES) return;
    sweep(bytes);
    retired.set(key, { snapshot, bytes, until: performance.now() + RETIRED_MS, nsp: socket.nsp });
    retiredBytes += bytes;
  }

  /** How many departed sockets' handshakes are kept, and their estimated bytes (for tests and diagnostics). */
  static retiredUsage(): { count: number; bytes: number } {
    sweep();
    return { count: retired.size, bytes: retiredBytes };
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
    const kept = retired.get(retiredKey(this));
    return kept && kept.until > performance.now() ? kept : undefined;
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
  private broadcastFrom(): BroadcastOperator<any, any> {
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
  get data(): any {
    return this.live?.data ?? {};
  }

  /** Sets `socket.data`; once the socket has gone there is nothing to set. */
  set data(value: any) {
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

  /** Joins room(s); with an adapter that works across servers, returns a Promise to await. Once the socket has gone, nothing. */
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
  to(room: string | string[]): BroadcastOperator<any, any> {
    return this.broadcastFrom().to(room);
  }

  in(room: string | string[]): BroadcastOperator<any, any> {
    return this.broadcastFrom().in(room);
  }

  except(room: string | string[]): BroadcastOperator<any, any> {
    return this.broadcastFrom().except(room);
  }

  /** Broadcast to every socket of the namespace but this one; works for RETIRED_MS after it has gone. */
  get broadcast(): BroadcastOperator<any, any> {
    return this.broadcastFrom();
  }

  /**
   * `msg.socket.timeout(5000).emitWithAck("question")` resolves with the client's answer.
   * @throws SocketGoneError once the socket has gone: no answer can come
   */
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
