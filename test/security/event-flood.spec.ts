import { strict as assert } from "node:assert";
import { io as ioClient } from "socket.io-client";
import type { FlowNode } from "../flow-fixtures";
import { sleep } from "../helpers";
import type { NodeRedProcess } from "../node-red-process";
import {
  attackFlow,
  canaryNodes,
  counterEndpoint,
  countingFunction,
  counts,
  eventNode,
  logLines,
  nodeRedWith,
} from "./attack-flow";
import { closeRawConnections, rawWebSocket, sendMany, startCanary } from "./attack-kit";

// Finding 6: with the server's event rate limit set, a client flooding events reaches the flow only
// up to its allowance, is disconnected when far over it, and the other clients do not notice.
const RATE = 100;
const BURST = 200;

function flow(ioPort: number): FlowNode[] {
  return attackFlow("flood", ioPort, { eventRate: RATE, eventBurst: BURST }, [
    eventNode("flood", ["count"]),
    countingFunction("count", "flood", "return null;"),
    ...canaryNodes("srv"),
    ...counterEndpoint(),
  ]);
}

describe("security: event floods and the per-socket rate limit", function () {
  this.timeout(60_000);
  let nr: NodeRedProcess;
  let ioPort: number;

  before(async function () {
    ({ nr, ioPort } = await nodeRedWith(flow, { heapProbe: true }));
  });

  after(async function () {
    closeRawConnections();
    await nr.stop();
  });

  it("a raw-WebSocket flood of 200,000 events is cut off: the flow gets the allowance, the canary stays prompt, the heap returns", async function () {
    const heapBefore = await nr.heapAfterGc();
    const canary = await startCanary(`http://127.0.0.1:${ioPort}`);
    const floods = await Promise.all([rawWebSocket(ioPort), rawWebSocket(ioPort), rawWebSocket(ioPort)]);
    const began = Date.now();
    for (const f of floods) f.send("40");
    await sleep(100);
    const sent = await Promise.all(floods.map((f) => sendMany(f, 200_000, (i) => `42["flood",${i}]`, 2000)));
    await Promise.all(floods.map((f) => Promise.race([f.closed, sleep(5000)])));
    const elapsed = (Date.now() - began) / 1000;
    assert.ok(
      floods.every((f) => !f.isOpen()),
      "every flooding connection was disconnected",
    );
    await sleep(500);
    const report = await canary.stop();
    const delivered = (await counts(nr.url)).flood ?? 0;
    const allowance = floods.length * (BURST + RATE * elapsed);
    assert.ok(
      delivered <= allowance,
      `${delivered} events reached the flow; allowance ${allowance.toFixed(0)} for ${elapsed.toFixed(1)} s`,
    );
    assert.ok(delivered >= floods.length * BURST * 0.9, `the allowance itself got through (${delivered})`);
    assert.ok(
      report.p99 < 500,
      `canary p99 ${report.p99.toFixed(1)} ms (${report.count} answers, ${report.unanswered} unanswered)`,
    );
    const heapAfter = await nr.heapAfterGc();
    assert.ok(
      heapAfter - heapBefore < 50 * 1024 * 1024,
      `heap grew ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MB`,
    );
    const lines = logLines(nr.output(), "warn", /rate limit/);
    assert.ok(lines.length >= 1 && lines.length <= 3, `rate-limited warnings:\n${lines.join("\n")}`);
    assert.equal(logLines(nr.output(), "error").length, 0, nr.output());
    console.log(
      `      sent ${sent.join("/")} frames, ${delivered} delivered in ${elapsed.toFixed(1)} s, canary p99 ${report.p99.toFixed(1)} ms, heap +${((heapAfter - heapBefore) / 1048576).toFixed(1)} MB`,
    );
  });

  it("a busy client a little over its burst loses the excess but stays connected", async function () {
    const before = (await counts(nr.url)).flood ?? 0;
    const busy = ioClient(`http://127.0.0.1:${ioPort}`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        busy.once("connect", () => resolve());
        busy.once("connect_error", reject);
      });
      for (let i = 0; i < BURST + 50; i++) busy.emit("flood", i);
      await sleep(1000);
      assert.equal(busy.connected, true, "a client a little over its burst is not disconnected");
      const got = ((await counts(nr.url)).flood ?? 0) - before;
      assert.ok(got >= BURST && got < BURST + 50, `${got} of ${BURST + 50} events reached the flow`);
    } finally {
      busy.disconnect();
    }
  });
});
