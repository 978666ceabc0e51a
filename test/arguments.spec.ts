import { strict as assert } from "node:assert";
import { allNodes, cleanup, connected, freePort, helper, next, serverConfig } from "./helpers";

const functionNode = require("@node-red/nodes/core/function/10-function.js");

/** A client event "ask" goes through a function node to an emit node that answers the sender. */
async function deploy(port: number, func: string): Promise<void> {
  await helper.load(
    [...allNodes, functionNode],
    [
      { id: "tab", type: "tab", label: "t" },
      serverConfig(port),
      {
        id: "on",
        z: "tab",
        type: "socket-io-on",
        server: "srv",
        namespace: "/",
        listenFor: "event",
        event: "ask",
        x: 100,
        y: 100,
        wires: [["fn"]],
      },
      { id: "fn", z: "tab", type: "function", func, outputs: 1, x: 300, y: 100, wires: [["emit"]] },
      {
        id: "emit",
        z: "tab",
        type: "socket-io-emit",
        server: "srv",
        namespace: "/",
        event: "answer",
        eventType: "str",
        target: "socket",
        x: 500,
        y: 100,
        wires: [],
      },
    ],
  );
}

/** Resolves with every argument of the next "answer". */
function answer(c: { once(e: string, fn: (...a: unknown[]) => void): unknown }): Promise<unknown[]> {
  return new Promise((resolve) => c.once("answer", (...args: unknown[]) => resolve(args)));
}

describe("what an emit sends: msg.payload or msg.args", function () {
  afterEach(cleanup);

  it("echoes every argument of the client's event when the flow leaves the msg as it is", async function () {
    const port = await freePort();
    await deploy(port, "return msg;");
    const c = await connected(`http://127.0.0.1:${port}`);
    const got = answer(c);
    c.emit("ask", 1, "two", { three: 3 });
    assert.deepEqual(await got, [1, "two", { three: 3 }]);
  });

  it("sends the new msg.payload when the flow replaced it, not the client's arguments", async function () {
    const port = await freePort();
    await deploy(port, "msg.payload = 'replaced'; return msg;");
    const c = await connected(`http://127.0.0.1:${port}`);
    const got = answer(c);
    c.emit("ask", 1, "two");
    assert.deepEqual(await got, ["replaced"]);
  });

  it("sends msg.args as several arguments when the flow built them", async function () {
    const port = await freePort();
    await deploy(port, "msg.args = ['a', 'b', 3]; return msg;");
    const c = await connected(`http://127.0.0.1:${port}`);
    const got = answer(c);
    c.emit("ask", "ignored");
    assert.deepEqual(await got, ["a", "b", 3]);
  });

  it("sends the client's arguments changed in place while msg.payload is still the first", async function () {
    const port = await freePort();
    await deploy(port, "msg.args.push('more'); return msg;");
    const c = await connected(`http://127.0.0.1:${port}`);
    const got = answer(c);
    c.emit("ask", "first");
    assert.deepEqual(await got, ["first", "more"]);
    assert.equal(await Promise.resolve(next(c, "never", 1).catch(() => "none")), "none");
  });
});
