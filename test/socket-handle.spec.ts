import { strict as assert } from "node:assert";
import { inspect } from "node:util";
// runtimeEvents: where Node-RED's RED.comms.publish goes (the debug sidebar listens there).
import { events as runtimeEvents } from "@node-red/util";
import {
  catchNode,
  completeNode,
  debugNode,
  EDITOR_DEFAULTS,
  emitNode,
  functionNode,
  helperNode,
  onEvent,
  onNode,
  roomNode,
  serverConfig,
} from "./flow-fixtures";
import { cleanup, collect, connected, coreNodes, freePort, helper, load, next, recordCalls, until } from "./helpers";

/** Every error a node reports from now on, as text. */
const errorsOf = (id: string): string[] => recordCalls(id, "error");

describe("msg.socket", function () {
  afterEach(cleanup);

  it("acts on the live socket on every wire, though Node-RED clones the msg for the second", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      onEvent("onGo", "go", ["greet", "joinR1"]),
      emitNode("greet", "socket", "greeted"),
      roomNode("joinR1", "join", "r1", ["hJoined"]),
      helperNode("hJoined"),
      onEvent("onNews", "news", ["toR1"]),
      emitNode("toR1", "rooms", "headline", { rooms: "r1", roomsType: "str" }),
    ]);
    const errors = ["onGo", "greet", "joinR1", "toR1"].flatMap((id) => errorsOf(id));
    const joined = collect("hJoined");
    const c = await connected(`http://127.0.0.1:${port}`);

    c.emit("go", "hi");
    assert.equal(await next(c, "greeted"), "hi");
    await until(() => joined.length === 1, 2000, "the room node's msg");
    assert.deepEqual([...joined[0].socket.rooms].sort(), ["r1", c.id].sort());

    c.emit("news", "extra");
    assert.equal(await next(c, "headline"), "extra");
    assert.deepEqual(errors, []);
  });

  it("a function node can join, emit, set data and read rooms, also on a msg it re-sent", async function () {
    const port = await freePort();
    const first = [
      'msg.socket.join("f1");',
      "msg.socket.data.x = 1;",
      'msg.socket.emit("fromFunction", { inF1: msg.socket.rooms.has("f1"), x: msg.socket.data.x });',
      "node.send(msg);", // a clone
      "return null;",
    ].join("\n");
    const second = [
      'msg.socket.join("f2");',
      "msg.socket.data.y = 2;",
      "msg.payload = { rooms: [...msg.socket.rooms].sort(), data: msg.socket.data, connected: msg.socket.connected };",
      "return msg;",
    ].join("\n");
    await load(
      [
        serverConfig(port),
        onEvent("onGo", "go", ["first"]),
        functionNode("first", first, ["second"], EDITOR_DEFAULTS.function()),
        functionNode("second", second, ["hOut"], EDITOR_DEFAULTS.function()),
        helperNode("hOut"),
        onEvent("onNews", "news", ["toF2"]),
        emitNode("toF2", "rooms", "headline", { rooms: "f2", roomsType: "str" }),
      ],
      [coreNodes.function],
    );
    const errors = ["first", "second"].flatMap((id) => errorsOf(id));
    const out = collect("hOut");
    const c = await connected(`http://127.0.0.1:${port}`);
    const direct = next(c, "fromFunction");
    c.emit("go");
    assert.deepEqual(await direct, { inF1: true, x: 1 });
    await until(() => out.length === 1, 2000, "the second function's msg");
    // Objects made inside the function sandbox have that context's prototypes: compare as JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(out[0].payload)), {
      rooms: [c.id, "f1", "f2"].sort(),
      data: { x: 1, y: 2 },
      connected: true,
    });

    const live = out[0].socket.live!;
    assert.deepEqual([...live.rooms].sort(), [c.id, "f1", "f2"].sort());
    assert.deepEqual(live.data, { x: 1, y: 2 });
    c.emit("news", "for f2");
    assert.equal(await next(c, "headline"), "for f2");
    assert.deepEqual(errors, []);
  });

  it("timeout().emitWithAck() from a function node resolves with the client's answer", async function () {
    const port = await freePort();
    const ask = [
      'msg.socket.timeout(1000).emitWithAck("q", msg.payload).then(',
      "  (answer) => { msg.payload = answer; node.send(msg); node.done(); },",
      "  (err) => node.error(err, msg),",
      ");",
      "return null;",
    ].join("\n");
    await load(
      [
        serverConfig(port),
        onEvent("onGo", "go", ["ask"]),
        functionNode("ask", ask, ["hOut"], EDITOR_DEFAULTS.function()),
        helperNode("hOut"),
      ],
      [coreNodes.function],
    );
    const out = collect("hOut");
    const c = await connected(`http://127.0.0.1:${port}`);
    c.on("q", (x: number, cb: (answer: string) => void) => cb(`answer to ${x}`));
    c.emit("go", 7);
    await until(() => out.length === 1, 2000, "the answer");
    assert.equal(out[0].payload, "answer to 7");
  });

  it("shows as a small plain object in JSON and in a debug node: id, namespace, rooms, the handshake's address, query and auth, and where the headers are", async function () {
    const port = await freePort();
    await load(
      [
        serverConfig(port),
        onEvent("onGo", "go", ["joinR1"]),
        roomNode("joinR1", "join", "r1", ["dbg", "hOut"]),
        debugNode("dbg", "true"),
        helperNode("hOut"),
      ],
      [coreNodes.debug],
    );
    const published: Array<{ msg: string; format: string }> = [];
    const onComms = (e: { topic: string; data: { id: string; msg: string; format: string } }): void => {
      if (e.topic === "debug" && e.data.id === "dbg") published.push(e.data);
    };
    runtimeEvents.on("comms", onComms);
    try {
      const errors = errorsOf("dbg");
      const out = collect("hOut");
      const c = await connected(`http://127.0.0.1:${port}`, {
        query: { device: "d1" },
        auth: { user: "ann" },
        extraHeaders: { "x-probe": "header-value-7" },
      });
      c.emit("go", "x");
      await until(() => out.length === 1 && published.length === 1, 2000, "the msg and the debug output");

      const json = JSON.stringify(out[0].socket);
      assert.ok(json.length < 400, `msg.socket is ${json.length} characters of JSON`);
      const plain = JSON.parse(json);
      assert.deepEqual(Object.keys(plain).sort(), ["handshake", "id", "namespace", "rooms"]);
      assert.equal(plain.id, c.id);
      assert.equal(plain.namespace, "/");
      assert.deepEqual([...plain.rooms].sort(), [c.id, "r1"].sort());
      assert.match(plain.handshake.address, /127\.0\.0\.1$/);
      assert.equal(plain.handshake.query.device, "d1");
      assert.deepEqual(plain.handshake.auth, { user: "ann" });
      // The header values stay out of what a debug node formats for every msg; it says where they are.
      assert.equal(plain.handshake.headers, "msg.socket.handshake.headers");
      assert.ok(!json.includes("header-value-7"), json);
      assert.equal(out[0].socket.handshake.headers["x-probe"], "header-value-7");
      assert.match(inspect(out[0].socket), /header-value-7/);

      const shown = JSON.parse(published[0].msg);
      assert.equal(shown.payload, "x");
      assert.deepEqual(shown.socket, plain);
      assert.ok(published[0].msg.length < 6000, `the debug output is ${published[0].msg.length} characters`);
      assert.deepEqual(errors, []);
    } finally {
      runtimeEvents.off("comms", onComms);
    }
  });

  it("after the client leaves, acting on msg.socket is nothing to do: no error; only an emit that waits for an answer throws", async function () {
    const port = await freePort();
    await load([
      { id: "tab", type: "tab", label: "t" },
      serverConfig(port),
      ...[
        onNode("onConn", "connection", ["hConn"], { event: "" }),
        helperNode("hConn"),
        roomNode("joinR1", "join", "r1", ["hJoined"]),
        helperNode("hJoined"),
        catchNode("hCaught", "catcher"),
        helperNode("hCaught"),
        completeNode(["joinR1"], "hDone", "completer"),
        helperNode("hDone"),
      ].map((n) => ({ ...n, z: "tab" })),
    ]);
    const conns = collect("hConn");
    const joined = collect("hJoined");
    const caught = collect("hCaught");
    const completed = collect("hDone");
    const other = await connected(`http://127.0.0.1:${port}`);
    const c = await connected(`http://127.0.0.1:${port}`);
    const id = c.id!;
    await until(() => conns.length === 2, 2000, "the connection msgs");
    const msg = conns.find((m) => m.socketId === id)!;
    assert.equal(msg.socket.connected, true);

    c.disconnect();
    await until(() => msg.socket.connected === false, 2000, "the server to see the client go");
    assert.equal(msg.socket.emit("late", 1), false);
    assert.equal(msg.socket.join("r2"), undefined);
    assert.equal(msg.socket.leave("r2"), undefined);
    msg.socket.disconnect(true);
    msg.socket.data = { x: 1 };
    assert.deepEqual(msg.socket.data, {});
    assert.equal(msg.socket.live, undefined);
    assert.deepEqual([...msg.socket.rooms], []);
    // No answer can come from a client that has gone.
    assert.throws(() => msg.socket.timeout(100), {
      name: "Error",
      code: "socket.gone",
      values: { id, namespace: "/" },
    });
    // "Everyone but this socket" still means something, shortly after it has gone.
    const left = next(other, "left");
    msg.socket.broadcast.emit("left", id);
    assert.equal(await left, id);

    helper.getNode("joinR1").receive(msg);
    await until(() => completed.length === 1, 2000, "the room node to complete the msg");
    assert.equal(completed[0]._msgid, msg._msgid);
    assert.deepEqual(caught, []);
    // Nothing was joined: the msg does not go on.
    assert.equal(joined.length, 0);
  });
});
