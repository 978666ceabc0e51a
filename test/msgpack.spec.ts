// The server's Parser setting: msgpack (socket.io-msgpack-parser) for clients that use it, real
// socket.io-client with the same parser against the package's nodes; a client with the other parser
// gets a connect_error naming the parser to use, not a hang, and the server says so once.
import { strict as assert } from "node:assert";
import * as msgpackParser from "socket.io-msgpack-parser";
import { Term } from "../src/nodes/core/problem";
import { parseServerSettings } from "../src/nodes/core/server-settings";
import { WRONG_PARSER } from "../src/nodes/core/wrong-parser";
import { ackNode, answerNodes, onEvent, onTab, serverConfig } from "./flow-fixtures";
import { attempt, callsOn, cleanup, client, freePort, load, until, warningsOf } from "./helpers";

/** Arrays nested `depth` levels deep, built without recursion. */
function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

describe("the server's Parser: msgpack", function () {
  let url = "";

  async function deploy(parser: string | undefined): Promise<void> {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await load([
      serverConfig(port, parser === undefined ? {} : { parser }),
      ...onTab("msgpack", [
        ...answerNodes("on-ping", "ping", "emit-pong", "pong"),
        onEvent("on-echo", "echo", ["ack"]),
        ackNode("ack"),
      ]),
    ]);
  }
  const msgpackClient = (transports: string[]) => client(url, { transports, parser: msgpackParser });
  afterEach(cleanup);

  for (const transports of [["websocket"], ["polling"]]) {
    it(`a msgpack client over ${transports[0]}: events with binary data into the flow and back, and an acknowledgement`, async function () {
      await deploy("msgpack");
      const c = msgpackClient(transports);
      const value = { bytes: Buffer.from([0, 1, 2, 255]), text: "hé", list: [1, 2.5, null, true] };
      const pong = new Promise((resolve) => c.once("pong", resolve));
      c.emit("ping", value);
      const back = (await pong) as typeof value;
      assert.deepEqual({ ...back, bytes: Buffer.from(back.bytes) }, value);
      assert.deepEqual(await c.timeout(3000).emitWithAck("echo", "hello"), "hello");
      assert.equal(c.io.engine.transport.name, transports[0]);
    });
  }

  it("a client with the default JSON parser gets a connect_error naming the msgpack parser, and the server warns once", async function () {
    await deploy("msgpack");
    for (const transports of [["websocket"], ["polling"]]) {
      const outcome = await attempt(client(url, { transports }), 5000);
      assert.equal(outcome.admitted, false, `${transports[0]}: admitted`);
      if (!outcome.admitted) assert.equal(outcome.err.message, WRONG_PARSER.msgpack, transports[0]);
    }
    await until(() => warningsOf("srv").length > 0, 12_000, "the server's warning");
    // The test helper's RED._ gives message keys: the first refusal at once, the second summed later.
    assert.match(warningsOf("srv")[0]!, /^core\.packet\.refused .*"why":"core\.packet\.why\.notMsgpack"/);
  });

  it("with the JSON parser (the default, also for servers saved before the setting), a msgpack client gets a connect_error naming JSON", async function () {
    await deploy(undefined);
    const outcome = await attempt(msgpackClient(["websocket"]), 5000);
    assert.equal(outcome.admitted, false);
    if (!outcome.admitted) assert.equal(outcome.err.message, WRONG_PARSER.json);
    await until(() => warningsOf("srv").length > 0, 12_000, "the server's warning");
    assert.match(warningsOf("srv")[0]!, /^core\.packet\.refused .*"why":"core\.packet\.why\.notJson"/);
  });

  it("a msgpack packet nested deeper than 1,000 levels closes its connection; 900 levels go through", async function () {
    await deploy("msgpack");
    const c = msgpackClient(["websocket"]);
    assert.equal(((await c.timeout(3000).emitWithAck("echo", nested(900))) as unknown[]).length, 1);
    const closed = new Promise((resolve) => c.once("disconnect", resolve));
    c.emit("echo", nested(1500));
    assert.equal(await closed, "transport close");
    await until(() => warningsOf("srv").length > 0, 12_000, "the server's warning");
    assert.match(warningsOf("srv")[0]!, /"why":"core\.packet\.why\.deep {\\"max\\":1000}"/);
  });

  it("a Parser other than json or msgpack is an error naming the setting and the choices", async function () {
    await deploy("yaml");
    await until(() => callsOn("srv", "error").length > 0, 3000, "the server's error");
    assert.match(String(callsOn("srv", "error")[0]![0]), /^socket-io-server\.errors\.settings/);
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, parser: "yaml" }), {
      code: "setting.parser",
      values: { parser: "yaml", choices: [new Term("parser.json"), new Term("parser.msgpack")] },
    });
    assert.equal(parseServerSettings({ listen: "port", port: 1 }).parser, "json");
  });
});
