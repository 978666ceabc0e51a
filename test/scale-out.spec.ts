import { strict as assert } from "node:assert";
import type { Socket as ClientSocket } from "socket.io-client";
import { next, until } from "./helpers";
import { forgetPrefix, needsRedis, REDIS_URL, redisKeys, uniquePrefix } from "./redis-tools";
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

type Summary = { id: string; rooms: string[]; data: { instance?: string } };
type News = ClientSocket & { news: unknown[] };

/** The `data` of every "news" a client got (the flow emits the whole request body). */
const datas = (c: News): unknown[] =>
  c.news.map((n) => (typeof n === "object" && n !== null ? (n as { data?: unknown }).data : n));

describe("two real Node-RED processes with the same flow on one Redis", function () {
  this.timeout(60_000);
  needsRedis();
  let A: Instance;
  let B: Instance;
  let prefix = "";
  const clients = new Clients();

  before(async function () {
    [A, B] = await Promise.all([startInstance("A"), startInstance("B")]);
  });

  after(async function () {
    await stopInstances([A, B]);
  });

  afterEach(async function () {
    clients.closeAll();
    await forgetPrefix(prefix);
    for (const i of [A, B]) if (i) assert.deepEqual(crashesOf(i), [], i.red.output());
  });

  for (const adapter of ["redis", "redis-streams"]) {
    describe(adapter === "redis" ? "Redis pub/sub adapter" : "Redis Streams adapter", function () {
      beforeEach(async function () {
        prefix = uniquePrefix();
        await deployEverywhere([A, B], scaleOutFlow({ adapter, redisUrl: REDIS_URL, prefix }));
      });

      it("emits from a flow on B reach A's clients: a room, a room except another, a socket id, everyone, and everyone but the sender", async function () {
        const [inR, inRX, alone] = [
          await clients.connect(A.ioUrl, ["r"]),
          await clients.connect(A.ioUrl, ["r", "x"]),
          await clients.connect(A.ioUrl),
        ];
        const sender = await clients.connect(B.ioUrl);
        const emitOnB = async (path: string, body: Record<string, unknown>): Promise<void> => {
          assert.equal((await B.post(path, body)).status, 200);
        };

        await emitOnB("/emit/rooms", { event: "news", room: "r", data: "to r" });
        await until(() => datas(inR).includes("to r") && datas(inRX).includes("to r"), 3000, "the room emit on A");
        await emitOnB("/emit/rooms", { event: "news", room: "r", except: "x", data: "to r except x" });
        await until(() => datas(inR).includes("to r except x"), 3000, "the emit with except on A");
        await emitOnB("/emit/rooms", { event: "news", room: alone.id, data: "to one socket id" });
        await until(() => datas(alone).includes("to one socket id"), 3000, "the emit to a socket id on A");
        await emitOnB("/emit/all", { event: "news", data: "to everyone" });
        await until(
          () => [inR, inRX, alone, sender].every((c) => datas(c).includes("to everyone")),
          3000,
          "the emit to everyone",
        );
        sender.emit("shout", "from B's client");
        await until(
          () => [inR, inRX, alone].every((c) => c.news.includes("from B's client")),
          3000,
          "the broadcast on A",
        );

        // A last emit to everyone, through the same Redis channel: whatever was not delivered before it never will be.
        await emitOnB("/emit/all", { event: "news", data: "fence" });
        await until(() => [inR, inRX, alone, sender].every((c) => datas(c).includes("fence")), 3000, "the fence");
        assert.deepEqual(datas(inR), ["to r", "to r except x", "to everyone", "from B's client", "fence"]);
        assert.deepEqual(datas(inRX), ["to r", "to everyone", "from B's client", "fence"]);
        assert.deepEqual(datas(alone), ["to one socket id", "to everyone", "from B's client", "fence"]);
        assert.deepEqual(datas(sender), ["to everyone", "fence"], "the sender of a broadcast does not get it");
      });

      it("the room node on B acts on the sockets in a room on both instances: join, list with id, rooms and data, leave, disconnect", async function () {
        const [a1, b1] = [await clients.connect(A.ioUrl, ["r"]), await clients.connect(B.ioUrl, ["r"])];
        const bystander = await clients.connect(A.ioUrl, ["elsewhere"]);
        const list = async (on: Instance, inRoom: string): Promise<Summary[]> => {
          const res = await on.post<Summary[]>("/room/list", { inRoom });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          return res.body.sort((p, q) => (p.data.instance ?? "").localeCompare(q.data.instance ?? ""));
        };

        assert.equal((await B.post("/room/join", { inRoom: "r", room: "s" })).status, 200);
        // B's own socket has joined when the node passes the msg on; A's joins when Redis brings the request.
        const poll = async (inRoom: string, n: number): Promise<Summary[]> => {
          const deadline = Date.now() + 3000;
          for (;;) {
            const found = await list(A, inRoom);
            if (found.length === n || Date.now() > deadline) return found;
            await new Promise((r) => setTimeout(r, 50));
          }
        };
        assert.deepEqual(await poll("s", 2), [
          { id: a1.id, rooms: [a1.id, "r", "s"], data: { instance: "A" } },
          { id: b1.id, rooms: [b1.id, "r", "s"], data: { instance: "B" } },
        ]);
        assert.deepEqual(
          (await list(B, "")).map((s) => s.id).sort(),
          [a1.id, b1.id, bystander.id].sort(),
          "a blank room lists every socket of every instance",
        );

        assert.equal((await B.post("/room/leave", { inRoom: "s", room: "r" })).status, 200);
        assert.deepEqual(await poll("r", 0), [], "both left r");

        const gone = [next(a1, "disconnect"), next(b1, "disconnect")];
        assert.equal((await B.post("/room/disconnect", { inRoom: "s" })).status, 200);
        assert.deepEqual(await Promise.all(gone), ["io server disconnect", "io server disconnect"]);
        assert.deepEqual(
          (await list(A, "")).map((s) => s.id),
          [bystander.id],
        );
        assert.ok(bystander.connected);
      });

      it("an instance event from a flow is answered by the other instance's flow, and the sender gets the answers", async function () {
        const fromB = await B.post("/instances", { event: "whoami", payload: "ping from B" });
        assert.deepEqual(fromB, { status: 200, body: ["A:ping from B"] });
        const fromA = await A.post("/instances", { event: "whoami", payload: "ping from A" });
        assert.deepEqual(fromA, { status: 200, body: ["B:ping from A"] });
        // An event no instance listens for is not answered in time: a Catch-able error.
        const unanswered = await A.post<FlowError>("/instances", { event: "nobody-listens", payload: 1 });
        assert.equal(unanswered.status, 500);
        assert.match(
          unanswered.body.error,
          /not every other Node-RED instance acknowledged event "nobody-listens" within 1000 ms/,
        );
      });
    });
  }

  it("with Redis Streams and connection state recovery, a client cut off for a moment gets what it missed, even from the other instance", async function () {
    prefix = uniquePrefix();
    await deployEverywhere(
      [A, B],
      scaleOutFlow({ adapter: "redis-streams", redisUrl: REDIS_URL, prefix, recovery: true }),
    );
    const client = await clients.connect(A.ioUrl, ["r"]);
    // The flow answers the HTTP request as it emits: a witness in the room shows when an event is in the stream.
    const witness = await clients.connect(A.ioUrl, ["r"]);
    await B.post("/emit/rooms", { event: "news", room: "r", data: 1 });
    await until(() => datas(client).includes(1), 3000, "the first news");
    const { _pid: pid, _lastOffset: offset } = client as unknown as { _pid: string; _lastOffset: string };
    assert.ok(pid && offset, "the server handed the client a session id and an offset");
    const id = client.id;

    // The connection drops (not a client's disconnect()): A keeps the session in Redis for the recovery window.
    const dropped = next(client, "disconnect");
    client.io.engine.close();
    await dropped;
    const deadline = Date.now() + 3000;
    while ((await redisKeys(`${prefix}:session:*`)).length === 0) {
      if (Date.now() > deadline) throw new Error("A stored no session in Redis");
      await new Promise((r) => setTimeout(r, 50));
    }
    await B.post("/emit/rooms", { event: "news", room: "r", data: 2 });
    await B.post("/emit/all", { event: "news", data: 3 });
    await until(() => datas(witness).includes(3), 3000, "the news to reach the witness");

    // It comes back, through the load balancer, to B, with the session id and offset it had.
    const back = await clients.connect(B.ioUrl, [], { auth: { pid, offset } });
    assert.equal(back.id, id, "the same socket id: the session was recovered");
    await until(() => datas(back).length === 2, 3000, "the missed news");
    assert.deepEqual(datas(back), [2, 3]);
    // And it is still in its room, now on B.
    await A.post("/emit/rooms", { event: "news", room: "r", data: 4 });
    await until(() => datas(back).includes(4), 3000, "news to its room");
  });
});
