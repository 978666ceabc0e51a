import { strict as assert } from "node:assert";
import type { NodeStatus } from "node-red";
import { registry } from "../src/nodes/core/server-registry";
import {
  allNodes,
  callsOn,
  cleanup,
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
import { forgetPrefix, needsRedis, REDIS_URL, startPrivateRedis, uniquePrefix, type PrivateRedis } from "./redis-tools";

type Msg = Record<string, any>;

/** Flow nodes go on one tab so that a Catch node sees their errors. */
function onTab(nodes: FlowNode[]): FlowNode[] {
  return [
    { id: "f1", type: "tab", label: "scale-out" },
    ...nodes.map((n) => ({ z: "f1", x: 0, y: 0, wires: [], ...n })),
  ];
}

/** The statuses a node set so far (node.status is a sinon spy in the test helper). */
function statusesOf(id: string): NodeStatus[] {
  return callsOn(id, "status").map((args) => args[0] as NodeStatus);
}

/** Waits until a node's last status has this i18n key (the test helper's RED._ returns the key). */
async function statusBecomes(id: string, key: string, ms = 5000): Promise<NodeStatus> {
  await until(
    () => String(statusesOf(id).at(-1)?.text).endsWith(key),
    ms,
    `${id} to show ${key} (last: ${JSON.stringify(statusesOf(id).at(-1))})`,
  );
  return statusesOf(id).at(-1)!;
}

/** What a node wrote with node.warn (a spy in the test helper). */
function warningsOf(id: string): string[] {
  return callsOn(id, "warn").map((args) => String(args[0]));
}

/** Unhandled rejections while a test runs: a Node-RED process would have crashed on any of them. */
function watchUnhandled(): { list: unknown[]; stop(): void } {
  const list: unknown[] = [];
  const record = (reason: unknown): void => {
    list.push(reason);
  };
  process.on("unhandledRejection", record);
  return { list, stop: () => process.off("unhandledRejection", record) };
}

describe("an instance event target with the in-memory adapter", function () {
  afterEach(cleanup);

  it("fails the msg with a Catch-able error that says to choose a Redis adapter, and Node-RED carries on", async function () {
    const port = await freePort();
    await helper.load(
      allNodes,
      onTab([
        serverConfig(port),
        {
          id: "to-others",
          type: "socket-io-emit",
          server: "srv",
          namespace: "/",
          event: "hello",
          eventType: "str",
          target: "instances",
        },
        {
          id: "ask-others",
          type: "socket-io-emit",
          server: "srv",
          namespace: "/",
          event: "hello",
          eventType: "str",
          target: "instances",
          waitAck: true,
          ackTimeout: 1000,
          wires: [["answers"]],
        },
        { id: "catch", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
        { id: "answers", type: "helper" },
        { id: "caught", type: "helper" },
      ]),
    );
    const caught = collect("caught");
    helper.getNode("to-others").receive({ payload: 1 });
    helper.getNode("ask-others").receive({ payload: 2 });
    await until(() => caught.length === 2, 3000, "two errors");
    for (const msg of caught) assert.match(msg.error.message, /socket-io-emit\.errors\.instancesNeedRedis$/);
    assert.deepEqual(caught.map((m) => m.payload).sort(), [1, 2]);
  });
});

describe("scale-out in one Node-RED runtime (test helper, real Redis)", function () {
  needsRedis({ binary: true });
  let prefix = "";
  let redis: PrivateRedis | undefined;
  let unhandled: ReturnType<typeof watchUnhandled>;

  beforeEach(function () {
    prefix = uniquePrefix();
    unhandled = watchUnhandled();
  });

  afterEach(async function () {
    await cleanup();
    await redis?.stop();
    redis = undefined;
    await forgetPrefix(prefix);
    unhandled.stop();
    assert.deepEqual(unhandled.list, [], "unhandled rejections (each would crash Node-RED)");
  });

  it("two servers on one Redis: an instance event is answered by the other server's flow, and never by a client's event of that name", async function () {
    const [portA, portB] = [await freePort(), await freePort()];
    const redisSettings = { adapter: "redis", redisUrl: REDIS_URL, redisPrefix: prefix };
    await helper.load(
      allNodes,
      onTab([
        { ...serverConfig(portA, redisSettings), id: "srvA" },
        { ...serverConfig(portB, redisSettings), id: "srvB" },
        { id: "countA", type: "socket-io-on", server: "srvA", namespace: "/", listenFor: "connection", wires: [[]] },
        {
          id: "ask-others",
          type: "socket-io-emit",
          server: "srvA",
          namespace: "/",
          event: "whoami",
          eventType: "str",
          target: "instances",
          waitAck: true,
          ackTimeout: 2000,
          wires: [["answers"]],
        },
        // B answers an instance event with its first argument, and reports every client event.
        {
          id: "on-instance",
          type: "socket-io-on",
          server: "srvB",
          namespace: "/",
          listenFor: "instance",
          event: "whoami",
          wires: [["heard", "reply"]],
        },
        { id: "reply", type: "socket-io-emit", server: "srvB", target: "ack" },
        { id: "on-any", type: "socket-io-on", server: "srvB", namespace: "/", listenFor: "any", wires: [["any"]] },
        { id: "answers", type: "helper" },
        { id: "heard", type: "helper" },
        { id: "any", type: "helper" },
      ]),
    );
    const [answers, heard, any] = [collect("answers"), collect("heard"), collect("any")];
    await statusBecomes("countA", "status.redisClients");
    await statusBecomes("on-instance", "status.redisClients");

    // A client of B emits an event of the same name: only the client-event node hears it.
    const c = await connected(`http://127.0.0.1:${portB}`);
    c.emit("whoami", "from a client");
    await until(() => any.length === 1, 3000, "the client event");
    assert.equal(any[0].payload, "from a client");

    helper.getNode("ask-others").receive({ payload: "from A", topic: "t" });
    await until(() => answers.length === 1, 4000, "the answers");
    assert.deepEqual(answers[0].payload, ["from A"], "one answer, from the one other server");
    assert.equal(answers[0].topic, "t");
    assert.equal(heard.length, 1);
    assert.deepEqual(
      { event: heard[0].event, namespace: heard[0].namespace, payload: heard[0].payload, args: [...heard[0].args] },
      { event: "whoami", namespace: "/", payload: "from A", args: ["from A"] },
    );
    assert.equal(typeof heard[0].ack, "function");
    assert.equal(heard[0].socket, undefined, "an instance event has no socket");
    await sleep(200);
    assert.equal(any.length, 1, "the instance event reached no client-event node");
  });

  for (const adapter of ["redis", "redis-streams"]) {
    it(`${adapter}: a Redis that hangs without closing its connections turns the status yellow, local clients are still served, and all comes back when it answers again`, async function () {
      const [portA, portB] = [await freePort(), await freePort()];
      redis = await startPrivateRedis();
      const settings = { adapter, redisUrl: redis.url, redisPrefix: prefix };
      await helper.load(
        allNodes,
        onTab([
          { ...serverConfig(portA, settings), id: "srvA" },
          { ...serverConfig(portB, settings), id: "srvB" },
          // Every client of either server joins room r.
          {
            id: "onA",
            type: "socket-io-on",
            server: "srvA",
            namespace: "/",
            listenFor: "connection",
            wires: [["joinA"]],
          },
          { id: "joinA", type: "socket-io-room", action: "join", rooms: "r", roomsType: "str" },
          {
            id: "onB",
            type: "socket-io-on",
            server: "srvB",
            namespace: "/",
            listenFor: "connection",
            wires: [["joinB"]],
          },
          { id: "joinB", type: "socket-io-room", action: "join", rooms: "r", roomsType: "str" },
          {
            id: "to-room",
            type: "socket-io-emit",
            server: "srvA",
            namespace: "/",
            event: "news",
            eventType: "str",
            target: "rooms",
            rooms: "r",
            roomsType: "str",
          },
        ]),
      );
      await statusBecomes("onA", "status.redisClients");
      await statusBecomes("onB", "status.redisClients");
      const [a, b] = [await connected(`http://127.0.0.1:${portA}`), await connected(`http://127.0.0.1:${portB}`)];
      const [gotA, gotB]: unknown[][] = [[], []];
      a.on("news", (n: unknown) => gotA.push(n));
      b.on("news", (n: unknown) => gotB.push(n));
      await until(
        () => registry.get(`port:${portB}`)!.io.of("/").sockets.get(b.id!)?.rooms.has("r") === true,
        2000,
        "b in room r",
      );
      helper.getNode("to-room").receive({ payload: "before" });
      await until(
        () => gotA.includes("before") && gotB.includes("before"),
        3000,
        "the news before Redis hangs, on both servers",
      );

      redis.freeze();
      // An emit while the hang is not yet noticed: its local client gets it once the publish is given up on.
      helper.getNode("to-room").receive({ payload: "first" });
      await until(() => gotA.includes("first"), 3000, "A's own client to get the news sent as Redis hung");
      const yellow = await statusBecomes("onA", "status.redisUnreachableClients");
      assert.deepEqual([yellow.fill, yellow.shape], ["yellow", "ring"]);
      await statusBecomes("onB", "status.redisUnreachableClients");
      const hung = warningsOf("srvA").filter((w) =>
        /^core\.redis\.down \{"url":"redis:\/\/[^"]+","reason":"core\.redis\.noAnswer \{\\"ms\\":\d+\}"\}$/.test(w),
      );
      assert.equal(
        hung.length,
        1,
        `the hang is in the log once, with its reason: ${JSON.stringify(warningsOf("srvA"))}`,
      );
      // Once it is noticed, emits reach the local clients without waiting for Redis at all.
      helper.getNode("to-room").receive({ payload: "second" });
      helper.getNode("to-room").receive({ payload: "third" });
      await until(() => gotA.includes("third"), 1000, "A's own client to get the news while Redis hangs");
      assert.deepEqual(gotA, ["before", "first", "second", "third"]);

      redis.thaw();
      await statusBecomes("onA", "status.redisClients", 6000);
      await statusBecomes("onB", "status.redisClients", 6000);
      helper.getNode("to-room").receive({ payload: "after" });
      await until(() => gotB.includes("after"), 3000, "B's client to get news from A again");
      // What was refused while Redis hung never arrives; the publish in flight when it hung may, late.
      assert.deepEqual(
        gotB.filter((n) => n !== "first"),
        ["before", "after"],
      );
      assert.deepEqual(gotA, ["before", "first", "second", "third", "after"]);
      assert.ok(
        warningsOf("srvA").some((w) => /^core\.redis\.undelivered(Because)? \{"count":\d+,/.test(w)),
        "the lost messages are counted",
      );
    });
  }

  it("a server whose Redis is down at deploy starts, serves its clients, loses only what was meant for other instances, and connects when Redis starts", async function () {
    const [port, redisPort] = [await freePort(), await freePort()];
    await helper.load(
      allNodes,
      onTab([
        serverConfig(port, { adapter: "redis", redisUrl: `redis://127.0.0.1:${redisPort}`, redisPrefix: prefix }),
        {
          id: "on-echo",
          type: "socket-io-on",
          server: "srv",
          namespace: "/",
          listenFor: "event",
          event: "echo",
          wires: [["echo"]],
        },
        {
          id: "echo",
          type: "socket-io-emit",
          server: "srv",
          namespace: "/",
          event: "echo",
          eventType: "str",
          target: "socket",
        },
        {
          id: "on-join",
          type: "socket-io-on",
          server: "srv",
          namespace: "/",
          listenFor: "event",
          event: "join",
          wires: [["join"]],
        },
        { id: "join", type: "socket-io-room", action: "join", rooms: "payload", roomsType: "msg", wires: [["joined"]] },
        { id: "joined", type: "socket-io-emit", server: "srv", target: "ack" },
        {
          id: "to-room",
          type: "socket-io-emit",
          server: "srv",
          namespace: "/",
          event: "news",
          eventType: "str",
          target: "rooms",
          rooms: "r",
          roomsType: "str",
        },
        {
          id: "to-others",
          type: "socket-io-emit",
          server: "srv",
          namespace: "/",
          event: "hello",
          eventType: "str",
          target: "instances",
          waitAck: true,
          ackTimeout: 1000,
          wires: [["done"]],
        },
        {
          id: "bulk-join",
          type: "socket-io-room",
          target: "room",
          server: "srv",
          namespace: "/",
          inRooms: "r",
          inRoomsType: "str",
          action: "join",
          rooms: "s",
          roomsType: "str",
          wires: [["done"]],
        },
        {
          id: "list",
          type: "socket-io-room",
          target: "room",
          server: "srv",
          namespace: "/",
          inRooms: "",
          inRoomsType: "str",
          action: "list",
          wires: [["done"]],
        },
        { id: "catch", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
        { id: "done", type: "helper" },
        { id: "caught", type: "helper" },
      ]),
    );
    const [done, caught] = [collect("done"), collect("caught")];
    const yellow = await statusBecomes("on-echo", "status.redisUnreachableClients");
    assert.deepEqual([yellow.fill, yellow.shape], ["yellow", "ring"]);
    const unreachable = () => warningsOf("srv").filter((w) => /^core\.redis\.down /.test(w));
    assert.equal(unreachable().length, 1, "the outage is in the log, with its reason");
    assert.match(
      unreachable()[0],
      new RegExp(
        `^core\\.redis\\.down \\{"url":"redis://127\\.0\\.0\\.1:${redisPort}","reason":"[^"]*ECONNREFUSED[^"]*"\\}$`,
      ),
    );

    // Local clients are served: an echo, a join, an emit to their room, a bulk join.
    const url = `http://127.0.0.1:${port}`;
    const [a, b] = [await connected(url), await connected(url)];
    const pong = next(a, "echo");
    a.emit("echo", "still here");
    assert.equal(await pong, "still here");
    assert.equal(await a.timeout(2000).emitWithAck("join", "r"), "r");
    const news = next(a, "news");
    helper.getNode("to-room").receive({ payload: "local news" });
    assert.equal(await news, "local news");
    helper.getNode("bulk-join").receive({ payload: "x" });
    await until(() => done.length === 1, 2000, "the bulk join");
    const socketA = registry.get(`port:${port}`)!.io.of("/").sockets.get(a.id!)!;
    assert.deepEqual([...socketA.rooms].sort(), [a.id, "r", "s"].sort(), "the local socket in r joined s");
    assert.ok(b.connected);

    // What needs the other instances fails, catchably: an instance event and a listing.
    helper.getNode("to-others").receive({ payload: "anyone?" });
    helper.getNode("list").receive({ payload: "all" });
    await until(() => caught.length === 2, 3000, "two errors");
    const errors = caught.map((m) => `${m.error.source.id}: ${m.error.message}`).sort();
    assert.match(
      errors[0],
      /^list: core\.redis\.unreachableBecause \{"url":"redis:\/\/[^"]+","reason":"[^"]+","what":"socket-io-room\.errors\.listUnreachable"\}$/,
    );
    assert.match(
      errors[1],
      /^to-others: core\.redis\.unreachableBecause \{"url":"redis:\/\/[^"]+","reason":"[^"]+","what":"socket-io-emit\.errors\.instancesUnreachable"\}$/,
    );
    // Messages for other instances are counted: one line at once, the rest within 10 s go into the next line.
    await until(
      () => warningsOf("srv").some((w) => /^core\.redis\.undelivered(Because)? /.test(w)),
      2000,
      "the count of lost messages",
    );
    helper.getNode("to-room").receive({ payload: "more" });
    await sleep(100);
    assert.equal(
      warningsOf("srv").filter((w) => /^core\.redis\.undelivered/.test(w)).length,
      1,
      "one line about lost messages per 10 s",
    );

    // Redis starts: the server connects on its own, and says so once.
    redis = await startPrivateRedis({ port: redisPort });
    const green = await statusBecomes("on-echo", "status.redisClients", 6000);
    assert.deepEqual([green.fill, green.shape], ["green", "dot"]);
    assert.equal(unreachable().length, 1, "the outage was logged once, not at every retry");
    helper.getNode("list").receive({ payload: "all" });
    await until(() => done.length === 2, 3000, "the listing");
    assert.deepEqual(done[1].payload.map((s: Msg) => s.id).sort(), [a.id, b.id].sort());
  });
});
