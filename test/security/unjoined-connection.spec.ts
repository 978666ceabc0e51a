import { strict as assert } from "node:assert";
import { freePort, sleep, until, type FlowNode } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { closeRawConnections, rawWebSocket, type RawConnection } from "./attack-kit";
import { pollingSession, sessionClosed } from "./raw-polling";

// Finding 6: a connection that is in no namespace is closed after the server's connect timeout:
// one that never sends a CONNECT, one whose CONNECT the middleware refused, one that left.

const CONNECT_TIMEOUT = 1000;

function flow(ioPort: number): FlowNode[] {
  return [
    { id: "tab", type: "tab", label: "attack" },
    {
      id: "srv",
      type: "socket-io-server",
      listen: "port",
      port: ioPort,
      path: "/socket.io",
      corsOrigins: "*",
      connectTimeout: CONNECT_TIMEOUT,
    },
    {
      id: "on",
      type: "socket-io-on",
      z: "tab",
      x: 100,
      y: 100,
      server: "srv",
      namespace: "/",
      eventType: "client",
      event: "ev",
      wires: [[]],
    },
    {
      id: "start",
      type: "socket-io-middleware-start",
      z: "tab",
      x: 100,
      y: 200,
      server: "srv",
      namespace: "/guarded",
      timeout: 5,
      order: 0,
      wires: [["refuse"]],
    },
    {
      id: "refuse",
      type: "function",
      z: "tab",
      x: 300,
      y: 200,
      func: "msg.payload = false; return msg;",
      outputs: 1,
      wires: [["end"]],
    },
    { id: "end", type: "socket-io-middleware-end", z: "tab", x: 500, y: 200, errMsg: "", wires: [] },
  ];
}

/** How long after `since` the server closed `conn`, or -1 when it was still open after `ms`. */
async function closedAfter(conn: RawConnection, since: number, ms = 4000): Promise<number> {
  const code = await Promise.race([conn.closed, sleep(ms).then(() => -1)]);
  return code === -1 ? -1 : Date.now() - since;
}

describe("security: connections in no namespace", function () {
  this.timeout(30_000);
  let nr: NodeRedProcess;
  let ioPort: number;

  before(async function () {
    ioPort = await freePort();
    nr = await startNodeRed({ port: await freePort() });
    await nr.deploy(flow(ioPort));
    await until(() => nr.output().includes(`listening on port ${ioPort}`), 5000, "the Socket.IO server to listen");
  });

  afterEach(function () {
    closeRawConnections();
  });

  after(async function () {
    await nr?.stop();
  });

  it("a raw WebSocket that never sends a CONNECT is closed after the connect timeout", async function () {
    const began = Date.now();
    const conn = await rawWebSocket(ioPort);
    const after = await closedAfter(conn, began);
    assert.ok(after >= CONNECT_TIMEOUT - 100 && after < CONNECT_TIMEOUT + 1500, `closed after ${after} ms`);
  });

  it("a polling connection that never sends a CONNECT is closed after the connect timeout", async function () {
    const began = Date.now();
    const session = await pollingSession(ioPort);
    assert.ok(await sessionClosed(session, CONNECT_TIMEOUT + 1500), "the session was closed");
    const after = Date.now() - began;
    assert.ok(after >= CONNECT_TIMEOUT - 100, `closed after ${after} ms`);
  });

  it("a connection whose CONNECT the middleware refused, and that then stays idle, is closed", async function () {
    const began = Date.now();
    const conn = await rawWebSocket(ioPort);
    conn.send("40/guarded,");
    await until(() => conn.frames.some((f) => f.startsWith("44/guarded,")), 3000, "the refusal");
    const after = await closedAfter(conn, began);
    assert.ok(after >= CONNECT_TIMEOUT - 100 && after < CONNECT_TIMEOUT + 1500, `closed after ${after} ms`);
  });

  it("a connection that joined stays open past the connect timeout", async function () {
    const conn = await rawWebSocket(ioPort);
    conn.send("40");
    await until(() => conn.frames.some((f) => f.startsWith("40{")), 3000, "the CONNECT answer");
    assert.equal(await closedAfter(conn, Date.now(), CONNECT_TIMEOUT + 1000), -1, "still open");
  });

  it("a connection that joined and left every namespace is closed after the connect timeout", async function () {
    const conn = await rawWebSocket(ioPort);
    conn.send("40");
    await until(() => conn.frames.some((f) => f.startsWith("40{")), 3000, "the CONNECT answer");
    const left = Date.now();
    conn.send("41");
    const after = await closedAfter(conn, left);
    assert.ok(after >= CONNECT_TIMEOUT - 100 && after < CONNECT_TIMEOUT + 1500, `closed ${after} ms after leaving`);
  });

  it("a connection that left and joined again stays open", async function () {
    const conn = await rawWebSocket(ioPort);
    conn.send("40");
    await until(() => conn.frames.filter((f) => f.startsWith("40{")).length === 1, 3000, "the CONNECT answer");
    conn.send("41");
    await sleep(200);
    conn.send("40");
    await until(() => conn.frames.filter((f) => f.startsWith("40{")).length === 2, 3000, "the second CONNECT answer");
    assert.equal(await closedAfter(conn, Date.now(), CONNECT_TIMEOUT + 1000), -1, "still open");
  });
});
