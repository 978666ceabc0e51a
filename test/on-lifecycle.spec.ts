import { strict as assert } from "node:assert";
import type { NodeAPI } from "node-red";
import type { Socket as ServerSocket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import { editorOn, editorOnEvent, helperNode, roomNode, serverConfig, type FlowNode } from "./flow-fixtures";
import { cleanup, collect, connected, freePort, helper, load, next, sleep, socketOf, until, type Msg } from "./helpers";

/** Every listener a server-side socket carries, catch-all listeners included. */
function listenerTotal(socket: ServerSocket): number {
  const named = socket.eventNames().reduce<number>((n, name) => n + socket.listenerCount(name), 0);
  return named + socket.listenersAny().length;
}

describe("socket-io-on: lifecycle and room events", function () {
  afterEach(cleanup);

  it("lifecycle events carry the socket, its id, the namespace and the disconnect reason", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      editorOn("conn", "connection", ["hConn"]),
      editorOn("discing", "disconnecting", ["hDiscing"]),
      editorOn("disc", "disconnect", ["hDisc"]),
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

  it("room events say which room and socket; a socket's own room shows only with privateRooms", async function () {
    const port = await freePort();
    const room = (id: string, action: string): FlowNode => roomNode(id, action, "r1", []);
    await load([
      serverConfig(port),
      editorOnEvent("onJoin", "join", ["roomJoin"]),
      editorOnEvent("onLeave", "leave", ["roomLeave"]),
      room("roomJoin", "join"),
      room("roomLeave", "leaveAll"),
      editorOn("created", "create-room", ["hCreated"]),
      editorOn("deleted", "delete-room", ["hDeleted"]),
      editorOn("joined", "join-room", ["hJoined"]),
      editorOn("left", "leave-room", ["hLeft"]),
      editorOn("joinedAll", "join-room", ["hJoinedAll"], { privateRooms: true }),
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
      joinedAll.map((m) => (m.payload as { room: string }).room),
      [id, "r1"],
    );
  });

  it("a client cannot fake lifecycle or room events; a client event of that name is heard as one", async function () {
    const port = await freePort();
    await load([
      serverConfig(port),
      editorOn("conn", "connection", ["hConn"]),
      editorOn("discing", "disconnecting", ["hDiscing"]),
      editorOn("disc", "disconnect", ["hDisc"]),
      editorOn("joined", "join-room", ["hJoined"]),
      editorOn("created", "create-room", ["hCreated"]),
      editorOnEvent("clientConn", "connection", ["hClientConn"]),
      editorOnEvent("clientJoin", "join-room", ["hClientJoin"]),
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
    const forge = (data: unknown[]): void =>
      (forger as unknown as { packet(packet: { type: number; data: unknown[] }): void }).packet({ type: 2, data });
    forge(["disconnecting"]);
    forge(["disconnect"]);
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
    const flow = (events: number): FlowNode[] => [
      serverConfig(port),
      editorOn("conn", "connection", ["hConn"]),
      helperNode("hConn"),
      ...Array.from({ length: events }, (_, i) => editorOnEvent(`on${i}`, `e${i}`, ["hEvents"])),
      editorOn("onAny", "any", ["hEvents"]),
      editorOn("disc", "disconnect", []),
      helperNode("hEvents"),
    ];
    const url = `http://127.0.0.1:${port}`;
    const liveOf = async (msgs: Msg[], c: ClientSocket): Promise<ServerSocket> => (await socketOf(msgs, c, 2000)).live!;

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
      (RED as unknown as { _: (key: string, subs?: { count?: number }) => string })._ = (key, subs) =>
        subs?.count === undefined ? key : `${key} ${subs.count}`;
    };
    await load([serverConfig(port), editorOnEvent("on", "x", [])], [countingI18n]);
    const statuses: Array<{ fill?: string; shape?: string; text?: string }> = [];
    helper.getNode("on").on("call:status", (call) => statuses.push(call.args[0] as Record<string, string>));
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
});
