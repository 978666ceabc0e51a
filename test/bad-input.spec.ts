import { strict as assert } from "node:assert";
import type { NodeStatus } from "node-red";
import WebSocket from "ws";
import { registry } from "../src/nodes/core/server-registry";
import {
  allNodes,
  callsOn,
  cleanup,
  client,
  collect,
  connected,
  freePort,
  helper,
  next,
  serverConfig,
  sleep,
  until,
  type FlowNode,
} from "./helpers";

type Msg = Record<string, any>;

/** Flow nodes go on one tab so that a Catch node sees their errors. */
function onTab(nodes: FlowNode[]): FlowNode[] {
  return [
    { id: "f1", type: "tab", label: "bad input" },
    ...nodes.map((n) => ({ z: "f1", x: 0, y: 0, wires: [], ...n })),
  ];
}

/** The last status a node set (node.status is a sinon spy in the test helper). */
function statusOf(id: string): NodeStatus | undefined {
  return callsOn(id, "status").at(-1)?.[0] as NodeStatus | undefined;
}

function assertRedRing(id: string, text?: RegExp): void {
  const status = statusOf(id);
  assert.equal(status?.fill, "red", `${id} status ${JSON.stringify(status)}`);
  assert.equal(status?.shape, "ring");
  if (text) assert.match(String(status?.text), text);
}

/** The control every test ends with: a client emits "ping" and is answered "pong". */
async function answered(url: string): Promise<void> {
  const c = await connected(url);
  const pong = next(c, "pong");
  c.emit("ping", "still there?");
  assert.equal(await pong, "still there?");
}

describe("bad input", function () {
  describe("from flows", function () {
    let url = "";
    let port = 0;
    let caught: Msg[];
    let conns: Msg[];
    let passed: Msg[];

    beforeEach(async function () {
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
      await helper.load(allNodes, [
        serverConfig(port),
        ...onTab([
          {
            id: "on-conn",
            type: "socket-io-on",
            server: "srv",
            namespace: "/",
            listenFor: "connection",
            wires: [["conns"]],
          },
          {
            id: "on-ping",
            type: "socket-io-on",
            server: "srv",
            namespace: "/",
            listenFor: "event",
            event: "ping",
            wires: [["pong"]],
          },
          {
            id: "pong",
            type: "socket-io-emit",
            server: "srv",
            namespace: "/",
            event: "pong",
            eventType: "str",
            target: "socket",
          },
          {
            id: "no-event",
            type: "socket-io-emit",
            server: "srv",
            namespace: "/",
            event: "",
            eventType: "str",
            target: "all",
          },
          {
            id: "ns-blank",
            type: "socket-io-emit",
            server: "srv",
            namespace: "",
            event: "e",
            eventType: "str",
            target: "all",
          },
          {
            id: "to-all",
            type: "socket-io-emit",
            server: "srv",
            namespace: "/",
            event: "e",
            eventType: "str",
            target: "all",
          },
          {
            id: "to-socket",
            type: "socket-io-emit",
            server: "srv",
            namespace: "/",
            event: "e",
            eventType: "str",
            target: "socket",
          },
          { id: "join", type: "socket-io-room", action: "join", rooms: "", roomsType: "str", wires: [["passed"]] },
          { id: "end", type: "socket-io-middleware-end", errMsg: "" },
          { id: "catch", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
          { id: "complete", type: "complete", scope: ["to-socket", "join"], uncaught: false, wires: [["completed"]] },
          { id: "completed", type: "helper" },
          { id: "conns", type: "helper" },
          { id: "passed", type: "helper" },
          { id: "caught", type: "helper" },
        ]),
      ]);
      // A server that comes up clears its flow nodes' status: wait for it, so the red ring stays.
      await until(() => registry.get(`port:${port}`)?.state === "listening", 3000, "the server to listen");
      caught = collect("caught");
      conns = collect("conns");
      passed = collect("passed");
    });
    afterEach(cleanup);

    /**
     * Sends `msg` to node `id` and expects a Catch-able error matching `message`, carrying the msg,
     * with a red ring on the node.
     */
    async function rejects(id: string, msg: Msg, message: RegExp): Promise<void> {
      const seen = caught.length;
      helper.getNode(id).receive(msg);
      await until(() => caught.length > seen, 3000, `an error from ${id}`);
      const got = caught[seen];
      assert.equal(got.error.source.id, id);
      assert.match(got.error.message, message);
      assert.equal(got._msgid, msg._msgid);
      assertRedRing(id);
    }

    async function socketOf(c: { id?: string }): Promise<Msg> {
      await until(() => conns.some((m) => m.socketId === c.id), 3000, "the connection msg");
      return conns.find((m) => m.socketId === c.id)!.socket;
    }

    it("an emit without an event name", async function () {
      await rejects("no-event", { payload: 1 }, /^core\.emit\.noEvent$/);
      await answered(url);
    });

    it("msg.namespace that no node configured, without creating that namespace", async function () {
      const nsps = (registry.get(`port:${port}`)!.io as unknown as { _nsps: Map<string, unknown> })._nsps;
      await rejects("ns-blank", { namespace: "/nope", payload: 1 }, /socket-io-emit\.errors\.unknownNamespace$/);
      // A client asking for it is refused too.
      const err = await next<Error>(client(`${url}/nope`), "connect_error");
      assert.match(err.message, /Invalid namespace/);
      assert.equal(nsps.has("/nope"), false);
      assert.equal(nsps.has("/"), true);
      await answered(url);
    });

    it("msg.namespace or msg.args of the wrong kind", async function () {
      await rejects("ns-blank", { namespace: 42, payload: 1 }, /socket-io-emit\.errors\.namespaceType$/);
      await rejects("ns-blank", { namespace: ["/"], payload: 1 }, /socket-io-emit\.errors\.namespaceType$/);
      await rejects("to-all", { args: "a,b" }, /socket-io-emit\.errors\.argsType$/);
      await rejects("to-all", { args: { 0: "a" } }, /socket-io-emit\.errors\.argsType$/);
      await answered(url);
    });

    it("a room node without a socket in msg.socket", async function () {
      await rejects("join", { room: "r" }, /socket-io-room\.errors\.noSocket$/);
      await rejects("join", { room: "r", socket: "some-socket-id" }, /socket-io-room\.errors\.noSocket$/);
      await answered(url);
    });

    it("msg.room that is not a room name or an array of room names", async function () {
      const c = await connected(url);
      const socket = await socketOf(c);
      for (const room of [42, { name: "r" }, [{ name: "r" }]]) {
        await rejects(
          "join",
          { socket, room },
          /^core\.emit\.roomList \{"what":"msg\.room","kind":"kind\.(value|object|array)\b/,
        );
      }
      const live = registry.get(`port:${port}`)!.io.of("/").sockets.get(c.id!)!;
      assert.deepEqual([...live.rooms], [c.id]);
      assert.equal(passed.length, 0);
      await answered(url);
    });

    it("a middleware-end node without msg.next", async function () {
      await rejects("end", { payload: true }, /socket-io-middleware-end\.errors\.noNext$/);
      await rejects("end", { payload: true, next: "next" }, /socket-io-middleware-end\.errors\.noNext$/);
      await answered(url);
    });

    it("a payload that cannot be serialised: a circular object, a BigInt", async function () {
      const c = await connected(url);
      const got: unknown[] = [];
      c.on("e", (payload: unknown) => got.push(payload));
      const circular: Msg = { name: "loop" };
      circular.self = circular;
      await rejects("to-all", { payload: circular }, /^core\.emit\.circular \{"event":"e"\}$/);
      await rejects(
        "to-all",
        { payload: { n: BigInt(1) } },
        /^core\.emit\.unserializable \{"event":"e","error":".*BigInt/,
      );
      helper.getNode("to-all").receive({ payload: "fine" });
      await until(() => got.length > 0, 3000, "the next emit");
      assert.deepEqual(got, ["fine"]);
      assert.ok(c.connected);
    });

    it("a socket that has disconnected is not bad input: an emit to it and a join complete without an error; a bad msg.room still fails", async function () {
      const completed = collect("completed");
      const c = await connected(url);
      const socket = await socketOf(c);
      c.disconnect();
      await until(() => socket.connected === false, 3000, "the server to see the disconnect");
      const msgs: Msg[] = [
        { socket, payload: 1 },
        { socket, room: "r" },
      ];
      helper.getNode("to-socket").receive(msgs[0]);
      helper.getNode("join").receive(msgs[1]);
      await until(() => completed.length === 2, 3000, "both msgs to complete");
      assert.deepEqual(completed.map((m) => m._msgid).sort(), msgs.map((m) => m._msgid).sort());
      assert.equal(caught.length, 0);
      assert.equal(passed.length, 0);
      await rejects(
        "join",
        { socket, room: 42 },
        /^core\.emit\.roomList \{"what":"msg\.room","kind":"kind\.value .*number.*42/,
      );
      await answered(url);
    });
  });

  describe("in the server settings", function () {
    afterEach(cleanup);

    it("an invalid port or advanced-options JSON gives a red status; the rest of the runtime keeps working", async function () {
      const [goodPort, jsonPort] = [await freePort(), await freePort()];
      await helper.load(allNodes, [
        serverConfig(goodPort, { id: "good" }),
        serverConfig(70000, { id: "port-70000" }),
        serverConfig("abc" as unknown as number, { id: "port-abc" }),
        serverConfig(jsonPort, { id: "bad-json", options: "{transports: websocket" }),
        ...onTab([
          { id: "on-70000", type: "socket-io-on", server: "port-70000", namespace: "/", listenFor: "connection" },
          {
            id: "emit-abc",
            type: "socket-io-emit",
            server: "port-abc",
            namespace: "/",
            event: "e",
            eventType: "str",
            target: "all",
          },
          { id: "on-json", type: "socket-io-on", server: "bad-json", namespace: "/", listenFor: "connection" },
          {
            id: "on-ping",
            type: "socket-io-on",
            server: "good",
            namespace: "/",
            listenFor: "event",
            event: "ping",
            wires: [["pong"]],
          },
          {
            id: "pong",
            type: "socket-io-emit",
            server: "good",
            namespace: "/",
            event: "pong",
            eventType: "str",
            target: "socket",
          },
          { id: "catch", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
          { id: "caught", type: "helper" },
        ]),
      ]);
      const caught = collect("caught");
      // A short status on the flow nodes; the whole sentence is the server node's (RED._ gives codes here).
      for (const id of ["on-70000", "emit-abc", "on-json"]) assertRedRing(id, /socket-io-server\.status\.badSetting$/);
      const failure = (id: string): string =>
        String((helper.getNode(id) as { failure?: { text: string } }).failure?.text);
      assert.equal(
        failure("port-70000"),
        'core.setting.integer {"setting":"label.port","min":1,"max":65535,"value":"70000"}',
      );
      assert.equal(
        failure("port-abc"),
        'core.setting.integer {"setting":"label.port","min":1,"max":65535,"value":"abc"}',
      );
      assert.match(failure("bad-json"), /^core\.setting\.optionsJson \{"error":".*JSON/);
      assert.deepEqual(callsOn("port-70000", "error"), [["socket-io-server.errors.settings"]]);
      assert.equal(registry.get(`port:${jsonPort}`), undefined);

      helper.getNode("emit-abc").receive({ payload: 1 });
      await until(() => caught.length === 1, 3000, "the error of the emit node");
      assert.match(caught[0].error.message, /socket-io-emit\.errors\.noServer$/);

      await answered(`http://127.0.0.1:${goodPort}`);
    });
  });

  describe("from clients", function () {
    let url = "";
    let port = 0;
    let spam: Msg[];
    let big: Msg[];

    beforeEach(async function () {
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
      await helper.load(allNodes, [
        serverConfig(port, { maxHttpBufferSize: 1000 }),
        ...onTab([
          {
            id: "on-ping",
            type: "socket-io-on",
            server: "srv",
            namespace: "/",
            listenFor: "event",
            event: "ping",
            wires: [["pong"]],
          },
          {
            id: "pong",
            type: "socket-io-emit",
            server: "srv",
            namespace: "/",
            event: "pong",
            eventType: "str",
            target: "socket",
          },
          {
            id: "on-spam",
            type: "socket-io-on",
            server: "srv",
            namespace: "/",
            listenFor: "event",
            event: "spam",
            wires: [["spam"]],
          },
          {
            id: "on-big",
            type: "socket-io-on",
            server: "srv",
            namespace: "/",
            listenFor: "event",
            event: "big",
            wires: [["big"]],
          },
          { id: "spam", type: "helper" },
          { id: "big", type: "helper" },
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
      await answered(url);
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
      await answered(url);
      assert.deepEqual(
        spam.slice(0, 3).map((m) => m.payload),
        [0, 1, 2],
      );
      assert.equal(spam[4999].payload, 4999);
    });
  });
});
