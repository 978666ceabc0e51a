import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { next, sleep, until } from "./helpers";
import { needsRedis, redisKeys, startPrivateRedis, uniquePrefix, type PrivateRedis } from "./redis-tools";
import {
  Clients,
  crashesOf,
  deployEverywhere,
  scaleOutFlow,
  startInstance,
  stopInstances,
  type FlowError,
  type Instance,
} from "./scale-out-flow";

/** The `data` of every "news" a client got (the flow emits the whole request body). */
const datas = (c: { news: unknown[] }): unknown[] =>
  c.news.map((n) => (typeof n === "object" && n !== null ? (n as { data?: unknown }).data : n));
const linesOf = (i: Instance, re: RegExp): string[] =>
  i.red
    .output()
    .split("\n")
    .filter((l) => re.test(l));

describe("two real Node-RED processes when their Redis goes away and comes back", function () {
  this.timeout(90_000);
  needsRedis({ binary: true });
  const PASSWORD = "outage-test-secret";
  let redis: PrivateRedis | undefined;
  let A: Instance;
  let B: Instance;
  const clients = new Clients();

  before(async function () {
    // A Redis of the test's own, with a password (the instances get it from their credentials), that
    // keeps its data across a crash as a production Redis does: Streams sessions must outlive it.
    redis = await startPrivateRedis({ password: PASSWORD, persist: true });
    [A, B] = await Promise.all([startInstance("A"), startInstance("B")]);
  });

  after(async function () {
    await stopInstances([A, B]);
    await redis?.remove();
  });

  afterEach(function () {
    clients.closeAll();
  });

  for (const adapter of ["redis", "redis-streams"]) {
    const streams = adapter === "redis-streams";
    it(`${streams ? "Redis Streams" : "Redis pub/sub"}: no crash, local clients served throughout, the status goes yellow and back, and traffic between the instances resumes${streams ? "; a client cut off across the restart gets what it missed" : ""}`, async function () {
      const prefix = uniquePrefix();
      await deployEverywhere(
        [A, B],
        scaleOutFlow({ adapter, redisUrl: redis!.url, prefix, password: PASSWORD, recovery: streams }),
      );
      for (const i of [A, B])
        assert.ok(
          !readFileSync(join(i.red.userDir, "flows.json"), "utf8").includes(PASSWORD),
          "the password is in flows.json",
        );
      // Lines of both instances' logs: Redis unreachable, and Redis reachable again.
      const logCounts = (): [number, number] => {
        const count = (re: RegExp): number => [A, B].reduce((n, i) => n + linesOf(i, re).length, 0);
        return [count(new RegExp(`Redis at ${redis!.url} is unreachable \\(`)), count(/is reachable again after/)];
      };
      const [unreachableBefore, backBefore] = logCounts();

      const a1 = await clients.connect(A.ioUrl, ["r"]);
      assert.equal((await B.post("/emit/rooms", { event: "news", room: "r", data: "before" })).status, 200);
      await until(() => datas(a1).includes("before"), 3000, "the news before the outage");

      // With Streams, a client of A in room "rr" loses its connection just before Redis dies: A keeps its session in Redis.
      let session: { pid: string; offset: string; id: string } | undefined;
      // The flow answers the HTTP request as it emits: a witness in room "rr" shows when an event is in the stream.
      let witness: Awaited<ReturnType<Clients["connect"]>> | undefined;
      const emitToRr = async (data: string): Promise<void> => {
        assert.equal((await B.post("/emit/rooms", { event: "news", room: "rr", data })).status, 200);
        await until(() => datas(witness!).includes(data), 3000, `"${data}" to reach the witness`);
      };
      if (streams) {
        const c = await clients.connect(A.ioUrl, ["rr"]);
        witness = await clients.connect(A.ioUrl, ["rr"]);
        await emitToRr("seen");
        await until(() => datas(c).includes("seen"), 3000, "the news before the drop");
        const { _pid: pid, _lastOffset: offset } = c as unknown as { _pid: string; _lastOffset: string };
        assert.ok(pid && offset, "the server handed the client a session id and an offset");
        session = { pid, offset, id: c.id! };
        const dropped = next(c, "disconnect");
        c.io.engine.close();
        await dropped;
        const deadline = Date.now() + 3000;
        while ((await redisKeys(`${prefix}:session:*`, redis!.url, PASSWORD)).length === 0) {
          if (Date.now() > deadline) throw new Error("A stored no session in Redis");
          await sleep(50);
        }
        await emitToRr("missed before the outage");
      }

      // Redis dies.
      await redis!.stop();
      for (const i of [A, B]) {
        await i.statuses.waitFor(
          "on-join",
          (t) => /^redis unreachable · \d+ clients?$/.test(t),
          5000,
          `${i.name} to show Redis unreachable`,
        );
        assert.deepEqual([i.statuses.status("on-join")?.fill, i.statuses.status("on-join")?.shape], ["yellow", "ring"]);
      }
      // a1, and with Streams the witness of room "rr".
      assert.equal(
        A.statuses.text("on-join"),
        streams ? "redis unreachable · 2 clients" : "redis unreachable · 1 client",
      );

      // Each instance goes on serving its own clients, old and new.
      const pong = next(a1, "echo");
      a1.emit("echo", "during the outage");
      assert.equal(await pong, "during the outage");
      assert.equal((await A.post("/emit/rooms", { event: "news", room: "r", data: "local" })).status, 200);
      await until(() => datas(a1).includes("local"), 3000, "A's own news during the outage");
      const b1 = await clients.connect(B.ioUrl, ["q"]);
      assert.equal((await B.post("/room/join", { inRoom: "q", room: "q2" })).status, 200);
      assert.equal((await B.post("/emit/rooms", { event: "news", room: "q2", data: "B local" })).status, 200);
      await until(
        () => datas(b1).includes("B local"),
        3000,
        "B's own news (to a room its client joined in bulk) during the outage",
      );

      // What needs the other instance: an emit to A's room is lost (counted); an instance event and a listing fail, catchably.
      assert.equal((await B.post("/emit/rooms", { event: "news", room: "r", data: "lost" })).status, 200);
      const instances = await B.post<FlowError>("/instances", { event: "whoami", payload: "anyone?" });
      assert.equal(instances.status, 500);
      assert.match(
        instances.body.error,
        /Redis at .* is unreachable \(.*\): the event cannot reach the other Node-RED instances/,
      );
      const list = await B.post<FlowError>("/room/list", { inRoom: "" });
      assert.equal(list.status, 500);
      assert.match(list.body.error, /is unreachable .*the sockets of the other Node-RED instances cannot be listed/);
      await until(
        () => linesOf(B, /message\(s\) for the other socket\.io instances could not be sent/).length > 0,
        3000,
        "B to log the lost messages",
      );

      // Long enough for several reconnection attempts: the outage is still logged once per instance.
      await sleep(1500);
      for (const i of [A, B]) assert.deepEqual(crashesOf(i), [], i.red.output());

      // Redis comes back: both instances reconnect on their own.
      const restarted = Date.now();
      await redis!.start();
      for (const i of [A, B]) {
        await i.statuses.waitFor(
          "on-join",
          (t) => / · redis$/.test(t) && i.statuses.status("on-join")?.fill === "green",
          6000,
          `${i.name} to reach Redis again`,
        );
      }
      const recoveredMs = Date.now() - restarted;
      console.log(`      (${adapter}: both instances green ${recoveredMs} ms after Redis restarted)`);
      assert.ok(recoveredMs < 5000, `recovery took ${recoveredMs} ms`);

      assert.equal((await B.post("/emit/rooms", { event: "news", room: "r", data: "after" })).status, 200);
      await until(() => datas(a1).includes("after"), 3000, "news from B after Redis came back");
      assert.deepEqual(datas(a1), ["before", "local", "after"], "what B emitted during the outage never arrives");
      assert.deepEqual(await B.post("/instances", { event: "whoami", payload: "back?" }), {
        status: 200,
        body: ["A:back?"],
      });
      if (session) {
        // The client comes back, through the load balancer to B, with its session: it gets what it missed on both sides of the outage.
        await emitToRr("missed after the outage");
        const back = await clients.connect(B.ioUrl, [], { auth: { pid: session.pid, offset: session.offset } });
        assert.equal(back.id, session.id, "the same socket id: the session outlived the Redis restart");
        await until(() => datas(back).length === 2, 3000, "the news it missed");
        assert.deepEqual(datas(back), ["missed before the outage", "missed after the outage"]);
      }
      const [unreachableAfter, backAfter] = logCounts();
      assert.equal(unreachableAfter - unreachableBefore, 2, "one line per instance for the outage, not one per retry");
      assert.equal(backAfter - backBefore, 2, "one line per instance when Redis is back");
      for (const i of [A, B]) assert.deepEqual(crashesOf(i), [], i.red.output());
    });
  }
});
