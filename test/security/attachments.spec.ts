import { strict as assert } from "node:assert";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import type { FlowNode } from "../flow-fixtures";
import { sleep, until } from "../helpers";
import type { NodeRedProcess } from "../node-red-process";
import { ackAt, attackFlow, canaryNodes, eventNode, logLines, nodeRedWith } from "./attack-flow";
import {
  closeRawConnections,
  rawWebSocket,
  startCanary,
  type Canary,
  type CanaryReport,
  type RawConnection,
} from "./attack-kit";

// Finding 6, held buffers: what an unfinished binary-attachment packet may hold is bounded in count
// (10 attachments), bytes (Max buffer size for all of them) and time (10 s).

const MAX_BUFFER = 2_000_000;
const MB = 1024 * 1024;
const ATTACKERS = 30;

function flow(ioPort: number): FlowNode[] {
  return attackFlow("attack", ioPort, { maxHttpBufferSize: MAX_BUFFER }, [
    eventNode("ev", ["ack"]),
    ackAt("ack", "tab", 300, 100),
    ...canaryNodes("srv"),
  ]);
}

/** The first frame of a BINARY_EVENT "ev" announcing `announced` attachments. */
function binaryHeader(announced: number): string {
  const placeholders = Array.from({ length: announced }, (_, num) => ({ _placeholder: true, num }));
  return `45${announced}-${JSON.stringify(["ev", ...placeholders])}`;
}

/**
 * Makes a connection send its frames with a zero mask, as an attacker's client would: ws then skips
 * masking on both ends, and neither process spends seconds XOR-ing the megabytes under test in
 * JavaScript (no bufferutil here). ws reads these two fields for every frame.
 */
function zeroMask(conn: RawConnection): void {
  const sender = (conn.ws as unknown as { _sender: { _generateMask?: (mask: Buffer) => void; _maskBuffer?: Buffer } })
    ._sender;
  sender._generateMask = (mask) => mask.fill(0);
  sender._maskBuffer = Buffer.alloc(4);
}

/** `n` raw connections that joined namespace "/", each with a flag set once the server closed it. */
async function attackers(port: number, n: number): Promise<Array<RawConnection & { gone: boolean }>> {
  const conns = await Promise.all(Array.from({ length: n }, () => rawWebSocket(port)));
  const watched = conns.map((c) => {
    zeroMask(c);
    const w = Object.assign(c, { gone: false });
    void c.closed.then(() => (w.gone = true));
    c.send("40");
    return w;
  });
  await until(() => watched.every((c) => c.frames.some((f) => f.startsWith("40{"))), 5000, "every attacker to join /");
  return watched;
}

/**
 * Sends binary frames one connection after the other. Each frame waits until the one before has
 * left: the attack goes no faster than the server reads, and the test process (the canary's too)
 * does not stall masking frames a closed connection would never read.
 */
async function sendFrames(conns: RawConnection[], frame: Buffer, count: number): Promise<void> {
  for (const c of conns) {
    for (let i = 0; i < count && c.isOpen(); i++) {
      c.send(frame);
      while (c.isOpen() && c.ws.bufferedAmount > 0) await sleep(2);
    }
  }
}

/** Emits "ev" and resolves with every argument of the answer. */
function ask(client: ClientSocket, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    client
      .timeout(5000)
      .emit("ev", ...args, (err: Error | null, ...answer: unknown[]) => (err ? reject(err) : resolve(answer)));
  });
}

/** Heap plus ArrayBuffer memory inside the runtime after full collections (held attachments are Buffers). */
const heldAfterGc = (nr: NodeRedProcess): Promise<number> => nr.heapAfterGc();

const MiB = (bytes: number): string => `${(bytes / MB).toFixed(1)} MiB`;

describe("security: binary attachments a packet may hold", function () {
  this.timeout(60_000);
  let nr: NodeRedProcess;
  let ioPort: number;
  let canary: Canary | undefined;

  /** Starts the canary; stopped by `canaryReport()` or, when a test failed first, after it. */
  async function startTheCanary(): Promise<void> {
    canary = await startCanary(`http://127.0.0.1:${ioPort}`);
  }

  async function canaryReport(): Promise<CanaryReport> {
    const report = await canary!.stop();
    canary = undefined;
    return report;
  }

  before(async function () {
    ({ nr, ioPort } = await nodeRedWith(flow, { heapProbe: true }));
  });

  afterEach(async function () {
    closeRawConnections();
    await canary?.stop();
    canary = undefined;
  });

  after(async function () {
    await nr?.stop();
  });

  it("a header announcing more than 10 attachments closes its connection, summed in one warn line", async function () {
    await startTheCanary();
    const conns = await attackers(ioPort, ATTACKERS);
    for (const c of conns) c.send(binaryHeader(11));
    await until(() => conns.every((c) => c.gone), 5000, "the server to close every connection");
    await sleep(1000); // the canary also covers what follows the closes
    const report = await canaryReport();
    const warnings = logLines(nr.output(), "warn", /more than 10 attachments/);
    assert.equal(warnings.length, 1, nr.output());
    assert.match(
      warnings[0],
      /1 client disconnected: a binary packet announcing more than 10 attachments; latest from 127\.0\.0\.1\./,
    );
    assert.equal(logLines(nr.output(), "error").length, 0, nr.output());
    assert.ok(report.p99 < 500, `canary p99 ${report.p99.toFixed(1)} ms`);
  });

  it("attachments adding up to more than Max buffer size close their connection and free their buffers", async function () {
    const heapBefore = await heldAfterGc(nr);
    await startTheCanary();
    const conns = await attackers(ioPort, ATTACKERS);
    // As in the finding: 9 frames of 900 KB for an announced 10.
    for (const c of conns) c.send(binaryHeader(10));
    await sendFrames(conns, Buffer.alloc(900_000, 1), 9);
    await until(() => conns.every((c) => c.gone), 5000, "the server to close every connection");
    await sleep(1000);
    const report = await canaryReport();
    const heapAfter = await heldAfterGc(nr);
    assert.ok(heapAfter - heapBefore < 50 * MB, `heap and buffers after GC grew by ${MiB(heapAfter - heapBefore)}`);
    const warnings = logLines(nr.output(), "warn", /more than the Max buffer size/);
    assert.equal(warnings.length, 1, nr.output());
    assert.match(
      warnings[0],
      /disconnected: a binary packet whose attachments add up to more than the Max buffer size of 2000000 bytes; latest from 127\.0\.0\.1\. Raise Max buffer size on the server node/,
    );
    assert.ok(report.p99 < 500, `canary p99 ${report.p99.toFixed(1)} ms`);
  });

  it("an unfinished packet is dropped after 10 s: its buffers are freed and its connection closed", async function () {
    const heapBefore = await heldAfterGc(nr);
    const conns = await attackers(ioPort, ATTACKERS);
    // Announced 2, sent 1 of just under Max buffer size: within both limits, but never finished.
    for (const c of conns) c.send(binaryHeader(2));
    const sent = Date.now();
    await sendFrames(conns, Buffer.alloc(MAX_BUFFER - 100_000, 2), 1);
    // Measured before the canary starts: a forced GC stalls the runtime and would count as its delay.
    // The frames may still be on the loopback when the client has written them: measure until they are in.
    let heapHolding = await heldAfterGc(nr);
    for (let i = 0; i < 10 && heapHolding - heapBefore <= 40 * MB; i++) {
      await sleep(200);
      heapHolding = await heldAfterGc(nr);
    }
    assert.ok(
      heapHolding - heapBefore > 40 * MB,
      `the attack holds memory while waiting (${MiB(heapHolding - heapBefore)})`,
    );
    assert.ok(
      conns.every((c) => !c.gone),
      "no connection is closed before the time bound",
    );
    await startTheCanary();
    await until(() => conns.every((c) => c.gone), 15_000, "the server to close every connection after the time bound");
    const waited = Date.now() - sent;
    const report = await canaryReport();
    const heapAfter = await heldAfterGc(nr);
    assert.ok(waited >= 9_500, `closed after ${waited} ms`);
    assert.ok(heapAfter - heapBefore < 50 * MB, `heap and buffers after GC grew by ${MiB(heapAfter - heapBefore)}`);
    const warnings = logLines(nr.output(), "warn", /still missing attachments/);
    assert.equal(warnings.length, 1, nr.output());
    assert.match(
      warnings[0],
      /disconnected: a binary packet still missing attachments after 10 s; latest from 127\.0\.0\.1\./,
    );
    assert.ok(report.p99 < 500, `canary p99 ${report.p99.toFixed(1)} ms`);
  });

  it("a socket.io client's events with several Buffers within the limits still round-trip through a flow", async function () {
    const client: ClientSocket = ioClient(`http://127.0.0.1:${ioPort}`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("connect_error", reject);
      });
      const a = Buffer.alloc(600_000, 7);
      const b = Buffer.from("second");
      const c = Buffer.alloc(600_000, 9);
      assert.deepEqual(await ask(client, a, { nested: b }, [c]), [a, { nested: b }, [c]]);
      // The most a packet may carry: 10 attachments.
      const ten = Array.from({ length: 10 }, (_, i) => Buffer.from(`attachment ${i}`));
      assert.deepEqual(await ask(client, ...ten), ten);
      assert.ok(client.connected);
    } finally {
      client.disconnect();
    }
  });
});
