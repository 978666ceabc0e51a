import { strict as assert } from "node:assert";
import { registry } from "../src/nodes/core/server-registry";
import {
  catchNode,
  completeNode,
  emitNode,
  endNode,
  helperNode,
  onNode,
  onTab,
  roomNode,
  serverConfig,
} from "./flow-fixtures";
import {
  callsOn,
  cleanup,
  client,
  collect,
  connected,
  freePort,
  helper,
  load,
  next,
  socketOf,
  statusesOf,
  until,
  type Msg,
} from "./helpers";
import { answersPing, pingPong } from "./server-kit";

function assertRedRing(id: string, text?: RegExp): void {
  const status = statusesOf(id).at(-1);
  assert.equal(status?.fill, "red", `${id} status ${JSON.stringify(status)}`);
  assert.equal(status?.shape, "ring");
  if (text) assert.match(String(status?.text), text);
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
      await load([
        serverConfig(port),
        ...onTab("bad input", [
          onNode("on-conn", "connection", ["conns"]),
          ...pingPong(),
          emitNode("no-event", "all", ""),
          emitNode("ns-blank", "all", "e", { namespace: "" }),
          emitNode("to-all", "all", "e"),
          emitNode("to-socket", "socket", "e"),
          roomNode("join", "join", "", ["passed"]),
          endNode("end"),
          catchNode("caught"),
          completeNode(["to-socket", "join"], "completed"),
          ...["completed", "conns", "passed", "caught"].map((id) => helperNode(id)),
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
    async function rejects(id: string, msg: Record<string, unknown>, message: RegExp): Promise<void> {
      const seen = caught.length;
      helper.getNode(id).receive(msg);
      await until(() => caught.length > seen, 3000, `an error from ${id}`);
      const got = caught[seen];
      assert.equal(got.error.source.id, id);
      assert.match(got.error.message, message);
      assert.equal(got._msgid, msg._msgid);
      assertRedRing(id);
    }

    it("an emit without an event name", async function () {
      await rejects("no-event", { payload: 1 }, /^core\.emit\.noEvent$/);
      await answersPing(url);
    });

    it("msg.namespace that no node configured, without creating that namespace", async function () {
      const nsps = (registry.get(`port:${port}`)!.io as unknown as { _nsps: Map<string, unknown> })._nsps;
      await rejects("ns-blank", { namespace: "/nope", payload: 1 }, /socket-io-emit\.errors\.unknownNamespace$/);
      // A client asking for it is refused too.
      const err = await next<Error>(client(`${url}/nope`), "connect_error");
      assert.match(err.message, /Invalid namespace/);
      assert.equal(nsps.has("/nope"), false);
      assert.equal(nsps.has("/"), true);
      await answersPing(url);
    });

    it("msg.namespace or msg.args of the wrong kind", async function () {
      await rejects("ns-blank", { namespace: 42, payload: 1 }, /socket-io-emit\.errors\.namespaceType$/);
      await rejects("ns-blank", { namespace: ["/"], payload: 1 }, /socket-io-emit\.errors\.namespaceType$/);
      await rejects("to-all", { args: "a,b" }, /socket-io-emit\.errors\.argsType$/);
      await rejects("to-all", { args: { 0: "a" } }, /socket-io-emit\.errors\.argsType$/);
      await answersPing(url);
    });

    it("a room node without a socket in msg.socket", async function () {
      await rejects("join", { room: "r" }, /socket-io-room\.errors\.noSocket$/);
      await rejects("join", { room: "r", socket: "some-socket-id" }, /socket-io-room\.errors\.noSocket$/);
      await answersPing(url);
    });

    it("msg.room that is not a room name or an array of room names", async function () {
      const c = await connected(url);
      const socket = await socketOf(conns, c);
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
      await answersPing(url);
    });

    it("a middleware-end node without msg.next", async function () {
      await rejects("end", { payload: true }, /socket-io-middleware-end\.errors\.noNext$/);
      await rejects("end", { payload: true, next: "next" }, /socket-io-middleware-end\.errors\.noNext$/);
      await answersPing(url);
    });

    it("a payload that cannot be serialised: a circular object, a BigInt", async function () {
      const c = await connected(url);
      const got: unknown[] = [];
      c.on("e", (payload: unknown) => got.push(payload));
      const circular: Record<string, unknown> = { name: "loop" };
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
      const socket = await socketOf(conns, c);
      c.disconnect();
      await until(() => socket.connected === false, 3000, "the server to see the disconnect");
      const msgs: Array<Record<string, unknown>> = [
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
      await answersPing(url);
    });
  });

  describe("in the server settings", function () {
    afterEach(cleanup);

    it("an invalid port or advanced-options JSON gives a red status; the rest of the runtime keeps working", async function () {
      const [goodPort, jsonPort] = [await freePort(), await freePort()];
      await load([
        serverConfig(goodPort, { id: "good" }),
        serverConfig(70000, { id: "port-70000" }),
        serverConfig("abc" as unknown as number, { id: "port-abc" }),
        serverConfig(jsonPort, { id: "bad-json", options: "{transports: websocket" }),
        ...onTab("bad input", [
          onNode("on-70000", "connection", [], { server: "port-70000" }),
          emitNode("emit-abc", "all", "e", { server: "port-abc" }),
          onNode("on-json", "connection", [], { server: "bad-json" }),
          ...pingPong("good"),
          catchNode("caught"),
          helperNode("caught"),
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

      await answersPing(`http://127.0.0.1:${goodPort}`);
    });
  });
});
