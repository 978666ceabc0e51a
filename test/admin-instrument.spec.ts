// One feature's cases (the Admin UI instrumentation: on, off with no client lost, Redis adapters), hence over 250 lines.
import { strict as assert } from "node:assert";
import { createAdapter as createPubSubAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import bcrypt from "bcryptjs";
import { createClient } from "redis";
import type { Socket as ClientSocket } from "socket.io-client";
import { ADMIN_NAMESPACE, AdminInstrumentation, type AdminUiOptions } from "../src/nodes/core/admin-instrument";
import { Problem } from "../src/nodes/core/problem";
import {
  ADMIN,
  PASSWORD_HASH,
  adminClient,
  intervalsStartedBy,
  listenerProfile,
  testServer,
  watchCrashes,
  type TestServer,
} from "./admin-ui-kit";
import { client, closeClients, connected, next, refusal, until } from "./helpers";
import { REDIS_URL, forgetPrefix, needsRedis, uniquePrefix } from "./redis-tools";

const options = (serverId = "test"): AdminUiOptions => ({
  username: ADMIN.username,
  checkPassword: (given) => bcrypt.compare(given, PASSWORD_HASH),
  serverId,
});

interface SerializedSocket {
  id: string;
  nsp: string;
  rooms: string[];
  data: Record<string, unknown>;
}

/** Answers a "ping" with an ack within 2 s. */
const pong = (c: ClientSocket): Promise<unknown> => c.timeout(2000).emitWithAck("ping");

/** The same mix of clients on any server: "/" and "/news", WebSocket and polling upgraded to WebSocket. */
async function someClients(url: string): Promise<ClientSocket[]> {
  const list = [
    await connected(url),
    await connected(`${url}/news`, { transports: ["polling", "websocket"] }),
    await connected(`${url}/news`),
  ];
  await until(() => list.every((c) => c.io.engine.transport.name === "websocket"), 3000, "the upgrades");
  return list;
}

describe("Admin UI instrumentation (core)", function () {
  let servers: TestServer[] = [];
  let removals: AdminInstrumentation[] = [];
  let crashes: ReturnType<typeof watchCrashes>;
  const server = async (): Promise<TestServer> => {
    const s = await testServer();
    servers.push(s);
    return s;
  };
  const apply = (s: TestServer, serverId?: string): AdminInstrumentation => {
    const admin = AdminInstrumentation.apply(s.io, options(serverId));
    removals.push(admin);
    return admin;
  };

  beforeEach(() => (crashes = watchCrashes()));
  afterEach(async function () {
    closeClients();
    await Promise.all(removals.map((r) => r.remove()));
    await Promise.all(servers.map((s) => s.close()));
    [servers, removals] = [[], []];
    crashes.stop();
    assert.deepEqual(crashes.list, [], "uncaught exceptions or unhandled rejections (each would crash Node-RED)");
  });

  it("an admin client sees every socket with its rooms and the events clients send; a wrong password is refused", async function () {
    const s = await server();
    const news = await connected(`${s.url}/news`);
    apply(s);
    const admin = adminClient(s.url);
    const all = await next<SerializedSocket[]>(admin, "all_sockets");
    const listed = all.find((socket) => socket.id === news.id);
    assert.ok(listed, `the /news client is listed: ${JSON.stringify(all.map((x) => x.id))}`);
    assert.equal(listed.nsp, "/news");
    assert.deepEqual([...listed.rooms].sort(), [news.id, "r1"].sort());
    assert.deepEqual(listed.data, { since: new Date(0).toISOString() });

    const received = new Promise<unknown[]>((resolve) =>
      admin.on("event_received", (nsp: string, id: string, args: unknown[]) => {
        if (nsp === "/news" && id === news.id) resolve(args);
      }),
    );
    news.emit("hello", { n: 1 });
    assert.deepEqual(await received, ["hello", { n: 1 }]);

    const wrong = await refusal(adminClient(s.url, { username: ADMIN.username, password: "wrong" }));
    assert.equal(wrong.message, "invalid credentials");
    // admin-ui's own check rejected these unhandled, which stopped Node-RED (afterEach checks for crashes).
    for (const auth of [
      { username: ADMIN.username, password: 12345 },
      { username: ADMIN.username },
      { username: ADMIN.username, sessionId: "bogus" },
      {},
    ]) {
      const odd = await refusal(adminClient(s.url, auth));
      assert.equal(odd.message, "invalid credentials", JSON.stringify(auth));
    }
  });

  it("socket.data keeps its own objects: a Date works, JSON works, and flows see no _admin", async function () {
    const s = await server();
    apply(s);
    const seen: unknown[] = [];
    s.io.of("/dated").on("connection", (socket) => {
      try {
        socket.data.at = new Date(5);
        seen.push(socket.data.at.getTime(), JSON.stringify(socket.data), Object.keys(socket.data));
        socket.data = { replaced: true }; // as msg.socket.data = ... in a flow; then the transport upgrades
      } catch (err) {
        seen.push(`throws: ${(err as Error).message}`);
      }
    });
    const c = await connected(`${s.url}/dated`, { transports: ["polling", "websocket"] });
    await until(() => c.io.engine.transport.name === "websocket", 3000, "the upgrade");
    assert.deepEqual(seen, [5, JSON.stringify({ at: new Date(5) }), ["at"]]);
    const admin = adminClient(s.url);
    await next(admin, "all_sockets");
    const shown = next<SerializedSocket>(admin, "socket_connected");
    const news = await connected(`${s.url}/news`);
    assert.deepEqual((await shown).data, { since: new Date(0).toISOString() }, "the UI is told of the new socket");
    const socket = s.io.of("/news").sockets.get(news.id!)!;
    assert.equal(socket.data.since.getTime(), 0, "the middleware's Date is still a Date");
    assert.deepEqual(Object.keys(socket.data), ["since"]);
    assert.equal(await pong(news), "pong");
  });

  it("remove() takes everything off without disconnecting a client; apply works again and remove twice is fine", async function () {
    // A server that was never instrumented, with the same clients, is the measure.
    const control = await server();
    await someClients(control.url);
    await someClients(control.url);
    control.io.of("/late");
    await connected(`${control.url}/late`);
    const expected = listenerProfile(control.io);

    const s = await server();
    const before = await someClients(s.url);
    const { result: admin, intervals } = intervalsStartedBy(() => apply(s));
    assert.deepEqual(
      intervals.map((t) => t._idleTimeout),
      [2000],
      "admin-ui started its stats interval",
    );
    const watcher = adminClient(s.url);
    await next(watcher, "all_sockets");
    const during = await someClients(s.url);
    s.io.of("/late");
    const late = await connected(`${s.url}/late`);
    const normal = [...before, ...during, late];
    const disconnects: string[] = [];
    normal.forEach((c, i) => c.on("disconnect", (reason) => disconnects.push(`${i}: ${reason}`)));
    assert.notDeepEqual(listenerProfile(s.io), expected, "instrumented, the server holds more listeners");

    const adminGone = next<string>(watcher, "disconnect");
    const started = performance.now();
    await admin.remove();
    const removeMs = performance.now() - started;
    assert.equal(await adminGone, "io server disconnect");
    assert.ok(removeMs < 500, `remove() took ${removeMs} ms`);
    await until(() => s.io.engine.clientsCount === normal.length, 3000, "the admin client's connection to close");

    assert.deepEqual(
      await Promise.all(normal.map(pong)),
      normal.map(() => "pong"),
    );
    assert.deepEqual(disconnects, []);
    assert.deepEqual(listenerProfile(s.io), expected);
    const refused = adminClient(s.url);
    assert.equal((await refusal(refused)).message, "Invalid namespace");
    refused.close();
    assert.ok(
      intervals.every((t) => t._destroyed),
      "the stats interval is cleared",
    );
    assert.equal(s.io._nsps.has(ADMIN_NAMESPACE), false);
    assert.equal("_eventBuffer" in s.io, false);

    await admin.remove(); // twice
    const again = apply(s);
    const watcher2 = adminClient(s.url);
    const all = await next<SerializedSocket[]>(watcher2, "all_sockets");
    assert.equal(all.filter((x) => x.nsp !== ADMIN_NAMESPACE).length, normal.length);
    await Promise.all([again.remove(), again.remove()]);
    await until(() => s.io.engine.clientsCount === normal.length, 3000, "the admin client's connection to close");
    assert.deepEqual(listenerProfile(s.io), expected);
    assert.deepEqual(disconnects, []);
  });

  it("apply() refuses a server where a flow already made the admin namespace, and leaves it as it was", async function () {
    const s = await server();
    s.io.of(ADMIN_NAMESPACE).on("connection", (socket) => socket.emit("mine"));
    const expected = listenerProfile(s.io);
    assert.throws(
      () => AdminInstrumentation.apply(s.io, options()),
      (err: unknown) =>
        err instanceof Problem && err.code === "server.adminNamespaceTaken" && err.values.namespace === ADMIN_NAMESPACE,
    );
    assert.deepEqual(listenerProfile(s.io), expected);
    const c = client(s.url + ADMIN_NAMESPACE);
    await next(c, "mine");
  });

  it("a login gets a session id the UI connects with again; other credentials end it", async function () {
    const s = await server();
    const first = apply(s);
    const admin = adminClient(s.url);
    const session = await next<string>(admin, "session");
    assert.match(session, /^[0-9a-f]{32}$/);
    await next(client(s.url + ADMIN_NAMESPACE, { auth: { sessionId: session } }), "connect");
    await first.remove();
    AdminInstrumentation.apply(s.io, options());
    const refused = await refusal(client(s.url + ADMIN_NAMESPACE, { auth: { sessionId: session } }));
    assert.equal(refused.message, "invalid credentials");
  });

  it("every login costs one password check, a wrong username too, and at most two run at once", async function () {
    const s = await server();
    let running = 0;
    let most = 0;
    let checks = 0;
    const checkPassword = async (given: string): Promise<boolean> => {
      checks++;
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running--;
      return given === ADMIN.password;
    };
    AdminInstrumentation.apply(s.io, { ...options(), checkPassword });
    const attempts = Array.from({ length: 8 }, (_v, i) =>
      refusal(adminClient(s.url, { username: i % 2 ? "nobody" : ADMIN.username, password: "wrong" })),
    );
    for (const err of await Promise.all(attempts)) assert.equal(err.message, "invalid credentials");
    assert.deepEqual([checks, most], [8, 2]);
    // The right username with a right password still gets in.
    await next(adminClient(s.url), "session");
  });

  for (const adapter of ["redis", "redis-streams"] as const) {
    describe(`with the ${adapter} adapter`, function () {
      needsRedis();
      let prefix = "";
      const redisClients: Array<{ close(): Promise<unknown> }> = [];

      beforeEach(() => (prefix = uniquePrefix()));
      afterEach(async function () {
        closeClients();
        await Promise.all(removals.map((r) => r.remove()));
        await Promise.all(servers.map((s) => s.close()));
        [servers, removals] = [[], []];
        await Promise.all(redisClients.splice(0).map((c) => c.close()));
        await forgetPrefix(prefix);
      });

      const redisServer = async (): Promise<TestServer> => {
        const pub = createClient({ url: REDIS_URL });
        pub.on("error", () => undefined);
        redisClients.push(pub);
        await pub.connect();
        let made;
        if (adapter === "redis") {
          const sub = pub.duplicate();
          sub.on("error", () => undefined);
          redisClients.push(sub);
          await sub.connect();
          made = createPubSubAdapter(pub, sub, { key: prefix });
        } else {
          made = createStreamsAdapter(pub, {
            streamName: prefix,
            channelPrefix: prefix,
            sessionKeyPrefix: `${prefix}:session:`,
          });
        }
        const s = await testServer({ adapter: made });
        servers.push(s);
        return s;
      };

      it("an admin client of instance A sees the sockets and stats of A and B", async function () {
        const [a, b] = [await redisServer(), await redisServer()];
        const [onA, onB] = [await connected(`${a.url}/news`), await connected(`${b.url}/news`)];
        for (let i = 0; (await a.io.of("/news").fetchSockets()).length < 2; i++) {
          if (i > 50) throw new Error("A never saw B's socket");
          await new Promise((r) => setTimeout(r, 20));
        }
        apply(a, "A");
        const onBRemoval = apply(b, "B");
        const admin = adminClient(a.url);
        const stats = new Set<string>();
        admin.on("server_stats", (st: { serverId: string }) => stats.add(st.serverId));
        const all = await next<SerializedSocket[]>(admin, "all_sockets", 5000);
        const ids = all.filter((x) => x.nsp === "/news").map((x) => x.id);
        assert.deepEqual(ids.sort(), [onA.id, onB.id].sort());
        await until(() => stats.size === 2, 5000, "the stats of both instances");
        assert.deepEqual([...stats].sort(), ["A", "B"]);

        // B turns it off: its clients stay, A's admin client too.
        let lost = 0;
        onB.on("disconnect", () => lost++);
        await onBRemoval.remove();
        assert.equal(await pong(onB), "pong");
        assert.equal(lost, 0);
        assert.equal(admin.connected, true);
      });
    });
  }
});
