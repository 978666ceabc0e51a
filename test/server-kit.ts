// What the socket-io-server and bad-input specs share: flows that answer, and checks that they still do.
import { strict as assert } from "node:assert";
import type { Socket as ClientSocket } from "socket.io-client";
import type { ServerEntry } from "../src/nodes/core/server-entry";
import { answerNodes, type FlowNode } from "./flow-fixtures";
import { client, connected, helper, next, refusal } from "./helpers";

/** Resolves with the connect_error of a client that must be refused. */
export const refused = (url: string, opts: Parameters<typeof client>[1] = {}): Promise<Error> =>
  refusal(client(url, opts));

/** The client gets an answer to an event: the flow behind the server is alive. */
export async function answered(c: ClientSocket, event = "ping", reply = "pong"): Promise<void> {
  const value = Math.random();
  c.emit(event, value);
  assert.equal(await next(c, reply), value);
}

/** An on node "on<suffix>" of `server` that answers `event` with `reply` to the same socket. */
export const echo = (server: string, event = "ping", reply = "pong", suffix = ""): FlowNode[] =>
  answerNodes(`on${suffix}`, event, `emit${suffix}`, reply, { server });

/** What answers the control of the bad-input specs: a client's "ping" is answered "pong" by server `server`. */
export const pingPong = (server = "srv"): FlowNode[] => answerNodes("on-ping", "ping", "pong", "pong", { server });

/** The control every bad-input test ends with: a new client emits "ping" and is answered "pong". */
export async function answersPing(url: string): Promise<void> {
  const c = await connected(url);
  const pong = next(c, "pong");
  c.emit("ping", "still there?");
  assert.equal(await pong, "still there?");
}

/** The server a config node got from the registry. */
export function entryOf(id: string): ServerEntry {
  const entry = (helper.getNode(id) as unknown as { entry?: ServerEntry }).entry;
  assert.ok(entry, `config node ${id} has no server`);
  return entry;
}
