import { strict as assert } from "node:assert";
import type { Socket as ClientSocket } from "socket.io-client";
import type { SocketSummary } from "../src/nodes/core/room-members";
import { registry } from "../src/nodes/core/server-registry";
import {
  ackNode,
  catchNode,
  helperNode,
  joinPayloadNode,
  onEvent,
  onTab,
  roomNode,
  serverConfig,
  type FlowNode,
  type Props,
} from "./flow-fixtures";
import { cleanup, collect, connected, freePort, load, next, passOn, sleep, statusesOf, type Msg } from "./helpers";

/** A room node acting on all sockets in rooms, with the defaults a user leaves alone. */
const bulk = (id: string, action: string, extra: Props = {}): FlowNode =>
  roomNode(id, action, "", ["passed"], {
    target: "room",
    server: "srv",
    namespace: "/",
    inRooms: "",
    inRoomsType: "str",
    close: false,
    ...extra,
  });

function flow(port: number): FlowNode[] {
  const nodes: FlowNode[] = [
    onEvent("on-join", "join", ["join"]),
    joinPayloadNode("join", ["joined"]),
    ackNode("joined"),
    bulk("join-lobby-to-game", "join", { inRooms: "lobby", rooms: "game" }),
    bulk("leave", "leave"),
    bulk("disconnect", "disconnect", { inRooms: "game" }),
    bulk("close", "disconnect", { close: true }),
    bulk("list", "list", { inRooms: "inRoom", inRoomsType: "msg" }),
    bulk("list-other", "list", { namespace: "/other" }),
    bulk("list-msg-namespace", "list", { namespace: "" }),
    bulk("leave-all", "leaveAll"),
    { id: "socket-list", type: "socket-io-room", target: "socket", action: "list", wires: [["passed"]] },
    catchNode("caught"),
    helperNode("passed"),
    helperNode("caught"),
  ];
  return [serverConfig(port), ...onTab("bulk", nodes)];
}

describe("socket-io-room on all sockets in room(s) (in-memory adapter)", function () {
  let port = 0;
  let passed: Msg[];
  let caught: Msg[];

  beforeEach(async function () {
    port = await freePort();
    await load(flow(port));
    [passed, caught] = [collect("passed"), collect("caught")];
  });
  afterEach(cleanup);

  /** A client that has joined `rooms` through the flow. */
  async function member(...rooms: string[]): Promise<ClientSocket> {
    const c = await connected(`http://127.0.0.1:${port}`);
    for (const room of rooms) await c.timeout(2000).emitWithAck("join", room);
    return c;
  }

  /** Sends `msg` to a node; resolves with the msg it passes on, or rejects with the error a Catch node got. */
  const act = (id: string, msg: object): Promise<Msg> => passOn(id, msg, passed, caught);

  const roomsOf = (c: ClientSocket): string[] =>
    [...registry.get(`port:${port}`)!.io.of("/").sockets.get(c.id!)!.rooms].filter((r) => r !== c.id).sort();

  it("makes every socket in a room join another, and leaves every socket of the namespace when In room(s) and msg.inRoom are blank", async function () {
    const [a, b, c] = [await member("lobby"), await member("lobby", "x"), await member("x")];
    const msg = await act("join-lobby-to-game", { payload: "go", topic: "t" });
    assert.deepEqual([msg.payload, msg.topic], ["go", "t"], "the msg is passed on unchanged");
    assert.deepEqual([roomsOf(a), roomsOf(b), roomsOf(c)], [["game", "lobby"], ["game", "lobby", "x"], ["x"]]);

    await act("leave", { inRoom: "x", room: "lobby" });
    assert.deepEqual(
      [roomsOf(a), roomsOf(b), roomsOf(c)],
      [["game", "lobby"], ["game", "x"], ["x"]],
      "msg.inRoom picks the sockets, msg.room the rooms they leave",
    );
    await act("leave", { room: ["game", "x"] });
    assert.deepEqual(
      [roomsOf(a), roomsOf(b), roomsOf(c)],
      [["lobby"], [], []],
      "with no room given, every socket of the namespace",
    );
  });

  it("disconnects every socket in a room, keeping or closing the underlying connection", async function () {
    const [a, b, c] = [await member("game"), await member("game"), await member()];
    // A second namespace on the same connection shows whether the connection itself was closed.
    const [aOther, cOther] = [a.io.socket("/other").connect(), c.io.socket("/other").connect()];
    await Promise.all([next(aOther, "connect"), next(cOther, "connect")]);
    const gone = [next(a, "disconnect"), next(b, "disconnect")];
    await act("disconnect", { payload: 1 });
    assert.deepEqual(await Promise.all(gone), ["io server disconnect", "io server disconnect"]);
    await sleep(100);
    assert.ok(aOther.connected, "close unticked: the connection stays, with the socket's other namespaces");
    assert.ok(c.connected, "a socket in no such room stays");
    // Every socket of "/" (only c's is left), with its connection: so c's socket in "/other" goes too.
    const closed = next(cOther, "disconnect");
    await act("close", {});
    await closed;
    await sleep(100);
    assert.ok(aOther.connected, 'a connection with no socket in "/" is not touched');
    assert.equal(registry.get(`port:${port}`)!.io.engine.clientsCount, 1, "c's connection is closed on the server");
    aOther.disconnect();
  });

  it("lists the sockets in msg.inRoom, or of the whole namespace, with their id, rooms and data", async function () {
    const [a, b] = [await member("red"), await member("red", "blue")];
    registry.get(`port:${port}`)!.io.of("/").sockets.get(b.id!)!.data = { user: "bob" };
    const list = async (id: string, msg: object): Promise<SocketSummary[]> =>
      (await act(id, msg)).payload as SocketSummary[];
    const red = await list("list", { inRoom: "red" });
    const byId = (summaries: SocketSummary[]): SocketSummary[] => [...summaries].sort((p, q) => (p.id < q.id ? -1 : 1));
    assert.deepEqual(
      byId(red),
      byId([
        { id: a.id!, rooms: [a.id!, "red"], data: {} },
        { id: b.id!, rooms: [b.id!, "red", "blue"], data: { user: "bob" } },
      ]),
    );
    assert.deepEqual(
      (await list("list", { inRoom: "blue" })).map((s) => s.id),
      [b.id],
    );
    assert.equal((await list("list", { inRoom: ["nobody-here"] })).length, 0);
    assert.equal((await list("list", {})).length, 2, "no room: every socket of the namespace");
    assert.deepEqual(await list("list-other", {}), [], "a namespace of its own, with no sockets");
  });

  it("refuses actions that do not fit what the node acts on, and a namespace no node configured, with Catch-able errors and a red status", async function () {
    await assert.rejects(act("leave-all", {}), /socket-io-room\.errors\.socketOnly$/);
    await assert.rejects(act("socket-list", {}), /socket-io-room\.errors\.roomOnly$/);
    await assert.rejects(
      act("list-msg-namespace", { namespace: "/never" }),
      /socket-io-room\.errors\.unknownNamespace$/,
    );
    assert.deepEqual(
      (await act("list", { namespace: "/never" })).payload,
      [],
      "a Namespace setting wins over msg.namespace",
    );
    await assert.rejects(
      act("list", { inRoom: { not: "a room" } }),
      /core\.emit\.roomList \{"what":"socket-io-room\.label\.inRooms","kind":"kind\.object"\}$/,
    );
    const status = statusesOf("leave-all").at(-1);
    assert.deepEqual([status?.fill, status?.shape], ["red", "ring"]);
  });
});
