import { strict as assert } from "node:assert";
import type { EventEmitter } from "node:events";
import { RETIRED_BYTES, RETIRED_MS, SocketHandle } from "../src/nodes/core/socket-handle";
import { allNodes, cleanup, collect, connected, freePort, helper, next, serverConfig, until } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require("@node-red/nodes/core/function/10-function.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debugNode = require("@node-red/nodes/core/common/21-debug.js");
// Where Node-RED's RED.comms.publish goes (the debug sidebar listens here).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeEvents: EventEmitter = require("@node-red/util").events;

type Flow = Array<Record<string, unknown>>;

// Node ids must differ from every string setting: Node-RED takes a setting that equals a node id
// for a reference to that node.
const onEvent = (id: string, event: string, wires: string[][]): Record<string, unknown> => ({
  id,
  type: "socket-io-on",
  server: "srv",
  namespace: "/",
  listenFor: "event",
  event,
  wires,
});

const onConnection = (id: string, wires: string[][]): Record<string, unknown> => ({
  ...onEvent(id, "", wires),
  listenFor: "connection",
});

const fn = (id: string, func: string, wires: string[][]): Record<string, unknown> => ({
  id,
  type: "function",
  func,
  outputs: 1,
  noerr: 0,
  initialize: "",
  finalize: "",
  libs: [],
  wires,
});

const helperNode = (id: string): Record<string, unknown> => ({ id, type: "helper" });

/** Every error a node reports, as text. */
function errorsOf(id: string): string[] {
  const errors: string[] = [];
  helper.getNode(id).on("call:error", (call: { args: unknown[] }) => errors.push(String(call.args[0])));
  return errors;
}

async function load(flow: Flow, coreModules: unknown[] = []): Promise<void> {
  await helper.load([...coreModules, ...allNodes] as any, flow);
}

describe("msg.socket", function () {
  afterEach(cleanup);

  it("acts on the live socket on every wire, though Node-RED clones the msg for the second", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      onEvent("onGo", "go", [["greet", "joinR1"]]),
      {
        id: "greet",
        type: "socket-io-emit",
        server: "srv",
        namespace: "/",
        event: "greeted",
        eventType: "str",
        target: "socket",
        wires: [],
      },
      { id: "joinR1", type: "socket-io-room", action: "join", rooms: "r1", roomsType: "str", wires: [["hJoined"]] },
      helperNode("hJoined"),
      onEvent("onNews", "news", [["toR1"]]),
      {
        id: "toR1",
        type: "socket-io-emit",
        server: "srv",
        namespace: "/",
        event: "headline",
        eventType: "str",
        target: "rooms",
        rooms: "r1",
        roomsType: "str",
        wires: [],
      },
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
        onEvent("onGo", "go", [["first"]]),
        fn("first", first, [["second"]]),
        fn("second", second, [["hOut"]]),
        helperNode("hOut"),
        onEvent("onNews", "news", [["toF2"]]),
        {
          id: "toF2",
          type: "socket-io-emit",
          server: "srv",
          namespace: "/",
          event: "headline",
          eventType: "str",
          target: "rooms",
          rooms: "f2",
          roomsType: "str",
          wires: [],
        },
      ],
      [functionNode],
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

    const live = out[0].socket.live;
    assert.deepEqual([...live.rooms].sort(), [c.id, "f1", "f2"].sort());
    assert.deepEqual(live.data, { x: 1, y: 2 });
    c.emit("news", "for f2");
    assert.equal(await next(c, "headline"), "for f2");
    assert.deepEqual(errors, []);
  });

  it("carries the handshake: headers, query, auth, address, time and url", async function () {
    const port = await freePort();
    await load([serverConfig(port), onConnection("onConn", [["hConn"]]), helperNode("hConn")]);
    const conns = collect("hConn");
    const c = await connected(`http://127.0.0.1:${port}`, {
      query: { token: "abc" },
      auth: { user: "u1" },
      extraHeaders: { "x-test": "yes" },
    });
    await until(() => conns.length === 1, 2000, "the connection msg");
    const h = conns[0].socket.handshake;
    assert.equal(h.headers["x-test"], "yes");
    assert.equal(h.headers.host, `127.0.0.1:${port}`);
    assert.equal(h.query.token, "abc");
    assert.deepEqual(h.auth, { user: "u1" });
    assert.match(h.address, /127\.0\.0\.1/);
    assert.ok(Math.abs(Date.parse(h.time) - Date.now()) < 60_000, `time ${h.time}`);
    assert.match(h.url, /^\/socket\.io\/\?.*token=abc/);
    assert.equal(conns[0].socket.id, c.id);
  });

  it("is cheap to clone: a copy holds three strings and still reads the handshake, also just after a disconnect (but not its auth)", async function () {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cloneMessage = require("@node-red/util").util.cloneMessage as (m: unknown) => Record<string, any>;
    const port = await freePort();
    await load([serverConfig(port), onConnection("onConn", [["hConn"]]), helperNode("hConn")]);
    const conns = collect("hConn");
    const c = await connected(`http://127.0.0.1:${port}`, {
      auth: { user: "u1" },
      query: { q: "1" },
      extraHeaders: { "x-test": "yes" },
    });
    await until(() => conns.length === 1, 2000, "the connection msg");
    const copy = cloneMessage(conns[0]).socket;
    assert.deepEqual(Object.keys(copy).sort(), ["id", "namespace", "serverKey"]);
    assert.deepEqual(copy.handshake.auth, { user: "u1" });
    c.disconnect();
    await until(() => !copy.connected, 2000, "the disconnect");
    // A flow about the disconnect still reads headers, query and address; the auth is not kept.
    const after = copy.handshake;
    assert.equal(after.headers["x-test"], "yes");
    assert.equal(after.query.q, "1");
    assert.match(after.address, /127\.0\.0\.1/);
    assert.deepEqual(after.auth, {});
    // What a flow writes into it is not kept either.
    after.headers["x-test"] = "changed";
    assert.equal(copy.handshake.headers["x-test"], "yes");
  });

  it("keeps the handshakes of departed sockets within RETIRED_BYTES in all, dropping the oldest first", async function () {
    this.timeout(30_000);
    const port = await freePort();
    await load([serverConfig(port), onConnection("onConn", [["hConn"]]), helperNode("hConn")]);
    const conns = collect("hConn");
    // Each about 28 KB as estimated (14,000 characters at two bytes), under Node's 16 KB header limit;
    // they all leave within RETIRED_MS, so it is the byte bound that drops the oldest.
    const big = "h".repeat(14_000);
    const count = Math.ceil(RETIRED_BYTES / (2 * big.length)) + 20;
    const began = Date.now();
    const leave = async (i: number): Promise<void> => {
      const c = await connected(`http://127.0.0.1:${port}`, { extraHeaders: { "x-big": big, "x-n": String(i) } });
      c.disconnect();
    };
    // Five at a time, in order: the last five leave last.
    for (let i = 0; i < count; i += 5)
      await Promise.all([0, 1, 2, 3, 4].filter((k) => i + k < count).map((k) => leave(i + k)));
    await until(
      () => conns.length === count && conns.every((m) => m.socket.connected === false),
      3000,
      "every disconnect",
    );
    assert.ok(Date.now() - began < RETIRED_MS, `${count} clients left within ${RETIRED_MS} ms`);
    const usage = SocketHandle.retiredUsage();
    assert.ok(usage.bytes <= RETIRED_BYTES, `${usage.bytes} bytes kept`);
    assert.ok(usage.bytes > RETIRED_BYTES - 4 * 2 * big.length, `${usage.bytes} bytes kept: the bound is filled`);
    assert.ok(usage.count < count, `${usage.count} of ${count} departed sockets kept`);
    const byN = (n: number): Record<string, any> =>
      conns.find((m) => m.socket.handshake.headers["x-n"] === String(n)) ?? {};
    assert.ok(byN(count - 1).socket, "the latest departure is kept");
    assert.deepEqual(conns[0].socket.handshake.headers, {}, "one of the first five to leave is not");
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
      [serverConfig(port), onEvent("onGo", "go", [["ask"]]), fn("ask", ask, [["hOut"]]), helperNode("hOut")],
      [functionNode],
    );
    const out = collect("hOut");
    const c = await connected(`http://127.0.0.1:${port}`);
    c.on("q", (x: number, cb: (answer: string) => void) => cb(`answer to ${x}`));
    c.emit("go", 7);
    await until(() => out.length === 1, 2000, "the answer");
    assert.equal(out[0].payload, "answer to 7");
  });

  it("shows as a small plain object in JSON and in a debug node", async function () {
    const port = await freePort();
    await load(
      [
        serverConfig(port),
        onEvent("onGo", "go", [["joinR1"]]),
        {
          id: "joinR1",
          type: "socket-io-room",
          action: "join",
          rooms: "r1",
          roomsType: "str",
          wires: [["dbg", "hOut"]],
        },
        {
          id: "dbg",
          type: "debug",
          active: true,
          tosidebar: true,
          console: false,
          tostatus: false,
          complete: "true",
          targetType: "full",
          wires: [],
        },
        helperNode("hOut"),
      ],
      [debugNode],
    );
    const published: Array<{ msg: string; format: string }> = [];
    const onComms = (e: { topic: string; data: { id: string; msg: string; format: string } }): void => {
      if (e.topic === "debug" && e.data.id === "dbg") published.push(e.data);
    };
    runtimeEvents.on("comms", onComms);
    try {
      const errors = errorsOf("dbg");
      const out = collect("hOut");
      const c = await connected(`http://127.0.0.1:${port}`);
      c.emit("go", "x");
      await until(() => out.length === 1 && published.length === 1, 2000, "the msg and the debug output");

      const json = JSON.stringify(out[0].socket);
      assert.ok(json.length < 5000, `msg.socket is ${json.length} characters of JSON`);
      const plain = JSON.parse(json);
      assert.deepEqual(Object.keys(plain).sort(), ["connected", "handshake", "id", "namespace", "rooms"]);
      assert.equal(plain.id, c.id);
      assert.equal(plain.namespace, "/");
      assert.deepEqual([...plain.rooms].sort(), [c.id, "r1"].sort());

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
      { ...onConnection("onConn", [["hConn"]]), z: "tab" },
      { id: "hConn", type: "helper", z: "tab" },
      {
        id: "joinR1",
        type: "socket-io-room",
        z: "tab",
        action: "join",
        rooms: "r1",
        roomsType: "str",
        wires: [["hJoined"]],
      },
      { id: "hJoined", type: "helper", z: "tab" },
      { id: "catcher", type: "catch", z: "tab", scope: null, uncaught: false, wires: [["hCaught"]] },
      { id: "hCaught", type: "helper", z: "tab" },
      { id: "completer", type: "complete", z: "tab", scope: ["joinR1"], uncaught: false, wires: [["hDone"]] },
      { id: "hDone", type: "helper", z: "tab" },
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
