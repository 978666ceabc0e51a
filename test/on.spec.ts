import { strict as assert } from "node:assert";
import {
  ackWait,
  EDITOR_DEFAULTS,
  editorOn,
  editorOnEvent,
  emitNode,
  functionNode,
  helperNode,
  serverConfig,
} from "./flow-fixtures";
import {
  cleanup,
  client,
  collect,
  connected,
  coreNodes,
  freePort,
  helper,
  load,
  next,
  recordCalls,
  sleep,
  until,
} from "./helpers";

describe("socket-io-on: client events", function () {
  afterEach(cleanup);

  it("a client that emits right after connecting is answered (20 of 20)", async function () {
    const port = await freePort();
    await load([serverConfig(port), editorOnEvent("on", "ping", ["emit"]), emitNode("emit", "socket", "pong")]);
    const url = `http://127.0.0.1:${port}`;
    const answers = Array.from({ length: 20 }, (_, i) => {
      const c = client(url);
      const answer = next<number>(c, "pong");
      c.emit("ping", i); // before "connect": in the same tick as the connection is opened
      return answer;
    });
    assert.deepEqual(
      await Promise.all(answers),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it("20 events in flight from several clients each get their own reply", async function () {
    const port = await freePort();
    const delay = "setTimeout(() => { node.send(msg); node.done(); }, Math.floor(Math.random() * 40)); return null;";
    await load(
      [
        serverConfig(port),
        editorOnEvent("on", "req", ["slow"]),
        functionNode("slow", delay, ["emit"], EDITOR_DEFAULTS.function()),
        emitNode("emit", "socket", "res"),
      ],
      [coreNodes.function],
    );
    const url = `http://127.0.0.1:${port}`;
    const clients = await Promise.all(Array.from({ length: 5 }, () => connected(url)));
    const replies = clients.map(() => [] as Array<{ client: number; n: number }>);
    clients.forEach((c, k) => c.on("res", (r) => replies[k].push(r)));
    for (let n = 0; n < 4; n++) clients.forEach((c, k) => c.emit("req", { client: k, n }));
    await until(() => replies.every((r) => r.length >= 4), 3000, "4 replies per client");
    await sleep(100);
    replies.forEach((got, k) => {
      const sorted = [...got].sort((a, b) => a.n - b.n);
      assert.deepEqual(
        sorted,
        [0, 1, 2, 3].map((n) => ({ client: k, n })),
        `client ${k} got ${JSON.stringify(got)}`,
      );
    });
  });

  it("an on node deployed later hears a client that connected before it", async function () {
    const port = await freePort();
    const base = [serverConfig(port), editorOnEvent("first", "ping", ["emit"]), emitNode("emit", "socket", "pong")];
    await load(base);
    const c = await connected(`http://127.0.0.1:${port}`);
    const id = c.id;
    let reconnected = false;
    c.on("disconnect", () => (reconnected = true));

    await helper.setFlows(
      [...base, editorOnEvent("late", "hello", ["emit2"]), emitNode("emit2", "socket", "welcome")],
      "nodes",
    );
    c.emit("hello", "again");
    assert.equal(await next(c, "welcome"), "again");
    assert.equal(c.id, id);
    assert.equal(reconnected, false);
  });

  it('"any client event" hears every client event with msg.event, msg.args and msg.payload', async function () {
    const port = await freePort();
    await load([serverConfig(port), editorOn("onAny", "any", ["h"]), helperNode("h")]);
    const msgs = collect("h");
    const c = await connected(`http://127.0.0.1:${port}`);
    c.emit("a", 1, "x", { y: 2 });
    c.emit("b");
    c.emit("c", null, 3);
    await until(() => msgs.length >= 3, 2000, "3 events");
    await sleep(200);
    // The connection came first: had "any" heard it, it would lead the list.
    assert.deepEqual(
      msgs.map((m) => [m.event, [...m.args], m.payload]),
      [
        ["a", [1, "x", { y: 2 }], 1],
        ["b", [], undefined],
        ["c", [null, 3], null],
      ],
    );
    assert.equal(msgs[0].socketId, c.id);
  });

  it("an on node hears only its own namespace", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      editorOnEvent("root", "hi", ["hRoot"]),
      editorOnEvent("chat", "hi", ["hChat"], { namespace: "/chat" }),
      helperNode("hRoot"),
      helperNode("hChat"),
    ]);
    const rootMsgs = collect("hRoot");
    const chatMsgs = collect("hChat");
    const url = `http://127.0.0.1:${port}`;
    const rootClient = await connected(url);
    const chatClient = await connected(`${url}/chat`);
    rootClient.emit("hi", "from root");
    chatClient.emit("hi", "from chat");
    await until(() => rootMsgs.length >= 1 && chatMsgs.length >= 1, 2000, "one msg each");
    await sleep(200);
    assert.deepEqual(
      rootMsgs.map((m) => [m.payload, m.namespace, m.socketId]),
      [["from root", "/", rootClient.id]],
    );
    assert.deepEqual(
      chatMsgs.map((m) => [m.payload, m.namespace, m.socketId]),
      [["from chat", "/chat", chatClient.id]],
    );
  });

  it("acknowledgements work both ways", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      editorOnEvent("onAsk", "ask", ["reply", "hAsk"]),
      emitNode("reply", "ack", ""),
      helperNode("hAsk"),
      editorOnEvent("onStart", "start", ["question"]),
      emitNode("question", "socket", "q", ackWait(1000, "hAnswer")),
      helperNode("hAnswer"),
    ]);
    const asks = collect("hAsk");
    const answers = collect("hAnswer");
    const c = await connected(`http://127.0.0.1:${port}`);

    // Client asks, the flow answers with msg.payload.
    assert.equal(await c.timeout(2000).emitWithAck("ask", 5), 5);
    await until(() => asks.length === 1, 2000, "the ask msg");
    assert.equal(typeof asks[0].ack, "function");

    // Without a callback there is no msg.ack, and the reply node says so.
    const errors = recordCalls("reply", "error");
    c.emit("ask", 6);
    await until(() => asks.length === 2 && errors.length === 1, 2000, "the second ask and the reply error");
    assert.equal(asks[1].payload, 6);
    assert.equal("ack" in asks[1], false);
    assert.equal(errors[0], 'core.emit.needsAck {"kind":"kind.undefined"}');

    // The flow asks, the client answers.
    c.on("q", (x: number, cb: (a: number) => void) => cb(x * 2));
    c.emit("start", 21);
    await until(() => answers.length === 1, 2000, "the client's answer");
    assert.equal(answers[0].payload, 42);
  });
});
