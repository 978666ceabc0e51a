import type { Namespace, Socket } from "socket.io";
import { RESERVED_INSTANCE_EVENTS } from "./event-router";
import { kindOf, Problem, type WordValues } from "./problem";
import { SocketGoneError, SocketHandle } from "./socket-handle";
import { withTimeout } from "./with-timeout";

/**
 * Who an emit goes to; "instances" are the other Node-RED instances on the same Redis (not clients).
 * "reply" answers the sender in msg.socket, or goes to everyone when the msg has no socket, as core
 * `websocket out` does with `msg._session`.
 */
export type TargetKind = "reply" | "all" | "rooms" | "socket" | "broadcast" | "ack" | "instances";
export const TARGET_KINDS: readonly TargetKind[] = ["reply", "all", "rooms", "socket", "broadcast", "ack", "instances"];

/** The target "reply" resolves to "socket" for a msg that carries one, else to "all". */
export function resolveReply(target: TargetKind, socket: unknown): TargetKind {
  if (target !== "reply") return target;
  return socket === undefined || socket === null ? "all" : "socket";
}

/** A user-fixable problem with an emit (no event, bad room...); its code (under `emit`) says which. */
export class EmitError extends Problem {
  constructor(code: string, values: WordValues = {}) {
    super(`emit.${code}`, values);
  }
}

/**
 * Reads a room list: a string (comma-separated allowed) or an array of strings.
 * @param what names the property in the error, worded by the caller: "msg.room", or a dialog label
 */
export function toRoomList(value: unknown, what: string): string[] {
  if (value === undefined || value === null || value === "") return [];
  const list = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(list) || !list.every((r) => typeof r === "string" || typeof r === "number")) {
    throw new EmitError("roomList", { what, kind: kindOf(value) });
  }
  return list.map((r) => String(r).trim()).filter((r) => r.length > 0);
}

export interface EmitRequest {
  target: TargetKind;
  /** The namespace for "all", "rooms" and "instances" (a socket carries its own). */
  namespace?: Namespace;
  event: string;
  args: unknown[];
  rooms: string[];
  except: string[];
  socket?: unknown;
  ack?: unknown;
  volatile: boolean;
  compress: boolean;
  /** Wait this long for acknowledgements; undefined: do not wait. */
  ackTimeoutMs?: number;
}

/** Socket.IO's emitters share these; a socket is one, a broadcast operator another. */
interface Emitter {
  emit(event: string, ...args: unknown[]): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
}

function handleIn(value: unknown): SocketHandle {
  if (!SocketHandle.is(value)) throw new EmitError("needsSocket", { kind: kindOf(value) });
  return value;
}

function liveSocket(value: unknown): Socket {
  const handle = handleIn(value);
  const socket = handle.live;
  if (!socket) throw new SocketGoneError(handle.id, handle.namespace);
  return socket;
}

function emitter(req: EmitRequest): Emitter {
  switch (req.target) {
    case "all":
    case "rooms": {
      const nsp = req.namespace;
      if (!nsp) throw new EmitError("noNamespace");
      let op = nsp.compress(req.compress);
      if (req.target === "rooms") {
        if (req.rooms.length === 0) throw new EmitError("noRooms");
        op = op.to(req.rooms);
        if (req.except.length > 0) op = op.except(req.except);
      }
      return (req.volatile ? op.volatile : op) as unknown as Emitter;
    }
    case "broadcast": {
      // Through the handle: a sender that has just left (a page reload) still has its broadcast sent.
      let op = handleIn(req.socket).broadcast.compress(req.compress);
      if (req.rooms.length > 0) op = op.to(req.rooms);
      if (req.except.length > 0) op = op.except(req.except);
      return (req.volatile ? op.volatile : op) as unknown as Emitter;
    }
    case "socket": {
      const socket = liveSocket(req.socket).compress(req.compress);
      return (req.volatile ? socket.volatile : socket) as unknown as Emitter;
    }
    default:
      throw new EmitError("unknownTarget", { target: String(req.target) });
  }
}

/**
 * Sends one emit. Returns once Socket.IO has taken it; with `ackTimeoutMs`, returns a Promise of the
 * client's answer (one socket) or the array of answers (several).
 * @throws EmitError, SocketGoneError, or an error saying why the arguments cannot be sent
 */
export function emitTo(req: EmitRequest): undefined | Promise<unknown> {
  if (req.target === "ack") {
    if (typeof req.ack !== "function") throw new EmitError("needsAck", { kind: kindOf(req.ack) });
    const answered = (req.ack as (...a: unknown[]) => boolean)(...req.args);
    if (answered === false) throw new EmitError("ackAnswered");
    return undefined;
  }
  if (typeof req.event !== "string" || req.event === "") throw new EmitError("noEvent");
  if (req.target === "instances") return emitToInstances(req);
  const target = emitter(req);
  if (req.ackTimeoutMs === undefined) {
    try {
      target.emit(req.event, ...req.args);
    } catch (err) {
      throw explain(err as Error, req);
    }
    return undefined;
  }
  let answers: Promise<unknown>;
  try {
    answers = target.timeout(req.ackTimeoutMs).emitWithAck(req.event, ...req.args);
  } catch (err) {
    throw explain(err as Error, req);
  }
  return answers.catch((err: Error) => {
    throw explain(err, req);
  });
}

/**
 * `serverSideEmit` to the other instances of the namespace. With `ackTimeoutMs`, a Promise of their
 * answers, one per instance; Socket.IO's adapters give up after 5 s whatever the timeout.
 */
function emitToInstances(req: EmitRequest): undefined | Promise<unknown> {
  const nsp = req.namespace;
  if (!nsp) throw new EmitError("noNamespace");
  if (RESERVED_INSTANCE_EVENTS.includes(req.event)) {
    throw new EmitError("reservedInstanceEvent", {
      event: req.event,
      reserved: RESERVED_INSTANCE_EVENTS.map((e) => `"${e}"`),
    });
  }
  try {
    // The adapters send these arguments as JSON: a cycle or a BigInt fails here, not in the adapter later.
    JSON.stringify(req.args);
    if (req.ackTimeoutMs === undefined) {
      nsp.serverSideEmit(req.event, ...req.args);
      return undefined;
    }
  } catch (err) {
    throw explain(err as Error, req);
  }
  let answers: Promise<unknown>;
  try {
    answers = nsp.serverSideEmitWithAck(req.event, ...req.args);
  } catch (err) {
    throw explain(err as Error, req);
  }
  return withTimeout(answers, req.ackTimeoutMs, () => new InstancesTimedOut()).catch((err: Error) => {
    throw explain(err, req);
  });
}

/** Our own deadline for the other instances' answers passed (Socket.IO's adapters give up at 5 s). */
class InstancesTimedOut extends Error {}

// Socket.IO encodes while emitting: a cycle overflows the stack, a BigInt fails JSON.stringify.
// Its own timeouts reject with "operation has timed out" (clients) or "timeout reached" (adapters).
function explain(err: Error, req: EmitRequest): Error {
  const event = req.event;
  if (
    req.target === "instances" &&
    (err instanceof InstancesTimedOut || /timed out|timeout reached/i.test(err.message))
  ) {
    return new EmitError("instancesAckTimeout", { event, ms: Math.min(req.ackTimeoutMs ?? 5000, 5000) });
  }
  if (err instanceof RangeError) return new EmitError("circular", { event });
  if (err instanceof TypeError) return new EmitError("unserializable", { event, error: err.message });
  if (/timed out/i.test(err.message)) {
    return new EmitError(req.target === "socket" ? "clientAckTimeout" : "clientsAckTimeout", {
      event,
      ms: req.ackTimeoutMs ?? 0,
    });
  }
  return err;
}
