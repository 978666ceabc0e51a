import type { EventEmitter } from "node:events";
import { instrument } from "@socket.io/admin-ui";
import type { Namespace, Server, Socket } from "socket.io";
import { AdminLogins, type PasswordCheck } from "./admin-logins";
import { Problem } from "./problem";

// Reversible instrumentation by @socket.io/admin-ui, which has no way to undo its own. Over 250 lines:
// recording what admin-ui adds and taking it off again are one piece, and only make sense together.

import { ADMIN_NAMESPACE } from "./admin-ui-settings";

export { ADMIN_NAMESPACE };

export interface AdminUiOptions {
  username: string;
  /** compares a login's password with the UI's (bcrypt, with Node-RED's bcryptjs) */
  checkPassword: PasswordCheck;
  /** how the UI tells instances apart; unique per process and server, e.g. `${hostname()} ${process.pid} ${path}` */
  serverId: string;
}

type Listener = (...args: unknown[]) => unknown;
type EventName = string | symbol;
/** Listeners by event, as an emitter had them at one moment. */
type Snapshot = Map<EventName, Listener[]>;
/** Listeners put on one emitter, as they must be taken off again. */
type Added = Array<[event: EventName, fn: Listener]>;

/** What admin-ui keeps in `socket.data._admin`: the UI shows it beside the socket. */
interface AdminMarks {
  clientId?: unknown;
  transport?: unknown;
}

/** What admin-ui added to one socket, to take off again. */
interface SocketRecord {
  listeners: Added;
  any: Listener[];
  anyOutgoing: Listener[];
  /** The socket's own data object and the hidden marks put on it. */
  data: unknown;
  marks: AdminMarks;
}

const emitterOf = (value: unknown): EventEmitter => value as EventEmitter;

function snapshot(emitter: EventEmitter): Snapshot {
  return new Map(emitter.eventNames().map((ev) => [ev, emitter.listeners(ev) as Listener[]]));
}

/** The listeners `emitter` has now and did not have in `before`, whatever their event. */
function addedSince(emitter: EventEmitter, before: Snapshot): Added {
  const added: Added = [];
  for (const ev of emitter.eventNames()) {
    const old = before.get(ev) ?? [];
    for (const fn of emitter.listeners(ev) as Listener[]) if (!old.includes(fn)) added.push([ev, fn]);
  }
  return added;
}

/**
 * Runs one of admin-ui's listeners so that nothing it throws or rejects reaches the emitter: they only
 * feed the UI, and a throw there would surface in engine.io or socket.io as an uncaught exception (its
 * "upgrade" listener throws once a flow has replaced socket.data).
 */
function guarded(fn: Listener): Listener {
  return function (this: unknown, ...args: unknown[]) {
    try {
      const result = fn.apply(this, args);
      if (result && typeof (result as PromiseLike<unknown>).then === "function")
        (result as Promise<unknown>).catch(() => undefined);
    } catch {
      // lost: one update of the UI
    }
  };
}

/**
 * Puts `wrap(fn)` in place of each listener admin-ui added, keeping the ones it put first in front
 * (its namespace "connection" listener must run before the flows' so their emits are seen). A `once`
 * listener is left as it is: admin-ui removes its own by reference, and these cannot throw.
 */
function rewrap(emitter: EventEmitter, added: Added, wrap: (fn: Listener, ev: EventName) => Listener): Added {
  const kept: Added = [];
  const front: Added = [];
  const back: Added = [];
  for (const [ev, fn] of added) {
    const raw = emitter.rawListeners(ev);
    const index = raw.indexOf(fn);
    if (index < 0) {
      kept.push([ev, fn]); // a once wrapper around fn
      continue;
    }
    emitter.off(ev, fn);
    const preexisting = raw.filter((l) => !added.some(([e, f]) => e === ev && f === l));
    const wrapped = wrap(fn, ev);
    if (preexisting.length > 0 && index < raw.indexOf(preexisting[0])) front.push([ev, wrapped]);
    else back.push([ev, wrapped]);
  }
  for (const [ev, fn] of front.reverse()) emitter.prependListener(ev, fn);
  for (const [ev, fn] of back) emitter.on(ev, fn);
  return [...kept, ...front, ...back];
}

/** A JSON copy of socket.data, for admin-ui to wrap in its Proxies instead of the flows' own objects. */
function plainCopy(data: unknown): Record<string, unknown> {
  try {
    const copy: unknown = JSON.parse(JSON.stringify(data ?? {}));
    return copy && typeof copy === "object" && !Array.isArray(copy) ? (copy as Record<string, unknown>) : {};
  } catch {
    return {}; // circular or a BigInt: the UI shows no data for this socket until it asks again
  }
}

/** Servers instrumented now, so that apply() tells our namespace from one a flow made. */
const active = new WeakMap<Server, AdminInstrumentation>();

/**
 * `@socket.io/admin-ui` on a Socket.IO server that lives across deploys, with the undo admin-ui lacks.
 *
 * admin-ui's `instrument()` adds listeners to the engine, every Engine.IO connection, every namespace,
 * socket and adapter, a 2 s stats timer and its own namespace. apply() records each of them as it is
 * added (engine and namespace listeners at once, per-connection and per-socket ones as admin-ui adds
 * them), so that remove() takes off exactly those and no client of the server is disconnected.
 *
 * The mode is "development" (the UI lists sockets, rooms and events) and readonly: the UI watches, it
 * cannot emit, join, leave or disconnect, which would act on clients behind the flows' backs.
 *
 * admin-ui's development mode wraps socket.data in a Proxy that breaks values with internal slots (a
 * Date's getTime() throws, a Map's get() too) and throws on every later write once one is there. Here
 * it wraps a JSON copy instead; the socket keeps its own data object, which gets `_admin` (client id
 * and transport) as a hidden property, so flows, room listings and a Debug node see no change. Cost: the
 * UI does not follow later changes of socket.data, and shows no client id or transport for sockets of
 * other instances (hidden properties do not travel through the adapter).
 *
 * @example
 * const admin = AdminInstrumentation.apply(io, { username, checkPassword, serverId });
 * // ... when the setting is turned off:
 * await admin.remove();
 */
export class AdminInstrumentation {
  private readonly timers: NodeJS.Timeout[] = [];
  /** Listeners on emitters that live as long as the server: engine, namespaces, adapters. */
  private readonly fixed: Array<[EventEmitter, Added]> = [];
  /** Namespaces seen, to find their sockets again. */
  private readonly namespaces = new Set<Namespace>();
  private readonly sockets = new WeakMap<Socket, SocketRecord>();
  /** Listeners admin-ui put on Engine.IO connections, from the engine's and the sockets' listeners. */
  private readonly connections = new WeakMap<EventEmitter, Added>();
  private admin?: Namespace;
  private removal?: Promise<void>;

  private constructor(private readonly io: Server) {}

  /**
   * Instruments `io` (already attached, so `io.engine` exists).
   * @throws Problem `server.adminNamespaceTaken` when a flow already uses ADMIN_NAMESPACE on `io`
   */
  static apply(io: Server, options: AdminUiOptions): AdminInstrumentation {
    if (active.has(io)) throw new Problem("server.adminTwice");
    if (io._nsps.has(ADMIN_NAMESPACE)) throw new Problem("server.adminNamespaceTaken", { namespace: ADMIN_NAMESPACE });
    if (!io.engine) throw new Problem("server.adminNotAttached");
    const instrumentation = new AdminInstrumentation(io);
    try {
      instrumentation.instrument(options);
    } catch (err) {
      instrumentation.remove().catch(() => undefined);
      throw err;
    }
    active.set(io, instrumentation);
    return instrumentation;
  }

  private instrument(options: AdminUiOptions): void {
    const io = this.io;
    // Made here, before admin-ui's io.of() finds it: the login is ours (admin-logins.ts), admin-ui's off.
    const admin = io.of(ADMIN_NAMESPACE);
    this.admin = admin;
    admin.use(new AdminLogins(options.username, options.checkPassword).middleware);

    const engine = emitterOf(io.engine);
    const engineBefore = snapshot(engine);
    const nspBefore = new Map([...io._nsps.values()].map((nsp) => [nsp, this.snapshotNamespace(nsp)]));

    // admin-ui starts its stats interval synchronously inside instrument() and keeps no handle on it.
    const setIntervalBefore = globalThis.setInterval;
    const timers = this.timers;
    globalThis.setInterval = function (this: unknown, ...args: Parameters<typeof setInterval>) {
      const timer = setIntervalBefore.apply(this, args);
      timers.push(timer);
      return timer;
    } as typeof setInterval;
    try {
      instrument(io, {
        namespaceName: ADMIN_NAMESPACE,
        auth: false,
        readonly: true,
        mode: "development",
        serverId: options.serverId,
      });
    } finally {
      globalThis.setInterval = setIntervalBefore;
    }

    const onEngine = rewrap(engine, addedSince(engine, engineBefore), (fn) => this.recordingConnection(fn));
    this.fixed.push([engine, onEngine]);
    // admin-ui sees only what connects after it; the clients of earlier deploys are shown the same way.
    const clients = (io.engine as unknown as { clients: Record<string, EventEmitter> }).clients;
    for (const conn of Object.values(clients)) emitTo(onEngine, "connection", conn);
    for (const [nsp, before] of nspBefore) {
      const onNamespace = this.adopt(nsp, before);
      for (const socket of nsp.sockets.values()) emitTo(onNamespace, "connection", socket);
    }
  }

  private snapshotNamespace(nsp: Namespace): [Snapshot, Snapshot] {
    return [snapshot(emitterOf(nsp)), snapshot(emitterOf(nsp.adapter))];
  }

  /** Takes over what admin-ui added to a namespace and its adapter since `before`; returns the namespace's. */
  private adopt(nsp: Namespace, [nspBefore, adapterBefore]: [Snapshot, Snapshot]): Added {
    this.namespaces.add(nsp);
    const emitter = emitterOf(nsp);
    const adapter = emitterOf(nsp.adapter);
    const onNamespace = (fn: Listener, ev: EventName): Listener => {
      if (ev === "connection") return this.recordingSocket(fn);
      if (ev === "new_namespace") return this.recordingNamespace(fn); // on "/", which is io.sockets
      return guarded(fn);
    };
    const added = rewrap(emitter, addedSince(emitter, nspBefore), onNamespace);
    this.fixed.push([emitter, added]);
    this.fixed.push([adapter, rewrap(adapter, addedSince(adapter, adapterBefore), guarded)]);
    return added;
  }

  private recordingNamespace(fn: Listener): Listener {
    const run = guarded(fn);
    return (nsp) => {
      const before = this.snapshotNamespace(nsp as Namespace);
      run(nsp);
      this.adopt(nsp as Namespace, before);
    };
  }

  /** admin-ui's engine "connection" listener, recording what it puts on each Engine.IO connection. */
  private recordingConnection(fn: Listener): Listener {
    const run = guarded(fn);
    return (conn) => {
      const emitter = emitterOf(conn);
      const before = snapshot(emitter);
      run(conn);
      this.onConnection(emitter, rewrap(emitter, addedSince(emitter, before), guarded));
    };
  }

  private onConnection(conn: EventEmitter, added: Added): void {
    const known = this.connections.get(conn);
    if (known) known.push(...added);
    else this.connections.set(conn, added);
  }

  /** admin-ui's namespace "connection" listener, recording what it puts on each socket and its connection. */
  private recordingSocket(fn: Listener): Listener {
    const run = guarded(fn);
    return (arg) => {
      const socket = arg as Socket;
      const self = emitterOf(socket);
      const conn = emitterOf(socket.conn);
      const before = { self: snapshot(self), conn: snapshot(conn) };
      // Copies: socket.io hands out its own arrays.
      const any = [...socket.listenersAny()];
      const anyOutgoing = [...socket.listenersAnyOutgoing()];
      const data: unknown = socket.data;
      socket.data = plainCopy(data);
      let marks: AdminMarks = {};
      try {
        run(socket);
        const seen = (socket.data as { _admin?: AdminMarks } | undefined)?._admin;
        marks = { clientId: seen?.clientId, transport: seen?.transport };
      } finally {
        socket.data = data;
      }
      const hidden = hideMarks(data, marks);
      this.onConnection(conn, rewrap(conn, addedSince(conn, before.conn), guarded));
      const record: SocketRecord = {
        listeners: rewrap(self, addedSince(self, before.self), guarded),
        any: rewrapAny(socket, any, "any"),
        anyOutgoing: rewrapAny(socket, anyOutgoing, "anyOutgoing"),
        data: hidden ? data : undefined,
        marks,
      };
      const known = this.sockets.get(socket);
      if (known) {
        // The admin namespace's sockets pass two of admin-ui's "connection" listeners.
        known.listeners.push(...record.listeners);
        known.any.push(...record.any);
        known.anyOutgoing.push(...record.anyOutgoing);
      } else this.sockets.set(socket, record);
    };
  }

  /**
   * Undoes apply(): the timer, every listener admin-ui added, the marks in socket.data, and the admin
   * namespace (its local sockets disconnected, its adapter closed). The server's other clients stay
   * connected. Calling it again returns the same promise.
   */
  remove(): Promise<void> {
    this.removal ??= this.undo();
    return this.removal;
  }

  private async undo(): Promise<void> {
    const io = this.io;
    if (active.get(io) === this) active.delete(io);
    for (const timer of this.timers) clearInterval(timer);
    for (const [emitter, added] of this.fixed) for (const [ev, fn] of added) emitter.off(ev, fn);
    const clients = (io.engine as unknown as { clients: Record<string, EventEmitter> }).clients;
    for (const conn of Object.values(clients)) {
      for (const [ev, fn] of this.connections.get(conn) ?? []) conn.off(ev, fn);
      this.connections.delete(conn);
    }
    for (const nsp of this.namespaces) {
      if (nsp === this.admin) continue;
      for (const socket of nsp.sockets.values()) this.release(socket);
    }
    const state = io as unknown as Record<string, unknown>;
    delete state._eventBuffer;
    delete state._pollingClientsCount;

    const admin = this.admin;
    if (!admin) return;
    // Local admin sockets only (the other instances keep their own), each leaving just this namespace.
    for (const socket of admin.sockets.values()) socket.disconnect();
    if (io._nsps.get(ADMIN_NAMESPACE) === admin) io._nsps.delete(ADMIN_NAMESPACE);
    await admin.adapter.close();
  }

  private release(socket: Socket): void {
    const record = this.sockets.get(socket);
    if (!record) return;
    this.sockets.delete(socket);
    const self = emitterOf(socket);
    for (const [ev, fn] of record.listeners) self.off(ev, fn);
    for (const fn of record.any) socket.offAny(fn);
    for (const fn of record.anyOutgoing) socket.offAnyOutgoing(fn);
    const data = record.data as Record<string, unknown> | undefined;
    if (data && Object.getOwnPropertyDescriptor(data, "_admin")?.value === record.marks) delete data._admin;
  }
}

/** Calls the listeners of `event` among `added`, as the emitter would. */
function emitTo(added: Added, event: EventName, arg: unknown): void {
  for (const [ev, fn] of added) if (ev === event) fn(arg);
}

/** Puts admin-ui's marks on the socket's own data object, hidden from JSON, cloning and listings. */
function hideMarks(data: unknown, marks: AdminMarks): boolean {
  if (!data || typeof data !== "object" || !Object.isExtensible(data) || Object.hasOwn(data, "_admin")) return false;
  Object.defineProperty(data, "_admin", { value: marks, writable: true, configurable: true, enumerable: false });
  return true;
}

/** Like rewrap(), for catch-all listeners: admin-ui's are the ones after `before`. */
function rewrapAny(socket: Socket, before: Listener[], kind: "any" | "anyOutgoing"): Listener[] {
  const now = [...(kind === "any" ? socket.listenersAny() : socket.listenersAnyOutgoing())] as Listener[];
  const wrapped: Listener[] = [];
  for (const fn of now) {
    if (before.includes(fn)) continue;
    const g = guarded(fn);
    if (kind === "any") socket.offAny(fn).onAny(g);
    else socket.offAnyOutgoing(fn).onAnyOutgoing(g);
    wrapped.push(g);
  }
  return wrapped;
}
