import { strict as assert } from "node:assert";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  at,
  endNode,
  emitNode,
  functionNode,
  helperNode,
  onNode,
  serverConfig,
  startNode,
  type FlowNode,
  type Props,
} from "../flow-fixtures";
import { cleanup, client, collect, coreNodes, freePort, helper, load, next, sleep, until } from "../helpers";
import { closeRawConnections, rawWebSocket } from "./attack-kit";

// Finding 2: connection-state recovery must not be a way around the middleware, nor replayable.

// Admits the token "secret" unless the flow has revoked it since (global context "revoked").
const CHECK = `
  const revoked = global.get("revoked") || [];
  const token = msg.socket.handshake.auth.token;
  msg.payload = token === "secret" && !revoked.includes(token);
  return msg;`;

function flow(port: number, server: Props = {}): FlowNode[] {
  return [
    { id: "tab", type: "tab", label: "recovery" },
    serverConfig(port, { recovery: true, recoveryDuration: 60_000, ...server }),
    at("tab", 100, 100, startNode("start", ["check", "seen"], { timeout: 5 })),
    at("tab", 300, 100, functionNode("check", CHECK, ["end"])),
    at("tab", 500, 100, endNode("end")),
    at("tab", 300, 150, helperNode("seen")),
    // Every new connection is sent "welcome", so the client has an offset to recover from.
    at("tab", 100, 200, onNode("on", "connection", ["welcome"])),
    at("tab", 300, 200, emitNode("welcome", "socket", "welcome")),
  ];
}

/** Loads a flow with Node-RED's function node. */
const loadFlow = (nodes: FlowNode[]): Promise<void> => load(nodes, [coreNodes.function]);

/** The session a socket.io client would present when it reconnects. */
function sessionOf(c: ClientSocket): { pid: string; offset: string } {
  const s = c as unknown as { _pid?: string; _lastOffset?: string };
  assert.ok(s._pid && s._lastOffset, "the client has a session to recover");
  return { pid: s._pid, offset: s._lastOffset };
}

/** A recovering client, connected and welcomed. */
async function welcomed(url: string, token = "secret"): Promise<ClientSocket> {
  const c = client(url, { auth: { token }, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
  await next(c, "welcome");
  return c;
}

/** Drops the client's transport as a network would; it reconnects by itself with its pid and offset. */
function dropTransport(c: ClientSocket): void {
  (c.io as unknown as { engine: { close(): void } }).engine.close();
}

describe("security: connection-state recovery and the middleware", function () {
  afterEach(async function () {
    closeRawConnections();
    await cleanup();
  });

  it("a recovered connection goes through the middleware, with msg.recovered true", async function () {
    const port = await freePort();
    await loadFlow(flow(port));
    const seen = collect("seen");
    const c = await welcomed(`http://127.0.0.1:${port}`);
    const id = c.id;
    dropTransport(c);
    await next(c, "connect");
    assert.equal(c.recovered, true, "the session was recovered");
    assert.equal(c.id, id);
    await until(() => seen.length === 2, 2000, "two middleware msgs");
    assert.equal(seen[0].recovered, false);
    assert.equal(seen[1].recovered, true);
  });

  it("a client whose token has been revoked cannot recover its session", async function () {
    const port = await freePort();
    await loadFlow(flow(port));
    const c = await welcomed(`http://127.0.0.1:${port}`);
    helper.getNode("check").context().global.set("revoked", ["secret"]);
    dropTransport(c);
    const err = await next<Error>(c, "connect_error");
    assert.equal(err.message, "unauthorized");
    assert.equal(c.connected, false);
  });

  it("a session is recovered once: presenting the same pid and offset again gets no session", async function () {
    const port = await freePort();
    await loadFlow(flow(port, { recoverySkipMiddleware: true }));
    const c = await welcomed(`http://127.0.0.1:${port}`);
    const id = c.id;
    const session = sessionOf(c);
    dropTransport(c);
    await next(c, "connect");
    assert.equal(c.recovered, true);
    // While the recovered socket is connected, a second connection presents the same session with
    // no token at all. It must not become a second live socket with that id.
    const replay = await rawWebSocket(port);
    replay.send(`40${JSON.stringify(session)}`);
    await until(
      () => replay.frames.some((f) => f.startsWith("40") || f.startsWith("44")),
      3000,
      "the answer to the replay",
    );
    const answer = replay.frames.find((f) => f.startsWith("40") || f.startsWith("44"))!;
    assert.ok(answer.startsWith("44"), `the replay was admitted: ${answer}`);
    assert.match(answer, /unauthorized/);
    assert.equal(c.connected, true);
    assert.equal(c.id, id);
  });

  it("two connections presenting one session at once never make two live sockets with one id", async function () {
    const port = await freePort();
    await loadFlow(flow(port, { recoverySkipMiddleware: true }));
    const owner = client(`http://127.0.0.1:${port}`, { auth: { token: "secret" } });
    await next(owner, "welcome");
    const id = owner.id;
    const session = sessionOf(owner);
    // The owner's network drops and it does not come back: its session waits on the server.
    dropTransport(owner);
    await sleep(100);
    const [a, b] = await Promise.all([rawWebSocket(port), rawWebSocket(port)]);
    a.send(`40${JSON.stringify(session)}`);
    b.send(`40${JSON.stringify(session)}`);
    const answered = (f: string): boolean => f.startsWith("40") || f.startsWith("44");
    await until(() => a.frames.some(answered) && b.frames.some(answered), 3000, "both answers");
    const admittedAs = [a, b]
      .map((r) => r.frames.find(answered)!)
      .filter((f) => f.startsWith("40"))
      .map((f) => JSON.parse(f.slice(2)).sid);
    assert.ok(admittedAs.filter((sid) => sid === id).length <= 1, `sockets with id ${id}: ${admittedAs.join(", ")}`);
    // With the middleware skipped for recovered connections, the one that got the session is in; the
    // other is a new connection without a token, which the middleware refuses.
    assert.deepEqual(admittedAs, [id]);
  });
});
