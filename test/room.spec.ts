import { strict as assert } from "node:assert";
import type { Socket as ClientSocket } from "socket.io-client";
import { registry } from "../src/nodes/core/server-registry";
import type { SocketHandle } from "../src/nodes/core/socket-handle";
import {
  catchNode,
  completeNode,
  emitNode,
  helperNode,
  onNode,
  onTab,
  roomNode,
  serverConfig,
  type FlowNode,
} from "./flow-fixtures";
import {
  cleanup,
  collect,
  connected,
  everRed,
  freePort,
  helper,
  load,
  passOn,
  socketOf,
  until,
  type Msg,
} from "./helpers";

function roomFlow(port: number): FlowNode[] {
  const nodes: FlowNode[] = [
    onNode("on-conn", "connection", ["conns"]),
    roomNode("join-set", "join", "a, b", ["after"]),
    roomNode("join-json", "join", '["c","d"]', ["after"], { roomsType: "json" }),
    roomNode("join-msg", "join", "", ["after"]),
    roomNode("leave-set", "leave", "a", ["after"]),
    roomNode("leave-msg", "leave", "", ["after"]),
    roomNode("leave-all", "leaveAll", "", ["after"]),
    emitNode("to-rooms", "rooms", "e", { rooms: "", roomsType: "str" }),
    emitNode("fence", "all", "fence"),
    catchNode("caught"),
    completeNode(["join-msg", "leave-msg", "leave-all"], "completed"),
    ...["conns", "completed", "after", "caught"].map((id) => helperNode(id)),
  ];
  return [serverConfig(port), ...onTab("room", nodes)];
}

interface Member {
  c: ClientSocket;
  /** msg.socket of this client, from the connection event. */
  socket: SocketHandle;
  /** The payloads of every "e" the client received. */
  got: unknown[];
}

describe("socket-io-room", function () {
  let port = 0;
  let conns: Msg[];
  let after: Msg[];
  let caught: Msg[];

  beforeEach(async function () {
    port = await freePort();
    await load(roomFlow(port));
    conns = collect("conns");
    after = collect("after");
    caught = collect("caught");
  });
  afterEach(cleanup);

  async function member(): Promise<Member> {
    const c = await connected(`http://127.0.0.1:${port}`);
    const got: unknown[] = [];
    c.on("e", (payload: unknown) => got.push(payload));
    return { c, socket: await socketOf(conns, c), got };
  }

  /** The rooms the server has the client in. */
  function roomsOf(m: Member): string[] {
    const socket = registry.get(`port:${port}`)!.io.of("/").sockets.get(m.c.id!);
    assert.ok(socket, "the server still has the socket");
    return [...socket.rooms].sort();
  }

  /** Sends `msg` to a room node; resolves with the msg it passes on. */
  const act = (id: string, msg: Record<string, unknown>): Promise<Msg> => passOn(id, msg, after, caught);

  /** Emits to `room` for each room, then waits until every member has had all of it. */
  async function emitTo(members: Member[], rooms: Array<string | string[]>): Promise<void> {
    for (const room of rooms) helper.getNode("to-rooms").receive({ room, payload: `to-${String(room)}` });
    const fences = members.map((m) => {
      let seen = false;
      m.c.once("fence", () => (seen = true));
      return () => seen;
    });
    helper.getNode("fence").receive({ payload: null });
    await until(() => fences.every((seen) => seen()), 3000, "the fence to reach every client");
  }

  it("joins the rooms of the Rooms setting, a comma-separated list or a JSON array, ahead of msg.room", async function () {
    const [m1, m2] = [await member(), await member()];
    await act("join-set", { socket: m1.socket, room: "zzz" });
    await act("join-json", { socket: m2.socket });
    assert.deepEqual(roomsOf(m1), ["a", "b", m1.c.id].sort());
    assert.deepEqual(roomsOf(m2), ["c", "d", m2.c.id].sort());
    await emitTo([m1, m2], ["a", "d", "zzz"]);
    assert.deepEqual(m1.got, ["to-a"]);
    assert.deepEqual(m2.got, ["to-d"]);
  });

  it("joins msg.room, a string or an array, when Rooms is blank, and passes the msg on unchanged", async function () {
    const [m1, m2, m3] = [await member(), await member(), await member()];
    const msg: Record<string, unknown> = { socket: m1.socket, room: "solo", payload: { keep: [1, 2] }, topic: "t" };
    const passed = await act("join-msg", msg);
    assert.deepStrictEqual(passed, {
      _msgid: msg._msgid,
      socket: m1.socket,
      room: "solo",
      payload: { keep: [1, 2] },
      topic: "t",
    });
    await act("join-msg", { socket: m2.socket, room: ["p", "q"] });
    assert.deepEqual(roomsOf(m1), ["solo", m1.c.id].sort());
    assert.deepEqual(roomsOf(m2), ["p", "q", m2.c.id].sort());
    assert.deepEqual(roomsOf(m3), [m3.c.id]);
    await emitTo([m1, m2, m3], ["solo", "q"]);
    assert.deepEqual(m1.got, ["to-solo"]);
    assert.deepEqual(m2.got, ["to-q"]);
    assert.deepEqual(m3.got, []);
  });

  it("leaves the rooms of the Rooms setting or msg.room, and the other members stay", async function () {
    const [m1, m2] = [await member(), await member()];
    await act("join-msg", { socket: m1.socket, room: ["a", "b", "c"] });
    await act("join-msg", { socket: m2.socket, room: ["a", "b", "c"] });
    const msg: Record<string, unknown> = { socket: m1.socket, room: "b", payload: 7 };
    const passed = await act("leave-msg", msg);
    assert.deepStrictEqual(passed, { _msgid: msg._msgid, socket: m1.socket, room: "b", payload: 7 });
    await act("leave-set", { socket: m1.socket });
    assert.deepEqual(roomsOf(m1), ["c", m1.c.id].sort());
    assert.deepEqual(roomsOf(m2), ["a", "b", "c", m2.c.id].sort());
    await emitTo([m1, m2], ["a", "b", "c"]);
    assert.deepEqual(m1.got, ["to-c"]);
    assert.deepEqual(m2.got, ["to-a", "to-b", "to-c"]);
  });

  it("leaves every room but the socket's own, which still reaches it", async function () {
    const [m1, m2] = [await member(), await member()];
    await act("join-msg", { socket: m1.socket, room: ["a", "b"] });
    await act("join-msg", { socket: m2.socket, room: "a" });
    const msg: Record<string, unknown> = { socket: m1.socket, payload: "bye" };
    const passed = await act("leave-all", msg);
    assert.deepStrictEqual(passed, { _msgid: msg._msgid, socket: m1.socket, payload: "bye" });
    assert.deepEqual(roomsOf(m1), [m1.c.id]);
    assert.deepEqual(roomsOf(m2), ["a", m2.c.id].sort());
    await emitTo([m1, m2], ["a", "b", m1.c.id!]);
    assert.deepEqual(m1.got, [`to-${m1.c.id}`]);
    assert.deepEqual(m2.got, ["to-a"]);
  });

  it("for a client that has already left (a page reload), join, leave and leave-all are nothing to do: the msg completes, with no error and no output", async function () {
    const completed = collect("completed");
    const m = await member();
    await act("join-msg", { socket: m.socket, room: "a" });
    m.c.disconnect();
    await until(() => m.socket.connected === false, 3000, "the server to see the client go");
    const msgs: Array<Record<string, unknown>> = [
      { socket: m.socket, room: "b" },
      { socket: m.socket, room: "a" },
      { socket: m.socket },
    ];
    helper.getNode("join-msg").receive(msgs[0]);
    helper.getNode("leave-msg").receive(msgs[1]);
    helper.getNode("leave-all").receive(msgs[2]);
    // The live socket's join, then the three.
    await until(() => completed.length === 4, 3000, "the msgs to complete");
    assert.deepEqual(
      completed
        .slice(1)
        .map((msg) => msg._msgid)
        .sort(),
      msgs.map((msg) => msg._msgid).sort(),
    );
    assert.deepEqual(caught, []);
    assert.equal(after.length, 1, "only the join of the live socket went on");
    // The status is left as it was: none of the three nodes shows a red ring.
    for (const id of ["join-msg", "leave-msg", "leave-all"]) assert.ok(!everRed(id), `${id} status`);
    // Nothing joined a room on its behalf: "b" was never created.
    const adapterRooms = registry.get(`port:${port}`)!.io.of("/").adapter.rooms;
    assert.equal(adapterRooms.has("b"), false);
  });

  it("a bad msg.room is still an error when the client has left", async function () {
    const m = await member();
    m.c.disconnect();
    await until(() => m.socket.connected === false, 3000, "the server to see the client go");
    await assert.rejects(
      act("join-msg", { socket: m.socket, room: 42 }),
      /core\.emit\.roomList \{"what":"msg\.room","kind":"kind\.value .*number.*42/,
    );
  });
});
