import { strict as assert } from "node:assert";
import type { NodeAPI } from "node-red";
import type { Socket as ServerSocket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  allNodes,
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
} from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require("@node-red/nodes/core/function/10-function.js");

type Flow = Array<Record<string, unknown>>;

/** A socket-io-on node on server "srv". */
function on(
  id: string,
  listenFor: string,
  wires: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    type: "socket-io-on",
    server: "srv",
    namespace: "/",
    listenFor,
    event: "",
    privateRooms: false,
    wires: [wires],
    ...extra,
  };
}

/** A socket-io-on node for one client event. */
const onEvent = (id: string, event: string, wires: string[], extra: Record<string, unknown> = {}) =>
  on(id, "event", wires, { event, ...extra });

/** A socket-io-emit node that answers the socket in msg.socket. */
function emitToSocket(id: string, event: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    type: "socket-io-emit",
    server: "srv",
    namespace: "/",
    event,
    eventType: "str",
    target: "socket",
    wires: [],
    ...extra,
  };
}

const helperNode = (id: string): Record<string, unknown> => ({ id, type: "helper" });

/** Every listener a server-side socket carries, catch-all listeners included. */
function listenerTotal(socket: ServerSocket): number {
  const named = socket.eventNames().reduce<number>((n, name) => n + socket.listenerCount(name), 0);
  return named + socket.listenersAny().length;
}

// Node ids must differ from every string setting: Node-RED takes a setting that equals a node id
// for a reference to that node.
async function load(flow: Flow, extraModules: unknown[] = []): Promise<void> {
  await helper.load([...extraModules, ...allNodes] as any, flow);
}

describe("socket-io-on", function () {
  afterEach(cleanup);

  it("a client that emits right after connecting is answered (20 of 20)", async function () {
    const port = await freePort();
    await load([serverConfig(port), onEvent("on", "ping", ["emit"]), emitToSocket("emit", "pong")]);
    const url = `http://127.0.0.1:${port}`;
    const answers = Array.from({ length: 20 }, (_, i) => {
      const c = client(url);
      const answer = next<number>(c, "pong");
      c.emit("ping", i); // before "connect": in the same tick as the connection is opened
      return answer;
    });
    assert.deepEqual(
      await Promise.all(answers),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it("20 events in flight from several clients each get their own reply", async function () {
    const port = await freePort();
    const delay = "setTimeout(() => { node.send(msg); node.done(); }, Math.floor(Math.random() * 40)); return null;";
    await load(
      [
        serverConfig(port),
        onEvent("on", "req", ["slow"]),
        {
          id: "slow",
          type: "function",
          func: delay,
          outputs: 1,
          noerr: 0,
          initialize: "",
          finalize: "",
          libs: [],
          wires: [["emit"]],
        },
        emitToSocket("emit", "res"),
      ],
      [functionNode],
    );
    const url = `http://127.0.0.1:${port}`;
    const clients = await Promise.all(Array.from({ length: 5 }, () => connected(url)));
    const replies = clients.map(() => [] as Array<{ client: number; n: number }>);
    clients.forEach((c, k) => c.on("res", (r) => replies[k].push(r)));
    for (let n = 0; n < 4; n++) clients.forEach((c, k) => c.emit("req", { client: k, n }));
    await until(() => replies.every((r) => r.length >= 4), 3000, "4 replies per client");
    await sleep(100);
    replies.forEach((got, k) => {
      const sorted = [...got].sort((a, b) => a.n - b.n);
      assert.deepEqual(
        sorted,
        [0, 1, 2, 3].map((n) => ({ client: k, n })),
        `client ${k} got ${JSON.stringify(got)}`,
      );
    });
  });

  it("an on node deployed later hears a client that connected before it", async function () {
    const port = await freePort();
    const base = [serverConfig(port), onEvent("first", "ping", ["emit"]), emitToSocket("emit", "pong")];
    await load(base);
    const c = await connected(`http://127.0.0.1:${port}`);
    const id = c.id;
    let reconnected = false;
    c.on("disconnect", () => (reconnected = true));

    await helper.setFlows([...base, onEvent("late", "hello", ["emit2"]), emitToSocket("emit2", "welcome")], "nodes");
    c.emit("hello", "again");
    assert.equal(await next(c, "welcome"), "again");
    assert.equal(c.id, id);
    assert.equal(reconnected, false);
  });

  it("lifecycle events carry the socket, its id, the namespace and the disconnect reason", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      on("conn", "connection", ["hConn"]),
      on("discing", "disconnecting", ["hDiscing"]),
      on("disc", "disconnect", ["hDisc"]),
      helperNode("hConn"),
      helperNode("hDiscing"),
      helperNode("hDisc"),
    ]);
    const conns = collect("hConn");
    const discings = collect("hDiscing");
    const discs = collect("hDisc");
    const c = await connected(`http://127.0.0.1:${port}`);
    const id = c.id!;
    await until(() => conns.length === 1, 2000, "connection msg");
    const msg = conns[0];
    assert.equal(msg.payload, id);
    assert.equal(msg.socketId, id);
    assert.equal(msg.socket.id, id);
    assert.equal(msg.socket.connected, true);
    assert.equal(msg.namespace, "/");
    assert.equal(msg.event, "connection");
    assert.equal(discings.length + discs.length, 0);

    c.disconnect();
    await until(() => discs.length === 1 && discings.length === 1, 2000, "disconnect msgs");
    for (const m of [discings[0], discs[0]]) {
      assert.equal(m.payload, id);
      assert.equal(m.socketId, id);
      assert.equal(m.reason, "client namespace disconnect");
    }
    assert.equal(discings[0].event, "disconnecting");
    assert.equal(discs[0].event, "disconnect");
    assert.equal(discs[0].socket.connected, false);
  });

  it('"any client event" hears every client event with msg.event, msg.args and msg.payload', async function () {
    const port = await freePort();
    await load([serverConfig(port), on("onAny", "any", ["h"]), helperNode("h")]);
    const msgs = collect("h");
    const c = await connected(`http://127.0.0.1:${port}`);
    c.emit("a", 1, "x", { y: 2 });
    c.emit("b");
    c.emit("c", null, 3);
    await until(() => msgs.length >= 3, 2000, "3 events");
    await sleep(200);
    // The connection came first: had "any" heard it, it would lead the list.
    assert.deepEqual(
      msgs.map((m) => [m.event, [...m.args], m.payload]),
      [
        ["a", [1, "x", { y: 2 }], 1],
        ["b", [], undefined],
        ["c", [null, 3], null],
      ],
    );
    assert.equal(msgs[0].socketId, c.id);
  });

  it("an on node hears only its own namespace", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      onEvent("root", "hi", ["hRoot"]),
      onEvent("chat", "hi", ["hChat"], { namespace: "/chat" }),
      helperNode("hRoot"),
      helperNode("hChat"),
    ]);
    const rootMsgs = collect("hRoot");
    const chatMsgs = collect("hChat");
    const url = `http://127.0.0.1:${port}`;
    const rootClient = await connected(url);
    const chatClient = await connected(`${url}/chat`);
    rootClient.emit("hi", "from root");
    chatClient.emit("hi", "from chat");
    await until(() => rootMsgs.length >= 1 && chatMsgs.length >= 1, 2000, "one msg each");
    await sleep(200);
    assert.deepEqual(
      rootMsgs.map((m) => [m.payload, m.namespace, m.socketId]),
      [["from root", "/", rootClient.id]],
    );
    assert.deepEqual(
      chatMsgs.map((m) => [m.payload, m.namespace, m.socketId]),
      [["from chat", "/chat", chatClient.id]],
    );
  });

  it("room events say which room and socket; a socket's own room shows only with privateRooms", async function () {
    const port = await freePort();
    const room = (id: string, action: string) => ({
      id,
      type: "socket-io-room",
      action,
      rooms: "r1",
      roomsType: "str",
      wires: [[]],
    });
    await load([
      serverConfig(port),
      onEvent("onJoin", "join", ["roomJoin"]),
      onEvent("onLeave", "leave", ["roomLeave"]),
      room("roomJoin", "join"),
      room("roomLeave", "leaveAll"),
      on("created", "create-room", ["hCreated"]),
      on("deleted", "delete-room", ["hDeleted"]),
      on("joined", "join-room", ["hJoined"]),
      on("left", "leave-room", ["hLeft"]),
      on("joinedAll", "join-room", ["hJoinedAll"], { privateRooms: true }),
      helperNode("hCreated"),
      helperNode("hDeleted"),
      helperNode("hJoined"),
      helperNode("hLeft"),
      helperNode("hJoinedAll"),
    ]);
    const created = collect("hCreated");
    const deleted = collect("hDeleted");
    const joined = collect("hJoined");
    const left = collect("hLeft");
    const joinedAll = collect("hJoinedAll");
    const c = await connected(`http://127.0.0.1:${port}`);
    const id = c.id!;
    // Joining its own room on connect is private: only the privateRooms node hears it.
    await until(() => joinedAll.length === 1, 2000, "private join");
    assert.deepEqual(joinedAll[0].payload, { room: id, socketId: id });

    c.emit("join");
    await until(() => joined.length === 1 && created.length === 1, 2000, "r1 created and joined");
    assert.deepEqual(
      created.map((m) => [m.event, m.payload, m.room]),
      [["create-room", { room: "r1" }, "r1"]],
    );
    assert.deepEqual(
      joined.map((m) => [m.event, m.payload, m.room, m.socketId]),
      [["join-room", { room: "r1", socketId: id }, "r1", id]],
    );

    c.emit("leave");
    await until(() => left.length === 1 && deleted.length === 1, 2000, "r1 left and deleted");
    assert.deepEqual(
      left.map((m) => [m.event, m.payload, m.room]),
      [["leave-room", { room: "r1", socketId: id }, "r1"]],
    );
    assert.deepEqual(
      deleted.map((m) => [m.event, m.payload]),
      [["delete-room", { room: "r1" }]],
    );

    // Disconnecting leaves the socket's own room: private again.
    c.disconnect();
    await sleep(300);
    for (const list of [created, deleted, joined, left]) {
      assert.ok(
        list.every((m) => m.room === "r1"),
        `a private room leaked: ${JSON.stringify(list.map((m) => m.payload))}`,
      );
    }
    assert.deepEqual(
      joinedAll.map((m) => m.payload.room),
      [id, "r1"],
    );
  });

  it("a client cannot fake lifecycle or room events; a client event of that name is heard as one", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      on("conn", "connection", ["hConn"]),
      on("discing", "disconnecting", ["hDiscing"]),
      on("disc", "disconnect", ["hDisc"]),
      on("joined", "join-room", ["hJoined"]),
      on("created", "create-room", ["hCreated"]),
      onEvent("clientConn", "connection", ["hClientConn"]),
      onEvent("clientJoin", "join-room", ["hClientJoin"]),
      ...["hConn", "hDiscing", "hDisc", "hJoined", "hCreated", "hClientConn", "hClientJoin"].map((id) =>
        helperNode(id),
      ),
    ]);
    const conns = collect("hConn");
    const discings = collect("hDiscing");
    const discs = collect("hDisc");
    const joined = collect("hJoined");
    const created = collect("hCreated");
    const clientConns = collect("hClientConn");
    const clientJoins = collect("hClientJoin");
    const url = `http://127.0.0.1:${port}`;
    const c = await connected(url);
    await until(() => conns.length === 1, 2000, "the real connection");

    c.emit("connection", "fake");
    c.emit("join-room", { room: "x", socketId: c.id });
    c.emit("create-room", { room: "x" });
    await until(() => clientConns.length === 1 && clientJoins.length === 1, 2000, "the client events");
    await sleep(250);
    assert.equal(clientConns[0].payload, "fake");
    assert.equal(clientConns[0].event, "connection");
    assert.deepEqual(clientJoins[0].payload, { room: "x", socketId: c.id });
    assert.equal(conns.length, 1);
    assert.equal(joined.length + created.length + discings.length + discs.length, 0);

    // Socket.IO refuses reserved event names on the wire: a forged "disconnect" ends the
    // connection for real, and the flow hears exactly one genuine disconnect.
    const forger = await connected(url);
    const forgerId = forger.id;
    await until(() => conns.length === 2, 2000, "the forger's connection");
    const gone = next(forger, "disconnect");
    (forger as any).packet({ type: 2, data: ["disconnecting"] });
    (forger as any).packet({ type: 2, data: ["disconnect"] });
    await gone;
    await until(() => discs.length === 1, 2000, "the real disconnect");
    await sleep(250);
    assert.equal(discs.length, 1);
    assert.equal(discings.length, 1);
    assert.equal(discs[0].socketId, forgerId);
    assert.equal(typeof discs[0].reason, "string");
    assert.equal(discs[0].socket.connected, false);
    assert.equal(c.connected, true);
  });

  it("ten on nodes add no listeners to a socket compared with one", async function () {
    const port = await freePort();
    const flow = (events: number): Flow => [
      serverConfig(port),
      on("conn", "connection", ["hConn"]),
      helperNode("hConn"),
      ...Array.from({ length: events }, (_, i) => onEvent(`on${i}`, `e${i}`, ["hEvents"])),
      on("onAny", "any", ["hEvents"]),
      on("disc", "disconnect", []),
      helperNode("hEvents"),
    ];
    const url = `http://127.0.0.1:${port}`;
    const liveOf = async (msgs: Array<Record<string, any>>, c: ClientSocket): Promise<ServerSocket> => {
      await until(() => msgs.some((m) => m.socketId === c.id), 2000, "connection msg");
      return msgs.find((m) => m.socketId === c.id)!.socket.live;
    };

    await load(flow(1));
    const firstConns = collect("hConn");
    const a = await connected(url);
    const liveA = await liveOf(firstConns, a);
    const withOne = listenerTotal(liveA);

    await helper.setFlows(flow(10), "full");
    const conns = collect("hConn");
    const events = collect("hEvents");
    const b = await connected(url);
    const liveB = await liveOf(conns, b);
    assert.equal(listenerTotal(liveB), withOne);
    assert.equal(listenerTotal(liveA), withOne);
    assert.ok(liveA.connected, "client A survived the redeploy");

    // Positive control: all ten nodes (and "any") do hear the socket.
    for (let i = 0; i < 10; i++) b.emit(`e${i}`, i);
    await until(() => events.length === 20, 2000, "10 events twice (own node and any)");
  });

  it("the status shows the client count without one update per connection", async function () {
    const port = await freePort();
    // The test helper's RED._ returns the bare key; this one appends the count so the status can be read.
    const countingI18n = (RED: NodeAPI): void => {
      (RED as any)._ = (key: string, subs?: { count?: number }) =>
        subs?.count === undefined ? key : `${key} ${subs.count}`;
    };
    await load([serverConfig(port), onEvent("on", "x", [])], [countingI18n]);
    const statuses: Array<{ fill?: string; shape?: string; text?: string }> = [];
    helper.getNode("on").on("call:status", (call: { args: [Record<string, string>] }) => statuses.push(call.args[0]));
    const last = () => statuses[statuses.length - 1];
    const shows = (count: number) => () => last()?.text === `socket-io-on.status.clients ${count}`;
    await until(shows(0), 2000, "0 clients").catch(() => undefined); // may have been set before the spy

    const before = statuses.length;
    const url = `http://127.0.0.1:${port}`;
    const clients = await Promise.all(Array.from({ length: 20 }, () => connected(url)));
    await until(shows(20), 3000, "20 clients");
    assert.equal(last().fill, "green");
    assert.equal(last().shape, "dot");
    assert.ok(statuses.length - before <= 4, `${statuses.length - before} status updates for 20 connections`);

    for (const c of clients.slice(0, 15)) c.disconnect();
    await until(shows(5), 3000, "5 clients");
    for (const c of clients.slice(15)) c.disconnect();
    await until(shows(0), 3000, "0 clients");
    assert.ok(
      statuses.length - before <= 10,
      `${statuses.length - before} status updates for 20 connects and 20 disconnects`,
    );
  });

  it("acknowledgements work both ways", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      onEvent("onAsk", "ask", ["reply", "hAsk"]),
      {
        id: "reply",
        type: "socket-io-emit",
        server: "srv",
        namespace: "/",
        event: "",
        eventType: "str",
        target: "ack",
        wires: [],
      },
      helperNode("hAsk"),
      onEvent("onStart", "start", ["question"]),
      emitToSocket("question", "q", { waitAck: true, ackTimeout: 1000, wires: [["hAnswer"]] }),
      helperNode("hAnswer"),
    ]);
    const asks = collect("hAsk");
    const answers = collect("hAnswer");
    const c = await connected(`http://127.0.0.1:${port}`);

    // Client asks, the flow answers with msg.payload.
    assert.equal(await c.timeout(2000).emitWithAck("ask", 5), 5);
    await until(() => asks.length === 1, 2000, "the ask msg");
    assert.equal(typeof asks[0].ack, "function");

    // Without a callback there is no msg.ack, and the reply node says so.
    const errors: string[] = [];
    helper.getNode("reply").on("call:error", (call: { args: unknown[] }) => errors.push(String(call.args[0])));
    c.emit("ask", 6);
    await until(() => asks.length === 2 && errors.length === 1, 2000, "the second ask and the reply error");
    assert.equal(asks[1].payload, 6);
    assert.equal("ack" in asks[1], false);
    assert.equal(errors[0], 'core.emit.needsAck {"kind":"kind.undefined"}');

    // The flow asks, the client answers.
    c.on("q", (x: number, cb: (a: number) => void) => cb(x * 2));
    c.emit("start", 21);
    await until(() => answers.length === 1, 2000, "the client's answer");
    assert.equal(answers[0].payload, 42);
  });
});
