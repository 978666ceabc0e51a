import { strict as assert } from "node:assert";
import { at, emitNode, functionNode, onEvent, serverConfig } from "./flow-fixtures";
import { cleanup, connected, coreNodes, freePort, load, next } from "./helpers";

/** A client event "ask" goes through a function node to an emit node that answers the sender. */
async function deploy(port: number, func: string): Promise<void> {
  await load(
    [
      { id: "tab", type: "tab", label: "t" },
      serverConfig(port),
      at("tab", 100, 100, onEvent("on", "ask", ["fn"])),
      at("tab", 300, 100, functionNode("fn", func, ["emit"])),
      at("tab", 500, 100, emitNode("emit", "socket", "answer")),
    ],
    [coreNodes.function],
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
