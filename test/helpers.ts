import { createServer } from "node:net";
import helper from "node-red-node-test-helper";
import { io as ioClient, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { registry } from "../src/nodes/core/server-registry";
import emitNode = require("../src/nodes/socket-io-emit");
import endNode = require("../src/nodes/socket-io-middleware-end");
import startNode = require("../src/nodes/socket-io-middleware-start");
import onNode = require("../src/nodes/socket-io-on");
import roomNode = require("../src/nodes/socket-io-room");
import serverNode = require("../src/nodes/socket-io-server");

helper.init(require.resolve("node-red"));

export { helper };

/** Every node module of the package, as helper.load wants them. */
export const allNodes = [serverNode, onNode, emitNode, roomNode, startNode, endNode];

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const clients = new Set<ClientSocket>();

/** A socket.io client that is closed after the test. Defaults to WebSocket, no reconnection. */
export function client(url: string, opts: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
  const socket = ioClient(url, { transports: ["websocket"], reconnection: false, forceNew: true, ...opts });
  clients.add(socket);
  return socket;
}

/** Resolves with the arguments of the next `event`, or rejects after `ms`. */
export function next<T = unknown>(
  emitter: { once(event: string, fn: (...args: any[]) => void): unknown },
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
): Promise<ClientSocket> {
  const socket = client(url, opts);
  await whenConnected(socket);
  return socket;
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

/** The calls a spied Node method (status, warn, error...) got on one node, oldest first (the test helper spies them). */
export function callsOn(id: string, method: string): unknown[][] {
  const node = helper.getNode(id);
  return node[method]
    .getCalls()
    .filter((call: { thisValue: unknown }) => call.thisValue === node)
    .map((call: { args: unknown[] }) => call.args);
}

/** Collects every msg a helper node receives. */
export function collect(id: string): Array<Record<string, any>> {
  const msgs: Array<Record<string, any>> = [];
  helper.getNode(id).on("input", (msg: Record<string, any>) => msgs.push(msg));
  return msgs;
}

/** Closes every client, unloads the flow and closes every server the test opened. */
export async function cleanup(): Promise<void> {
  for (const socket of clients) socket.disconnect();
  clients.clear();
  await helper.unload();
  await registry.closeAll();
}

/** A node of a test flow. */
export type FlowNode = { id: string; type: string; [key: string]: unknown };

/** A server config node on its own port. */
export function serverConfig(port: number, extra: Record<string, unknown> = {}): FlowNode {
  return { id: "srv", type: "socket-io-server", listen: "port", port, path: "/socket.io", corsOrigins: "*", ...extra };
}
