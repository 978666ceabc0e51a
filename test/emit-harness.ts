// What the socket-io-emit specs share: one flow serves every test (a few emit nodes per feature, each
// fed with `input(id, msg)`), and clients that record every event they get.
import type { Socket as ClientSocket } from "socket.io-client";
import type { SocketHandle } from "../src/nodes/core/socket-handle";
import {
  ackNode,
  ackWait,
  catchNode,
  completeNode,
  emitNode,
  helperNode,
  joinPayloadNode,
  onEvent,
  onNode,
  onTab,
  serverConfig,
  type FlowNode,
} from "./flow-fixtures";
import { cleanup, connected, freePort, helper, load, next, socketOf, until, type Msg } from "./helpers";

/** Every event a client received, in order. */
export interface Member {
  c: ClientSocket;
  got: Array<{ event: string; args: unknown[] }>;
}

/** The first arguments of every `event` a member received. */
export const payloads = (m: Member, event = "e"): unknown[] =>
  m.got.filter((g) => g.event === event).map((g) => g.args[0]);

function emitFlow(port: number): FlowNode[] {
  const nodes: FlowNode[] = [
    // A client emits "join" with room names; the flow joins it and answers "joined".
    onEvent("on-join", "join", ["joiner"]),
    joinPayloadNode("joiner", ["joined"]),
    emitNode("joined", "socket", "joined"),
    // Everyone in "/" gets "fence" after whatever was emitted before it.
    emitNode("fence", "all", "fence"),
    emitNode("fence-other", "all", "fence", { namespace: "/other" }),

    emitNode("all", "all", "e"),
    emitNode("all-other", "all", "e", { namespace: "/other" }),
    emitNode("rooms-str", "rooms", "e", { rooms: "r1, r2", roomsType: "str", except: "x", exceptType: "str" }),
    emitNode("rooms-json", "rooms", "e", { rooms: '["r3"]', roomsType: "json", except: "", exceptType: "str" }),
    emitNode("rooms-msg", "rooms", "e", { rooms: "", roomsType: "str", except: "", exceptType: "str" }),

    onEvent("on-hello", "hello", ["to-socket"]),
    emitNode("to-socket", "socket", "e"),
    // "reply", the default of a new emit node: the sender in msg.socket, or everyone without one.
    onEvent("on-ping", "ping-me", ["reply"]),
    emitNode("reply", "reply", "e"),
    onEvent("on-shout", "shout", ["bc"]),
    emitNode("bc", "broadcast", "e"),
    onEvent("on-shout-r1", "shout-r1", ["bc-r1"]),
    emitNode("bc-r1", "broadcast", "e", { rooms: "r1", roomsType: "str" }),

    emitNode("ev-blank", "all", ""),
    emitNode("ev-topic", "all", "topic", { eventType: "msg" }),
    emitNode("ns-blank", "all", "e", { namespace: "" }),
    emitNode("volatile", "all", "e", { volatile: true, compress: false }),
    emitNode("compress", "all", "e", { volatile: true, compress: true }),

    onEvent("on-ask", "ask", ["ask-one"]),
    emitNode("ask-one", "socket", "q", ackWait(2000, "answers")),
    emitNode("ask-room", "rooms", "q", { rooms: "r", roomsType: "str", ...ackWait(2000, "answers") }),
    emitNode("ask-slow", "all", "q", ackWait(300, "answers")),
    emitNode("plain", "all", "e", { wires: [["answers"]] }),

    onEvent("on-reply", "reply-me", ["asked"]),
    ackNode("ack"),
    onEvent("on-twice", "twice", ["ack-1", "ack-2"]),
    ackNode("ack-1"),
    ackNode("ack-2"),

    // msg.socket of every client, for the msgs about a client that has left.
    onNode("on-conn", "connection", ["conns"]),
    emitNode("ask-leaver", "socket", "q", ackWait(300, "answers")),

    catchNode("caught"),
    completeNode(["plain", "to-socket", "ask-one", "ask-leaver"], "completed"),
    ...["conns", "answers", "asked", "caught", "completed"].map((id) => helperNode(id)),
  ];
  return [serverConfig(port), ...onTab("emit", nodes)];
}

export interface EmitHarness {
  /** A connected client of `namespace` that records every event, after joining `rooms`. */
  member(rooms?: string[], namespace?: string): Promise<Member>;
  /** Hands `msg` to node `id`. */
  input(id: string, msg: Record<string, unknown>): void;
  /** Emits "fence" through `id` and waits until every member has it: whatever was emitted earlier has arrived. */
  fence(members: Member[], id?: string): Promise<void>;
  /** A member that has connected and left, with the msg.socket of its connection. */
  departed(conns: Msg[]): Promise<SocketHandle>;
}

/** Loads the emit flow before each test of the calling describe block, and cleans up after it. */
export function emitHarness(): EmitHarness {
  let url = "";
  beforeEach(async function () {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await load(emitFlow(port));
  });
  afterEach(cleanup);

  const harness: EmitHarness = {
    async member(rooms = [], namespace = "/") {
      const c = await connected(`${url}${namespace === "/" ? "" : namespace}`);
      const m: Member = { c, got: [] };
      c.onAny((event: string, ...args: unknown[]) => m.got.push({ event, args }));
      if (rooms.length > 0) {
        const joined = next(c, "joined");
        c.emit("join", rooms);
        await joined;
      }
      return m;
    },
    input: (id, msg) => helper.getNode(id).receive(msg),
    async fence(members, id = "fence") {
      const before = members.map((m) => payloads(m, "fence").length);
      harness.input(id, { payload: "fence" });
      await until(
        () => members.every((m, i) => payloads(m, "fence").length > before[i]),
        3000,
        "the fence to reach every client",
      );
    },
    async departed(conns) {
      const m = await harness.member();
      const socket = await socketOf(conns, m.c);
      m.c.disconnect();
      await until(() => socket.connected === false, 3000, "the server to see the client go");
      return socket;
    },
  };
  return harness;
}
