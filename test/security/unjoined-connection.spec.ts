import { strict as assert } from "node:assert";
import { at, DECIDE, endNode, functionNode, startNode, type FlowNode } from "../flow-fixtures";
import { sleep, until } from "../helpers";
import type { NodeRedProcess } from "../node-red-process";
import { attackFlow, legacyEvNode, nodeRedWith } from "./attack-flow";
import { closeRawConnections, rawWebSocket, type RawConnection } from "./attack-kit";
import { pollingSession, sessionClosed } from "./raw-polling";

// Finding 6: a connection that is in no namespace is closed after the server's connect timeout:
// one that never sends a CONNECT, one whose CONNECT the middleware refused, one that left.

const CONNECT_TIMEOUT = 1000;

function flow(ioPort: number): FlowNode[] {
  return attackFlow("attack", ioPort, { connectTimeout: CONNECT_TIMEOUT }, [
    legacyEvNode("srv", []),
    at("tab", 100, 200, startNode("start", ["refuse"], { namespace: "/guarded", timeout: 5 })),
    at("tab", 300, 200, functionNode("refuse", DECIDE.refuse, ["end"])),
    at("tab", 500, 200, endNode("end")),
  ]);
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
    ({ nr, ioPort } = await nodeRedWith(flow));
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
