import { strict as assert } from "node:assert";
import WebSocket from "ws";
import { registry } from "../src/nodes/core/server-registry";
import { helperNode, onEvent, onTab, serverConfig } from "./flow-fixtures";
import { cleanup, collect, connected, freePort, load, next, sleep, until, type Msg } from "./helpers";
import { answersPing, pingPong } from "./server-kit";

describe("bad input from clients", function () {
  let url = "";
  let port = 0;
  let spam: Msg[];
  let big: Msg[];

  beforeEach(async function () {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await load([
      serverConfig(port, { maxHttpBufferSize: 1000 }),
      ...onTab("bad input", [
        ...pingPong(),
        onEvent("on-spam", "spam", ["spam"]),
        onEvent("on-big", "big", ["big"]),
        helperNode("spam"),
        helperNode("big"),
      ]),
    ]);
    spam = collect("spam");
    big = collect("big");
  });
  afterEach(cleanup);

  it("garbage WebSocket frames", async function () {
    // Each attempt on a connection of its own: most of them make the server drop the connection.
    const attempts: Array<Array<string | Buffer>> = [
      ["garbage"],
      ["4"],
      ['42["ping"'],
      ["4{}"],
      ["40/nope,"],
      ['451-["ping",{"_placeholder":true,"num":7}]'],
      ['451-["ping",{"_placeholder":true,"num":7}]', Buffer.from([1, 2, 3])],
      ["42[1,2,3]"],
      [Buffer.from([0xff, 0x00, 0x13, 0x37])],
    ];
    const sockets: WebSocket[] = [];
    try {
      for (const frames of attempts) {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
        sockets.push(ws);
        const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
        ws.on("error", () => undefined);
        await next(ws, "message"); // engine.io's open packet
        ws.send("40"); // connect to "/"
        await next(ws, "message");
        for (const frame of frames) ws.send(frame);
        // Either the server drops the connection or it ignores the frames.
        await Promise.race([closed, sleep(200)]);
      }
    } finally {
      for (const ws of sockets) ws.terminate();
    }
    const nsps = (registry.get(`port:${port}`)!.io as unknown as { _nsps: Map<string, unknown> })._nsps;
    assert.equal(nsps.has("/nope"), false);
    await answersPing(url);
  });

  it("a message larger than the max buffer size disconnects only that client", async function () {
    const [heavy, other] = [await connected(url), await connected(url)];
    const gone = next<string>(heavy, "disconnect");
    heavy.emit("big", "x".repeat(2000));
    assert.match(await gone, /transport (close|error)/);
    assert.equal(big.length, 0);
    assert.ok(other.connected);
    const pong = next(other, "pong");
    other.emit("ping", "still there?");
    assert.equal(await pong, "still there?");
  });

  it("a client firing 5,000 events in a burst", async function () {
    const flood = await connected(url);
    for (let i = 0; i < 5000; i++) flood.emit("spam", i);
    await until(() => spam.length === 5000, 10000, "every event to reach the flow");
    await answersPing(url);
    assert.deepEqual(
      spam.slice(0, 3).map((m) => m.payload),
      [0, 1, 2],
    );
    assert.equal(spam[4999].payload, 4999);
  });
});
