// The kit of admin-instrument.spec.ts: a Socket.IO server as the package sets one up (namespaces, a
// middleware that fills socket.data, acks), every listener it holds counted, and the timers apply() makes.
import { createHook } from "node:async_hooks";
import type { EventEmitter } from "node:events";
import { createServer } from "node:http";
import bcrypt from "bcryptjs";
import { Server, type ServerOptions, type Socket } from "socket.io";
import { ADMIN_NAMESPACE } from "../src/nodes/core/admin-instrument";
import { client, freePort } from "./helpers";

export const ADMIN = { username: "admin", password: "secret" };
/** Few rounds: the tests log in often. */
export const PASSWORD_HASH = bcrypt.hashSync(ADMIN.password, 4);

export interface TestServer {
  io: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * A server on 127.0.0.1 like one of the package's: "/" answers "ping" with an ack, "/news" fills
 * socket.data with a Date in a middleware and joins room "r1"; the ack comes from a "new_namespace"
 * listener (engine-guard has one) on the namespaces made later.
 */
export async function testServer(opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const port = await freePort();
  const http = createServer();
  const io = new Server(http, opts);
  const answer = (socket: Socket): void => {
    socket.on("ping", (ack: (reply: unknown) => void) => ack("pong"));
  };
  io.on("new_namespace", (nsp) => nsp.on("connection", answer));
  io.on("connection", answer);
  io.of("/news")
    .use((socket, next) => {
      socket.data.since = new Date(0);
      next();
    })
    .on("connection", (socket) => socket.join("r1"));
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  return { io, url: `http://127.0.0.1:${port}`, close: () => io.close() };
}

/** An admin client of the UI's kind, closed after the test. */
export function adminClient(url: string, auth: Record<string, unknown> = ADMIN) {
  return client(url + ADMIN_NAMESPACE, { auth });
}

const counts = (emitter: EventEmitter): Record<string, number> =>
  Object.fromEntries(
    emitter
      .eventNames()
      .map((ev) => [String(ev), emitter.listenerCount(ev)] as const)
      .filter(([, n]) => n > 0)
      .sort(),
  );

/**
 * Every listener of the server, by what holds it: the engine, each namespace and its adapter, and for
 * sockets and Engine.IO connections the sorted list of their counts (ids differ from server to server).
 */
export function listenerProfile(io: Server): Record<string, unknown> {
  const profile: Record<string, unknown> = { engine: counts(io.engine as unknown as EventEmitter) };
  const sockets: string[] = [];
  for (const nsp of io._nsps.values()) {
    profile[`namespace ${nsp.name}`] = counts(nsp as unknown as EventEmitter);
    profile[`adapter ${nsp.name}`] = counts(nsp.adapter as unknown as EventEmitter);
    for (const socket of nsp.sockets.values()) {
      const own = counts(socket as unknown as EventEmitter);
      sockets.push(
        JSON.stringify({
          nsp: nsp.name,
          own,
          any: socket.listenersAny().length,
          anyOutgoing: socket.listenersAnyOutgoing().length,
        }),
      );
    }
  }
  profile.sockets = sockets.sort();
  const clients = (io.engine as unknown as { clients: Record<string, EventEmitter> }).clients;
  profile.connections = Object.values(clients)
    .map((conn) => JSON.stringify(counts(conn)))
    .sort();
  return profile;
}

/** The total of the profile's listeners, for the report. */
export function listenerTotal(profile: Record<string, unknown>): number {
  let total = 0;
  const add = (value: unknown): void => {
    if (typeof value === "number") total += value;
    else if (typeof value === "string" && value.startsWith("{")) add(JSON.parse(value));
    else if (value && typeof value === "object") Object.values(value).forEach(add);
  };
  add(profile);
  return total;
}

/** A Node.js timer as async_hooks sees it. */
interface TimerResource {
  _repeat: number | null;
  _idleTimeout: number;
  _destroyed: boolean;
}

/** The repeating timers (setInterval) started while `fn` runs, with what it returned. */
export function intervalsStartedBy<T>(fn: () => T): { result: T; intervals: TimerResource[] } {
  const intervals: TimerResource[] = [];
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === "Timeout" && (resource as TimerResource)._repeat) intervals.push(resource as TimerResource);
    },
  });
  hook.enable();
  try {
    return { result: fn(), intervals };
  } finally {
    hook.disable();
  }
}

/** How many timers the process holds now. */
export const activeTimeouts = (): number =>
  process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

/** Uncaught exceptions and unhandled rejections while a test runs: each would crash Node-RED. */
export function watchCrashes(): { list: string[]; stop(): void } {
  const list: string[] = [];
  const record = (err: unknown): void => {
    list.push(String((err as Error)?.stack ?? err));
  };
  process.on("unhandledRejection", record);
  process.on("uncaughtException", record);
  return {
    list,
    stop() {
      process.off("unhandledRejection", record);
      process.off("uncaughtException", record);
    },
  };
}
