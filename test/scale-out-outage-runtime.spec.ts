import { strict as assert } from "node:assert";
import type { SocketSummary } from "../src/nodes/core/room-members";
import { registry } from "../src/nodes/core/server-registry";
import {
  ackNode,
  ackWait,
  catchNode,
  emitNode,
  helperNode,
  joinPayloadNode,
  onEvent,
  onNode,
  onTab,
  roomNode,
  serverConfig,
} from "./flow-fixtures";
import { collect, connected, freePort, helper, load, next, sleep, until, warningsOf } from "./helpers";
import { startPrivateRedis } from "./redis-tools";
import { redisRuntime, statusBecomes } from "./scale-out-runtime-kit";

describe("scale-out in one Node-RED runtime when Redis hangs or is down (test helper, real Redis)", function () {
  const env = redisRuntime();

  for (const adapter of ["redis", "redis-streams"]) {
    it(`${adapter}: a Redis that hangs without closing its connections turns the status yellow, local clients are still served, and all comes back when it answers again`, async function () {
      const [portA, portB] = [await freePort(), await freePort()];
      const redis = env.keep(await startPrivateRedis());
      const settings = { adapter, redisUrl: redis.url, redisPrefix: env.prefix };
      await load(
        onTab("scale-out", [
          serverConfig(portA, { ...settings, id: "srvA" }),
          serverConfig(portB, { ...settings, id: "srvB" }),
          // Every client of either server joins room r.
          onNode("onA", "connection", ["joinA"], { server: "srvA" }),
          roomNode("joinA", "join", "r", []),
          onNode("onB", "connection", ["joinB"], { server: "srvB" }),
          roomNode("joinB", "join", "r", []),
          emitNode("to-room", "rooms", "news", { server: "srvA", rooms: "r", roomsType: "str" }),
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
    const onAllSockets = { target: "room", server: "srv", namespace: "/", inRoomsType: "str" };
    await load(
      onTab("scale-out", [
        serverConfig(port, { adapter: "redis", redisUrl: `redis://127.0.0.1:${redisPort}`, redisPrefix: env.prefix }),
        onEvent("on-echo", "echo", ["echo"]),
        emitNode("echo", "socket", "echo"),
        onEvent("on-join", "join", ["join"]),
        joinPayloadNode("join", ["joined"]),
        ackNode("joined"),
        emitNode("to-room", "rooms", "news", { rooms: "r", roomsType: "str" }),
        emitNode("to-others", "instances", "hello", ackWait(1000, "done")),
        roomNode("bulk-join", "join", "s", ["done"], { ...onAllSockets, inRooms: "r" }),
        { id: "list", type: "socket-io-room", action: "list", wires: [["done"]], ...onAllSockets, inRooms: "" },
        catchNode("caught"),
        helperNode("done"),
        helperNode("caught"),
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
    env.keep(await startPrivateRedis({ port: redisPort }));
    const green = await statusBecomes("on-echo", "status.redisClients", 6000);
    assert.deepEqual([green.fill, green.shape], ["green", "dot"]);
    assert.equal(unreachable().length, 1, "the outage was logged once, not at every retry");
    helper.getNode("list").receive({ payload: "all" });
    await until(() => done.length === 2, 3000, "the listing");
    assert.deepEqual((done[1].payload as SocketSummary[]).map((s) => s.id).sort(), [a.id, b.id].sort());
  });
});
