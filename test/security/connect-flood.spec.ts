import { strict as assert } from "node:assert";
import { io as ioClient } from "socket.io-client";
import { at, DECIDE, endNode, startNode, type FlowNode } from "../flow-fixtures";
import { freePort, sleep, until } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { attackFlow, canaryNodes, counterEndpoint, countingFunction, counts, logLines } from "./attack-flow";
import { closeRawConnections, rawWebSocket, sendMany, startCanary } from "./attack-kit";

// Finding 4: one connection's CONNECT packets, and its token guesses, cost the flow at most one
// middleware run at a time, and a connection that keeps being refused is closed.

/** A server on its own port whose middleware counts its runs; `decide` is the rest of the function. */
function flow(ioPort: number, decide: string, timeout = 2): FlowNode[] {
  return attackFlow("attack", ioPort, {}, [
    at("tab", 100, 100, startNode("start", ["count"], { namespace: "/guarded", timeout })),
    countingFunction("count", "runs", decide, "tab", ["end"]),
    at("tab", 500, 100, endNode("end")),
    ...canaryNodes("srv"),
    ...counterEndpoint(),
  ]);
}

describe("security: connect amplification and token guessing", function () {
  this.timeout(60_000);
  let nr: NodeRedProcess;
  let ioPort: number;

  beforeEach(async function () {
    ioPort = await freePort();
    nr = await startNodeRed({ port: await freePort() });
  });

  afterEach(async function () {
    closeRawConnections();
    await nr.stop();
  });

  it("20,000 CONNECT packets on one connection start one middleware run, close the connection and log a line or two", async function () {
    // The flow never decides: every run would hold a timer and a msg until its timeout.
    await nr.deploy(flow(ioPort, "return null;"));
    await sleep(300);
    const canary = await startCanary(`http://127.0.0.1:${ioPort}`);
    const attacker = await rawWebSocket(ioPort);
    const began = Date.now();
    const sent = await sendMany(attacker, 20_000, () => "40/guarded,");
    const code = await Promise.race([attacker.closed, sleep(5000).then(() => -1)]);
    assert.notEqual(code, -1, "the server closed the flooding connection");
    // Wait past the middleware timeout, so that every run there was has timed out and warned.
    await sleep(Math.max(0, 2500 - (Date.now() - began)));
    const report = await canary.stop();
    const runs = (await counts(nr.url)).runs ?? 0;
    assert.equal(runs, 1, `middleware runs for ${sent} CONNECT packets`);
    const warnings = logLines(nr.output(), "warn", /\[socket-io-/);
    assert.ok(warnings.length <= 3, `at most a few warn lines, got ${warnings.length}:\n${warnings.join("\n")}`);
    assert.equal(logLines(nr.output(), "error").length, 0, nr.output());
    assert.ok(
      report.p99 < 500,
      `canary p99 ${report.p99.toFixed(1)} ms (count ${report.count}, unanswered ${report.unanswered})`,
    );
  });

  it("an app that calls connect() again while connecting is admitted once, with one middleware run", async function () {
    await nr.deploy(flow(ioPort, DECIDE.admit));
    await sleep(300);
    const sloppy = ioClient(`http://127.0.0.1:${ioPort}/guarded`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    try {
      // socket.io-client sends a second CONNECT for this: the socket is already connecting.
      sloppy.connect();
      await new Promise<void>((resolve, reject) => {
        sloppy.once("connect", () => resolve());
        sloppy.once("connect_error", reject);
      });
      await sleep(300);
      assert.equal(sloppy.connected, true);
      assert.equal((await counts(nr.url)).runs, 1);
    } finally {
      sloppy.disconnect();
    }
  });

  it("a connection that guesses tokens is closed after 5 refusals; a new client with the right token gets in", async function () {
    await nr.deploy(flow(ioPort, `msg.payload = msg.socket.handshake.auth.token === "right"; return msg;`));
    await sleep(300);
    const attacker = await rawWebSocket(ioPort);
    // One guess at a time: each waits for its CONNECT_ERROR, as a guessing client must.
    let guesses = 0;
    for (; guesses < 50 && attacker.isOpen(); guesses++) {
      const before = attacker.frames.length;
      attacker.send(`40/guarded,${JSON.stringify({ token: `guess-${guesses}` })}`);
      await until(() => attacker.frames.length > before || !attacker.isOpen(), 3000, "the answer to a guess");
    }
    await Promise.race([attacker.closed, sleep(2000)]);
    assert.ok(!attacker.isOpen(), "the guessing connection was closed");
    assert.equal(guesses, 5, "guesses answered before the connection was closed");
    const refused = attacker.frames.filter((f) => f.startsWith("44/guarded,"));
    assert.equal(refused.length, 5);
    assert.match(refused[0], /unauthorized/);
    assert.equal((await counts(nr.url)).runs, 5);

    const good = ioClient(`http://127.0.0.1:${ioPort}/guarded`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: { token: "right" },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        good.once("connect", () => resolve());
        good.once("connect_error", reject);
      });
    } finally {
      good.disconnect();
    }
    assert.equal(logLines(nr.output(), "warn", /closed after 5 refused/).length, 1, nr.output());
  });
});
