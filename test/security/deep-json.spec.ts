import { strict as assert } from "node:assert";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import { jsonStart, nestingDepth } from "../../src/nodes/core/bounded-parser";
import { at, catchNode, type FlowNode } from "../flow-fixtures";
import { sleep, until } from "../helpers";
import type { NodeRedProcess } from "../node-red-process";
import {
  ackAt,
  attackFlow,
  canaryNodes,
  counterEndpoint,
  countingFunction,
  counts,
  eventNode,
  logLines,
  nodeRedWith,
} from "./attack-flow";
import { closeRawConnections, rawWebSocket, startCanary, type Canary } from "./attack-kit";

// Finding 8, second half: JSON nested 10^5 deep overflowed the stack in Node-RED's deep clone of the
// msg ("[error] ... Maximum call stack size exceeded", one per packet, seen by no Catch node). A
// packet nested deeper than 1,000 levels now closes its connection, summed in one warn line.

const ATTACKERS = 50;

/** An on node for "ev" wired twice (Node-RED deep-clones the msg for the second wire) and answering the ack. */
function flow(ioPort: number): FlowNode[] {
  return attackFlow("attack", ioPort, {}, [
    eventNode("ev", ["ack", "count"]),
    ackAt("ack", "tab", 300, 60),
    countingFunction("count", "events", "return msg;", "tab", ["debug"]),
    {
      id: "debug",
      type: "debug",
      z: "tab",
      x: 500,
      y: 100,
      active: true,
      tosidebar: true,
      console: false,
      complete: "true",
      wires: [],
    },
    at("tab", 100, 200, catchNode("caught")),
    countingFunction("caught", "caught", "return null;"),
    ...canaryNodes("srv"),
    ...counterEndpoint(),
  ]);
}

/** Arrays nested `depth` levels deep, as JSON text: "[[[]]]" for 3. */
const nestedJson = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);

/** The value of `nestedJson(depth)`, built without recursion. */
function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

async function connectedClient(port: number): Promise<ClientSocket> {
  const client = ioClient(`http://127.0.0.1:${port}`, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("connect_error", reject);
  });
  return client;
}

/** Emits "ev" and resolves with the first argument of the answer. */
function ask(client: ClientSocket, value: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client
      .timeout(5000)
      .emit("ev", value, (err: Error | null, answer: unknown) => (err ? reject(err) : resolve(answer)));
  });
}

describe("security: deeply nested JSON", function () {
  this.timeout(60_000);
  let nr: NodeRedProcess;
  let ioPort: number;
  let canary: Canary | undefined;
  const clients: ClientSocket[] = [];

  before(async function () {
    ({ nr, ioPort } = await nodeRedWith(flow));
  });

  afterEach(async function () {
    closeRawConnections();
    for (const c of clients.splice(0)) c.disconnect();
    await canary?.stop();
    canary = undefined;
  });

  after(async function () {
    await nr?.stop();
  });

  it("50 packets nested 100,000 deep close only their own connections: no error line, one warn line, the canary keeps answering", async function () {
    canary = await startCanary(`http://127.0.0.1:${ioPort}`);
    const bystander = await connectedClient(ioPort);
    clients.push(bystander);
    const conns = await Promise.all(Array.from({ length: ATTACKERS }, () => rawWebSocket(ioPort)));
    const gone = conns.map(() => false);
    conns.forEach((c, i) => void c.closed.then(() => (gone[i] = true)));
    for (const c of conns) c.send("40");
    await until(() => conns.every((c) => c.frames.some((f) => f.startsWith("40{"))), 5000, "every attacker to join /");
    const packet = `42["ev",${nestedJson(100_000)}]`;
    for (const c of conns) c.send(packet);
    await until(() => gone.every(Boolean), 5000, "the server to close every deep packet's connection");
    // A deep packet that got through would be cloned and logged after a turn of the event loop.
    await sleep(1000);
    const report = await canary.stop();
    canary = undefined;

    assert.deepEqual(logLines(nr.output(), "error"), [], "no [error] line");
    const warnings = logLines(nr.output(), "warn", /nested deeper/);
    assert.equal(warnings.length, 1, nr.output());
    assert.match(
      warnings[0],
      /1 client disconnected: a packet nested deeper than 1000 levels; latest from 127\.0\.0\.1\./,
    );
    assert.equal((await counts(nr.url)).events ?? 0, 0, "no deep packet reached the flow");
    assert.equal((await counts(nr.url)).caught ?? 0, 0);
    assert.ok(bystander.connected, "the other client is still connected");
    assert.deepEqual(await ask(bystander, { still: "here" }), { still: "here" });
    assert.ok(report.p99 < 500, `canary p99 ${report.p99.toFixed(1)} ms`);
  });

  it("a payload nested 1,000 levels deep (its event's array included) reaches the flow and is answered; one level more closes the connection", async function () {
    const client = await connectedClient(ioPort);
    clients.push(client);
    const before = (await counts(nr.url)).events ?? 0;
    const deepest = nested(999);
    assert.deepEqual(await ask(client, deepest), deepest);
    // Brackets inside strings are text, not nesting.
    const text = { note: `${"[{".repeat(50_000)} \\" ]`, list: nested(10) };
    assert.deepEqual(await ask(client, text), text);
    let events = 0;
    for (const end = Date.now() + 2000; Date.now() < end && events < before + 2; await sleep(20))
      events = (await counts(nr.url)).events ?? 0;
    assert.equal(events, before + 2, "both events went through the cloned second wire");

    const disconnected = new Promise<string>((resolve) => client.once("disconnect", resolve));
    client.emit("ev", nested(1000));
    const reason = await Promise.race([disconnected, sleep(3000).then(() => "still connected")]);
    assert.equal(reason, "transport close");
    assert.deepEqual(logLines(nr.output(), "error"), [], "no [error] line");
  });

  it("counts nesting in the JSON part of a packet only, brackets in strings and the namespace not counted", function () {
    assert.equal(nestingDepth('[1,[2,{"a":[3]}]]'), 4);
    assert.equal(nestingDepth('["[[[[", "\\"[[", {"k\\\\":"]]"}]'), 2);
    assert.equal(nestingDepth(nestedJson(5000), 0, 1000), 1001, "stops once past the limit");
    const packet = '52-/a[b{c,7["ev",{"_placeholder":true,"num":0}]';
    assert.equal(packet.slice(jsonStart(packet)), '["ev",{"_placeholder":true,"num":0}]');
    assert.equal(nestingDepth(packet, jsonStart(packet)), 2);
    assert.equal(jsonStart('2["ev"]'), 1);
    assert.equal(jsonStart("3/chat,12[]"), 9);
  });
});
