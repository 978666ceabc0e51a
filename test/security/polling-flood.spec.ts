import { strict as assert } from "node:assert";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import { DEFAULT_MAX_PAYLOAD_PACKETS } from "../../src/nodes/core/engine-guard";
import type { FlowNode } from "../flow-fixtures";
import { sleep } from "../helpers";
import type { NodeRedProcess } from "../node-red-process";
import {
  attackFlow,
  canaryNodes,
  counterEndpoint,
  countingFunction,
  counts,
  legacyEvNode,
  logLines,
  nodeRedWith,
} from "./attack-flow";
import { startCanary } from "./attack-kit";
import { payload, pollingSession, sessionClosed, type PollingSession } from "./raw-polling";

// Finding 6: one polling request carries at most 1,000 packets. A payload over that is refused before
// any packet is decoded and its connection closed, with one rate-limited warning.

const CAP = DEFAULT_MAX_PAYLOAD_PACKETS;
// The finding's flood: 56,536 packets of 42["ev",n] fill most of the default 1 MB Max buffer size.
const FLOOD_PACKETS = 56_536;
const FLOODERS = 5;
const MB = 1024 * 1024;

const event = (i: number): string => `42["ev",${i}]`;

function flow(ioPort: number): FlowNode[] {
  return attackFlow("attack", ioPort, {}, [
    legacyEvNode("srv", ["count"]),
    countingFunction("count", "ev", "return null;"),
    ...canaryNodes("srv"),
    ...counterEndpoint(),
  ]);
}

/** A polling session that has joined namespace "/". */
async function joined(port: number): Promise<PollingSession> {
  const session = await pollingSession(port);
  assert.equal((await session.post("40")).status, 200);
  const answer = await session.get();
  assert.match(answer.body, /^40\{/, `the CONNECT answer: ${answer.status} ${answer.body}`);
  return session;
}

describe("security: packets per polling request", function () {
  this.timeout(60_000);
  let nr: NodeRedProcess;
  let ioPort: number;
  const clients: ClientSocket[] = [];

  /** Events "ev" that reached the flow so far. */
  const delivered = async (): Promise<number> => (await counts(nr.url)).ev ?? 0;
  /** The count once it reaches `n`, or what it is after 5 s. */
  const deliveredReaches = async (n: number): Promise<number> => {
    const end = Date.now() + 5000;
    let now = await delivered();
    while (now < n && Date.now() < end) {
      await sleep(50);
      now = await delivered();
    }
    return now;
  };
  const capWarnings = (): string[] => logLines(nr.output(), "warn", new RegExp(`more than ${CAP} packets`));

  before(async function () {
    ({ nr, ioPort } = await nodeRedWith(flow, { heapProbe: true }));
  });

  afterEach(function () {
    for (const c of clients.splice(0)) c.disconnect();
  });

  after(async function () {
    await nr?.stop();
  });

  it(`a polling request may carry ${CAP} packets; one with ${CAP + 1} is refused unread and its connection closed`, async function () {
    const full = await joined(ioPort);
    const before = await delivered();
    assert.equal((await full.post(payload(CAP, event))).status, 200);
    const afterFull = before + CAP;
    assert.equal(await deliveredReaches(afterFull), afterFull, `all ${CAP} events of a full payload reach the flow`);
    // The connection is still open: one more event gets through.
    assert.equal((await full.post(event(0))).status, 200);
    assert.equal(
      await deliveredReaches(afterFull + 1),
      afterFull + 1,
      "the connection stays open after a full payload",
    );

    const over = await joined(ioPort);
    await over.post(payload(CAP + 1, event));
    assert.ok(await sessionClosed(over), "the server closed the connection that sent one packet too many");
    await sleep(300);
    assert.equal(await delivered(), afterFull + 1, "no packet of the refused payload reached the flow");
    const lines = capWarnings();
    assert.equal(lines.length, 1, nr.output());
    assert.match(lines[0]!, /127\.0\.0\.1/);
  });

  it("a socket.io-client on polling only gets a burst of 500 emits through to the flow", async function () {
    const before = await delivered();
    const c = ioClient(`http://127.0.0.1:${ioPort}`, { transports: ["polling"], reconnection: false, forceNew: true });
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once("connect", resolve);
      c.once("connect_error", reject);
    });
    // Emitted in one go: the client sends the first at once and batches the rest into the next POST.
    for (let i = 0; i < 500; i++) c.emit("ev", i);
    assert.equal((await deliveredReaches(before + 500)) - before, 500);
    assert.ok(c.connected, "the client is still connected");
  });

  it(`${FLOODERS} POSTs of ${FLOOD_PACKETS} packets each are refused; the canary's p99 stays under 500 ms and the heap returns`, async function () {
    const heapBefore = await nr.heapAfterGc();
    const warningsBefore = capWarnings().length;
    const deliveredBefore = await delivered();
    const canary = await startCanary(`http://127.0.0.1:${ioPort}`);
    await sleep(500);
    const flooders = await Promise.all(Array.from({ length: FLOODERS }, () => joined(ioPort)));
    const body = payload(FLOOD_PACKETS, event);
    await Promise.all(flooders.map((f) => f.post(body)));
    const closed = await Promise.all(flooders.map((f) => sessionClosed(f)));
    await sleep(1000);
    const report = await canary.stop();
    assert.ok(
      report.p99 < 500,
      `canary p99 ${report.p99.toFixed(1)} ms, max ${report.max.toFixed(1)} ms (count ${report.count}, unanswered ${report.unanswered})`,
    );
    assert.deepEqual(closed, new Array(FLOODERS).fill(true), "every flooding connection was closed");
    assert.equal(await delivered(), deliveredBefore, "no packet of a refused payload reached the flow");
    // The first test's line started the interval: these five are summed into one later line, at most.
    assert.ok(capWarnings().length - warningsBefore <= 1, capWarnings().join("\n"));
    const heapAfter = await nr.heapAfterGc();
    assert.ok(heapAfter - heapBefore < 50 * MB, `heap after GC grew ${((heapAfter - heapBefore) / MB).toFixed(1)} MiB`);
  });
});
