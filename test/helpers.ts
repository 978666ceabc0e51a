// The in-process test kit: Node-RED's test helper with the package's nodes, socket.io clients that
// are closed after each test, and waiting. The flows themselves are built in flow-fixtures.ts.
import type { NodeStatus } from "node-red";
import helper, { type NodeModule, type SpyCall } from "node-red-node-test-helper";
import { io as ioClient, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { registry } from "../src/nodes/core/server-registry";
import type { SocketHandle } from "../src/nodes/core/socket-handle";
import emitModule from "../src/nodes/socket-io-emit";
import endModule from "../src/nodes/socket-io-middleware-end";
import startModule from "../src/nodes/socket-io-middleware-start";
import onModule from "../src/nodes/socket-io-on";
import roomModule from "../src/nodes/socket-io-room";
import serverModule from "../src/nodes/socket-io-server";
import changeModule from "@node-red/nodes/core/function/15-change.js";
import commentModule from "@node-red/nodes/core/common/90-comment.js";
import debugModule from "@node-red/nodes/core/common/21-debug.js";
import functionModule from "@node-red/nodes/core/function/10-function.js";
import httpInModule from "@node-red/nodes/core/network/21-httpin.js";
import switchModule from "@node-red/nodes/core/function/10-switch.js";
import templateModule from "@node-red/nodes/core/function/80-template.js";
import tlsModule from "@node-red/nodes/core/network/05-tls.js";
import type { FlowNode } from "./flow-fixtures";
import { freePort } from "./ports";

helper.init(require.resolve("node-red"));

export { freePort, helper };

/** Every node module of the package, as helper.load wants them. */
export const allNodes: NodeModule[] = [serverModule, onModule, emitModule, roomModule, startModule, endModule];

/** Node-RED's own nodes that some flows use besides the package's (the test helper loads none by itself). */
export const coreNodes = {
  change: changeModule,
  comment: commentModule,
  debug: debugModule,
  function: functionModule,
  httpIn: httpInModule,
  switch: switchModule,
  template: templateModule,
  tls: tlsModule,
};

/** Loads `flow` with the package's nodes and `extraModules` (Node-RED's own nodes, test-only node types). */
export async function load(flow: FlowNode[], extraModules: NodeModule[] = []): Promise<void> {
  await helper.load([...extraModules, ...allNodes], flow);
}

/** A msg that reached a helper node: the package's msg properties the tests read, and any other. */
export interface Msg {
  _msgid?: string;
  payload?: unknown;
  topic?: unknown;
  event?: string;
  namespace?: string;
  /** A client event's arguments. */
  args: unknown[];
  socketId?: string;
  /** The socket the msg is about (a connection or client event). */
  socket: SocketHandle;
  reason?: string;
  ack?: unknown;
  /** What a Catch node got. */
  error: { message: string; source: { id: string } };
  [key: string]: unknown;
}

const clients = new Set<ClientSocket>();

/** A socket.io client that is closed after the test. Defaults to WebSocket, no reconnection. */
export function client(url: string, opts: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
  const socket = ioClient(url, { transports: ["websocket"], reconnection: false, forceNew: true, ...opts });
  clients.add(socket);
  return socket;
}

/** Resolves with the first argument of the next `event`, or rejects after `ms`. */
export function next<T = unknown>(
  emitter: { once(event: string, fn: (...args: unknown[]) => void): unknown },
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args[0] as T);
    });
  });
}

/** Resolves once `socket` has connected; rejects with its connect_error, or after `ms`. */
export async function whenConnected(socket: ClientSocket, ms = 3000): Promise<void> {
  await Promise.race([
    next(socket, "connect", ms),
    next<Error>(socket, "connect_error", ms).then((err) => {
      throw new Error(`connect_error: ${err.message}`);
    }),
  ]);
}

/** A client that has connected. */
export async function connected(
  url: string,
  opts: Partial<ManagerOptions & SocketOptions> = {},
  ms = 3000,
): Promise<ClientSocket> {
  const socket = client(url, opts);
  await whenConnected(socket, ms);
  return socket;
}

/** How a client's connection attempt ended. */
export type Outcome = { admitted: true } | { admitted: false; err: Error & { data?: unknown } };

/** Resolves with how `c`'s connection attempt ended, or rejects when it did not end within `ms`. */
export function attempt(c: ClientSocket, ms = 3000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`neither connect nor connect_error within ${ms} ms`)), ms);
    c.once("connect", () => {
      clearTimeout(timer);
      resolve({ admitted: true });
    });
    c.once("connect_error", (err: Error) => {
      clearTimeout(timer);
      resolve({ admitted: false, err });
    });
  });
}

/** The connect_error of a client that must be refused; rejects when it is admitted. */
export async function refusal(c: ClientSocket, ms = 3000): Promise<Error & { data?: unknown }> {
  const o = await attempt(c, ms);
  if (o.admitted) throw new Error("the client was admitted");
  return o.err;
}

/** How a connection attempt ended, as the example flows' tests compare it: admitted, or refused with a message. */
export async function admission(c: ClientSocket, ms = 3000): Promise<{ admitted: boolean; message?: string }> {
  const o = await attempt(c, ms);
  return o.admitted ? { admitted: true } : { admitted: false, message: o.err.message };
}

/** Waits until `check` is true, polling every 10 ms. */
export async function until(check: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Tells whether a promise has settled, without waiting for it (longer than 20 ms). */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(20);
  return done;
}

/** The calls a spied Node method (status, warn, error...) got on one node, oldest first (the test helper spies them). */
export function callsOn(id: string, method: string): unknown[][] {
  const node = helper.getNode(id);
  const spy = (node as unknown as Record<string, { getCalls(): SpyCall[] }>)[method];
  return spy
    .getCalls()
    .filter((call) => call.thisValue === node)
    .map((call) => call.args);
}

/** From now on, the first argument of every call of a spied method (warn, error...) of node `id`, as text. */
export function recordCalls(id: string, method: string): string[] {
  const seen: string[] = [];
  helper.getNode(id).on(`call:${method}`, (call) => seen.push(String(call.args[0])));
  return seen;
}

/** The statuses a node set so far, oldest first (the test helper's RED._ makes their texts i18n keys). */
export function statusesOf(id: string): NodeStatus[] {
  return callsOn(id, "status").map((args) => args[0] as NodeStatus);
}

/** What a node wrote with node.warn, as text. */
export function warningsOf(id: string): string[] {
  return callsOn(id, "warn").map((args) => String(args[0]));
}

/** Whether a node ever showed a red status. */
export const everRed = (id: string): boolean => statusesOf(id).some((status) => status.fill === "red");

/** Everything a client receives as `event`, first argument only. */
export function inbox<T = unknown>(c: ClientSocket, event: string): T[] {
  const got: T[] = [];
  c.on(event, (arg: T) => got.push(arg));
  return got;
}

/** Collects every msg a helper node receives. */
export function collect(id: string): Msg[] {
  const msgs: Msg[] = [];
  helper.getNode(id).on("input", (msg) => msgs.push(msg as Msg));
  return msgs;
}

/** The msg.socket of client `c`, from its connection msg among `conns` once that has come. */
export async function socketOf(conns: Msg[], c: { id?: string }, ms = 3000): Promise<SocketHandle> {
  await until(() => conns.some((msg) => msg.socketId === c.id), ms, "the connection msg");
  return conns.find((msg) => msg.socketId === c.id)!.socket;
}

/**
 * Hands `msg` to node `id`; resolves with the msg the flow then passes to `passed`, or rejects with
 * the error of the msg a Catch node passes to `caught`.
 */
export async function passOn(id: string, msg: object, passed: Msg[], caught: Msg[]): Promise<Msg> {
  const [p, f] = [passed.length, caught.length];
  helper.getNode(id).receive(msg);
  await until(() => passed.length > p || caught.length > f, 3000, `${id} to pass the msg on`);
  if (caught.length > f) throw new Error(`${id} failed: ${caught[f].error.message}`);
  return passed[p];
}

/** Closes every client `client` opened. */
export function closeClients(): void {
  for (const socket of clients) socket.disconnect();
  clients.clear();
}

/** Closes every client, unloads the flow and closes every server the test opened. */
export async function cleanup(): Promise<void> {
  closeClients();
  await helper.unload();
  await registry.closeAll();
}
