import { strict as assert } from "node:assert";
import type { EventEmitter } from "node:events";
import type { Socket as ClientSocket } from "socket.io-client";
import { DeployGate } from "../src/nodes/core/deploy-gate";
import { ServerRegistry, registry } from "../src/nodes/core/server-registry";
import type { ServerEntry } from "../src/nodes/core/server-entry";
import { parseServerSettings } from "../src/nodes/core/server-settings";
import {
  answerNodes,
  emitNode,
  helperNode,
  joinPayloadNode,
  onEvent,
  serverConfig,
  slowCloseNode,
  startNode,
  endNode,
  type FlowNode,
} from "./flow-fixtures";
import { cleanup, client, collect, connected, freePort, helper, load, next, sleep, until } from "./helpers";
import { listenOnce } from "./ports";

interface FlowOptions {
  /** The event the "ping" answer is sent as: changing it changes only the emit node. */
  reply?: string;
  server?: Record<string, unknown>;
  extra?: FlowNode[];
}

/**
 * One tab: "setup" joins the room in the payload and answers "ready"; "ping" is answered with
 * `reply`; "whoami" goes to helper node "who". The server config node sits in the tab too, so a
 * "flows" deploy restarts it along with the rest.
 */
function flow(port: number, { reply = "pong", server = {}, extra = [] }: FlowOptions = {}): FlowNode[] {
  const z = "tab";
  return [
    { id: z, type: "tab", label: "socket.io" },
    ...[
      serverConfig(port, server),
      onEvent("on-setup", "setup", ["join-room"]),
      joinPayloadNode("join-room", ["emit-ready"]),
      emitNode("emit-ready", "socket", "ready"),
      ...answerNodes("on-ping", "ping", "emit-reply", reply),
      onEvent("on-who", "whoami", ["who"]),
      helperNode("who"),
      ...extra,
    ].map((n) => ({ z, ...n })),
  ];
}

/** The runtime's event bus (flows:stopping, flows:started). */
const runtimeEvents = (): EventEmitter => helper._events;

/** The client gets an answer to "ping" as `reply`. */
async function answered(c: ClientSocket, reply = "pong"): Promise<void> {
  const value = Math.random();
  c.emit("ping", value);
  assert.equal(await next(c, reply), value);
}

describe("redeploys", function () {
  afterEach(cleanup);

  for (const type of ["full", "nodes", "flows"] as const) {
    it(`clients, their rooms and socket.data survive five "${type}" deploys that leave the server as it is`, async function () {
      this.timeout(20000);
      const port = await freePort();
      await load(flow(port), [slowCloseNode]);
      const url = `http://127.0.0.1:${port}`;
      const entry = registry.get(`port:${port}`)!;
      const clients = await Promise.all(Array.from({ length: 20 }, () => connected(url)));
      let disconnects = 0;
      clients.forEach((c, i) => {
        c.on("disconnect", () => disconnects++);
        c.emit("setup", `room-${i % 4}`);
      });
      await Promise.all(clients.map((c) => next(c, "ready")));
      clients.forEach((c, i) => {
        entry.io.of("/").sockets.get(c.id!)!.data = { user: `user-${i}` };
      });
      const ids = clients.map((c) => c.id);

      for (let d = 1; d <= 5; d++) {
        // Each deploy changes the emit node that answers "ping": the answer shows the new node is in use.
        const reply = d % 2 ? "pong-b" : "pong";
        await helper.setFlows(flow(port, { reply }), type);
        assert.equal(registry.get(`port:${port}`), entry, "the server was not restarted");
        await answered(clients[d], reply);
      }

      assert.equal(disconnects, 0);
      assert.deepEqual(
        clients.map((c) => c.id),
        ids,
      );
      const who = collect("who");
      for (const c of clients) c.emit("whoami");
      await until(() => who.length === clients.length, 3000, "20 whoami msgs");
      for (const msg of who) {
        const i = ids.indexOf(msg.socketId);
        assert.ok(i >= 0, `unknown socket ${msg.socketId}`);
        assert.equal(msg.socket.connected, true);
        assert.deepEqual([...msg.socket.rooms].sort(), [ids[i], `room-${i % 4}`].sort());
        assert.deepEqual(msg.socket.data, { user: `user-${i}` });
      }
      assert.deepEqual(
        [...entry.io.of("/").adapter.rooms.get("room-1")!].sort(),
        ids.filter((_id, i) => i % 4 === 1).sort(),
      );
    });
  }

  it("events a client sends during a deploy are delivered after it, in order, none lost", async function () {
    const port = await freePort();
    const extra = [{ id: "slow", type: "slow-close", delay: 200 }];
    await load(flow(port, { extra }), [slowCloseNode]);
    const c = await connected(`http://127.0.0.1:${port}`);
    const replies: number[] = [];
    c.on("pong", (n: number) => replies.push(n));

    const events = runtimeEvents();
    let started = false;
    const stopping = next(events, "flows:stopping");
    events.once("flows:started", () => (started = true));
    const deploy = helper.setFlows(flow(port, { extra }), "full");
    await stopping;
    for (let i = 0; i < 50; i++) {
      c.emit("ping", i);
      if (i % 10 === 9) await sleep(10);
    }
    assert.equal(started, false, "all 50 events were sent before the new flow started");
    await deploy;
    await until(() => replies.length >= 50, 3000, "50 replies");
    await sleep(100);
    assert.deepEqual(
      replies,
      Array.from({ length: 50 }, (_v, i) => i),
    );
  });

  it("messages already on their way through the flow when a deploy starts are still answered", async function () {
    const port = await freePort();
    await load(flow(port), [slowCloseNode]);
    const c = await connected(`http://127.0.0.1:${port}`);
    const answers = new Set<string>();
    c.on("ready", (room: string) => answers.add(room));
    // "setup" goes on -> room -> emit: two hops in which a deploy can catch a message.
    let sent = 0;
    let sending = true;
    const pump = (async () => {
      while (sending) {
        c.emit("setup", `r${sent++}`);
        await sleep(1);
      }
    })();
    for (let i = 0; i < 5; i++) {
      await sleep(30);
      await helper.setFlows(flow(port, { reply: `pong${i}` }), "full");
    }
    sending = false;
    await pump;
    await until(() => answers.size >= sent, 3000, `${sent} answers (got ${answers.size})`);
    assert.equal(answers.size, sent);
  });

  it("a changed server setting restarts the server once; clients reconnect to the new one", async function () {
    const port = await freePort();
    await load(flow(port), [slowCloseNode]);
    const old = registry.get(`port:${port}`)!;
    const c = await connected(`http://127.0.0.1:${port}`, {
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
    });
    let disconnects = 0;
    let connects = 0;
    c.on("disconnect", () => disconnects++);
    c.on("connect", () => connects++);
    const back = next(c, "connect");
    await helper.setFlows(flow(port, { server: { pingInterval: 10000 } }), "full");
    await back;
    await answered(c);
    await sleep(300);
    assert.equal(disconnects, 1);
    assert.equal(connects, 1);
    const now = registry.get(`port:${port}`)!;
    assert.notEqual(now, old);
    assert.equal(old.state, "closed");
    assert.equal(now.state, "listening");
    assert.equal(now.io.engine.opts.pingInterval, 10000);
    assert.equal(registry.size, 1);
  });

  it("after the flows stop, the parked server keeps its clients until the next deploy starts, then closes", async function () {
    const port = await freePort();
    await load(flow(port), [slowCloseNode]);
    const c = await connected(`http://127.0.0.1:${port}`);
    await helper.unload();
    await sleep(100);
    assert.equal(registry.size, 1, "parked");
    assert.equal(c.connected, true);

    const gone = next(c, "disconnect");
    await load([{ id: "h", type: "helper" }], [slowCloseNode]);
    await gone;
    await until(() => registry.size === 0, 2000, "the parked server to close");
    await listenOnce(port);
  });

  it("a parked server that no deploy reclaims closes after its grace time", async function () {
    const port = await freePort();
    const shortGrace = new ServerRegistry(100);
    const entry: ServerEntry = shortGrace.acquire("srv", parseServerSettings({ port }), {
      gate: new DeployGate(),
      log: { warn() {}, error() {} },
    });
    try {
      await until(() => entry.state === "listening", 2000, "listening");
      const c = await connected(`http://127.0.0.1:${port}`);
      await shortGrace.release("srv", entry, false);
      assert.equal(entry.state, "listening", "parked, not closed");
      assert.equal(c.connected, true);
      await next(c, "disconnect", 2000);
      assert.equal(entry.state, "closed");
      assert.equal(shortGrace.size, 0);
    } finally {
      await shortGrace.closeAll();
    }
  });

  it("stopping the flows with connected clients and a middleware waiting completes at once", async function () {
    const port = await freePort();
    const extra = [startNode("mw", ["mw-wait"], { namespace: "/guarded" }), helperNode("mw-wait"), endNode("mw-end")];
    await load(flow(port, { extra }), [slowCloseNode]);
    const url = `http://127.0.0.1:${port}`;
    const clients = await Promise.all(Array.from({ length: 5 }, () => connected(url)));
    clients.forEach((c, i) => c.emit("setup", `room-${i}`));
    await Promise.all(clients.map((c) => next(c, "ready")));
    const waiting = collect("mw-wait");
    client(`${url}/guarded`);
    await until(() => waiting.length === 1, 2000, "a socket in the middleware flow");

    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 2000, `unload took ${Date.now() - t0} ms`);
    // cleanup() unloads again: give it a flow to unload.
    await load([], [slowCloseNode]);
  });
});
