import type { BroadcastOperator, Namespace, Socket } from "socket.io";
import { RESERVED_INSTANCE_EVENTS } from "./event-router";
import { SocketGoneError, SocketHandle } from "./socket-handle";

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

/** A user-fixable problem with an emit (no event, bad room, gone socket...). */
export class EmitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmitError";
  }
}

/**
 * Reads a room list: a string (comma-separated allowed) or an array of strings.
 * @param what names the property in the error, e.g. "msg.room"
 */
export function toRoomList(value: unknown, what: string): string[] {
  if (value === undefined || value === null || value === "") return [];
  const list = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(list) || !list.every((r) => typeof r === "string" || typeof r === "number")) {
    throw new EmitError(`${what} must be a room name or an array of room names, not ${describe(value)}`);
  }
  return list.map((r) => String(r).trim()).filter((r) => r.length > 0);
}

/** A short description of a value's kind for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (Buffer.isBuffer(value)) return "a Buffer";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
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

function handleIn(value: unknown, target: string): SocketHandle {
  if (!SocketHandle.is(value)) {
    throw new EmitError(`target "${target}" needs msg.socket from a socket-io-on or socket-io-middleware-start node, not ${describe(value)}`);
  }
  return value;
}

function liveSocket(value: unknown, target: string): Socket {
  const handle = handleIn(value, target);
  const socket = handle.live;
  if (!socket) throw new SocketGoneError(handle.id, handle.namespace);
  return socket;
}

function emitter(req: EmitRequest): Emitter {
  switch (req.target) {
    case "all":
    case "rooms": {
      const nsp = req.namespace;
      if (!nsp) throw new EmitError("no namespace to emit to");
      let op: BroadcastOperator<any, any> = nsp.compress(req.compress);
      if (req.target === "rooms") {
        if (req.rooms.length === 0) throw new EmitError('target "rooms" needs at least one room: set Rooms or msg.room');
        op = op.to(req.rooms);
        if (req.except.length > 0) op = op.except(req.except);
      }
      return (req.volatile ? op.volatile : op) as unknown as Emitter;
    }
    case "broadcast": {
      // Through the handle: a sender that has just left (a page reload) still has its broadcast sent.
      let op = handleIn(req.socket, "broadcast").broadcast.compress(req.compress);
      if (req.rooms.length > 0) op = op.to(req.rooms);
      if (req.except.length > 0) op = op.except(req.except);
      return (req.volatile ? op.volatile : op) as unknown as Emitter;
    }
    case "socket": {
      const socket = liveSocket(req.socket, "socket").compress(req.compress);
      return (req.volatile ? socket.volatile : socket) as unknown as Emitter;
    }
    default:
      throw new EmitError(`unknown target "${String(req.target)}"`);
  }
}

/**
 * Sends one emit. Returns once Socket.IO has taken it; with `ackTimeoutMs`, returns a Promise of the
 * client's answer (one socket) or the array of answers (several).
 * @throws EmitError, SocketGoneError, or an error saying why the arguments cannot be sent
 */
export function emitTo(req: EmitRequest): undefined | Promise<unknown> {
  if (req.target === "ack") {
    if (typeof req.ack !== "function") {
      throw new EmitError(`target "reply to msg.ack" needs msg.ack from a socket-io-on node whose client asked for an acknowledgement, not ${describe(req.ack)}`);
    }
    const answered = (req.ack as (...a: unknown[]) => boolean)(...req.args);
    if (answered === false) throw new EmitError("msg.ack was already answered (the msg was cloned, or answered twice); a client takes one answer");
    return undefined;
  }
  if (typeof req.event !== "string" || req.event === "") throw new EmitError("no event name: set Event, or msg.event");
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
  if (!nsp) throw new EmitError("no namespace to emit to");
  if (RESERVED_INSTANCE_EVENTS.includes(req.event)) {
    throw new EmitError(`"${req.event}" cannot be sent to other instances: ${RESERVED_INSTANCE_EVENTS.map((e) => `"${e}"`).join(", ")} are reserved`);
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
  const ms = req.ackTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  let answers: Promise<unknown>;
  try {
    answers = nsp.serverSideEmitWithAck(req.event, ...req.args);
  } catch (err) {
    clearTimeout(timer);
    late.catch(() => undefined);
    throw explain(err as Error, req);
  }
  return Promise.race([answers, late]).then(
    (value) => {
      clearTimeout(timer);
      return value;
    },
    (err: Error) => {
      clearTimeout(timer);
      throw explain(err, req);
    },
  );
}

// Socket.IO encodes while emitting: a cycle overflows the stack, a BigInt fails JSON.stringify.
function explain(err: Error, req: EmitRequest): Error {
  if (req.target === "instances" && /timed out|timeout reached/i.test(err.message)) {
    return new EmitError(`not every other Node-RED instance acknowledged event "${req.event}" within ${Math.min(req.ackTimeoutMs ?? 5000, 5000)} ms`);
  }
  if (err instanceof RangeError) {
    return new EmitError(`the payload of event "${req.event}" cannot be sent: it contains a circular reference`);
  }
  if (err instanceof TypeError) {
    return new EmitError(`the payload of event "${req.event}" cannot be sent: ${err.message}`);
  }
  if (/timed out/i.test(err.message)) {
    const who = req.target === "socket" ? "the client did not acknowledge" : "not every client acknowledged";
    return new EmitError(`${who} event "${req.event}" within ${req.ackTimeoutMs} ms`);
  }
  return err;
}
