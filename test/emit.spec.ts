import { strict as assert } from "node:assert";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  allNodes,
  callsOn,
  cleanup,
  collect,
  connected,
  freePort,
  helper,
  next,
  serverConfig,
  sleep,
  until,
  type FlowNode,
} from "./helpers";

/** Every event a client received, in order. */
interface Member {
  c: ClientSocket;
  got: Array<{ event: string; args: unknown[] }>;
}

/** The first arguments of every `event` a member received. */
const payloads = (m: Member, event = "e"): unknown[] => m.got.filter((g) => g.event === event).map((g) => g.args[0]);

// One flow serves every test: a few emit nodes per feature, each fed with helper.getNode(id).receive(msg).
function emitFlow(port: number): FlowNode[] {
  const nodes: FlowNode[] = [
    // A client emits "join" with room names; the flow joins it and answers "joined".
    {
      id: "on-join",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "join",
      wires: [["joiner"]],
    },
    { id: "joiner", type: "socket-io-room", action: "join", rooms: "payload", roomsType: "msg", wires: [["joined"]] },
    {
      id: "joined",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "joined",
      eventType: "str",
      target: "socket",
    },
    // Everyone in "/" gets "fence" after whatever was emitted before it.
    {
      id: "fence",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "fence",
      eventType: "str",
      target: "all",
    },
    {
      id: "fence-other",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/other",
      event: "fence",
      eventType: "str",
      target: "all",
    },

    { id: "all", type: "socket-io-emit", server: "srv", namespace: "/", event: "e", eventType: "str", target: "all" },
    {
      id: "all-other",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/other",
      event: "e",
      eventType: "str",
      target: "all",
    },
    {
      id: "rooms-str",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "rooms",
      rooms: "r1, r2",
      roomsType: "str",
      except: "x",
      exceptType: "str",
    },
    {
      id: "rooms-json",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "rooms",
      rooms: '["r3"]',
      roomsType: "json",
      except: "",
      exceptType: "str",
    },
    {
      id: "rooms-msg",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "rooms",
      rooms: "",
      roomsType: "str",
      except: "",
      exceptType: "str",
    },

    {
      id: "on-hello",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "hello",
      wires: [["to-socket"]],
    },
    {
      id: "to-socket",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "socket",
    },
    // "reply", the default of a new emit node: the sender in msg.socket, or everyone without one.
    {
      id: "on-ping",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "ping-me",
      wires: [["reply"]],
    },
    {
      id: "reply",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "reply",
    },
    {
      id: "on-shout",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "shout",
      wires: [["bc"]],
    },
    {
      id: "bc",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "broadcast",
    },
    {
      id: "on-shout-r1",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "shout-r1",
      wires: [["bc-r1"]],
    },
    {
      id: "bc-r1",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "broadcast",
      rooms: "r1",
      roomsType: "str",
    },

    {
      id: "ev-blank",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "",
      eventType: "str",
      target: "all",
    },
    {
      id: "ev-topic",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "topic",
      eventType: "msg",
      target: "all",
    },
    {
      id: "ns-blank",
      type: "socket-io-emit",
      server: "srv",
      namespace: "",
      event: "e",
      eventType: "str",
      target: "all",
    },
    {
      id: "volatile",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "all",
      volatile: true,
      compress: false,
    },
    {
      id: "compress",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "all",
      volatile: true,
      compress: true,
    },

    {
      id: "on-ask",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "ask",
      wires: [["ask-one"]],
    },
    {
      id: "ask-one",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "q",
      eventType: "str",
      target: "socket",
      waitAck: true,
      ackTimeout: 2000,
      wires: [["answers"]],
    },
    {
      id: "ask-room",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "q",
      eventType: "str",
      target: "rooms",
      rooms: "r",
      roomsType: "str",
      waitAck: true,
      ackTimeout: 2000,
      wires: [["answers"]],
    },
    {
      id: "ask-slow",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "q",
      eventType: "str",
      target: "all",
      waitAck: true,
      ackTimeout: 300,
      wires: [["answers"]],
    },
    {
      id: "plain",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "e",
      eventType: "str",
      target: "all",
      wires: [["answers"]],
    },

    {
      id: "on-reply",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "reply-me",
      wires: [["asked"]],
    },
    { id: "ack", type: "socket-io-emit", server: "srv", target: "ack" },
    {
      id: "on-twice",
      type: "socket-io-on",
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "twice",
      wires: [["ack-1", "ack-2"]],
    },
    { id: "ack-1", type: "socket-io-emit", server: "srv", target: "ack" },
    { id: "ack-2", type: "socket-io-emit", server: "srv", target: "ack" },

    // msg.socket of every client, for the msgs about a client that has left.
    { id: "on-conn", type: "socket-io-on", server: "srv", namespace: "/", listenFor: "connection", wires: [["conns"]] },
    {
      id: "ask-leaver",
      type: "socket-io-emit",
      server: "srv",
      namespace: "/",
      event: "q",
      eventType: "str",
      target: "socket",
      waitAck: true,
      ackTimeout: 300,
      wires: [["answers"]],
    },

    { id: "catch", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
    {
      id: "complete",
      type: "complete",
      scope: ["plain", "to-socket", "ask-one", "ask-leaver"],
      uncaught: false,
      wires: [["completed"]],
    },
    { id: "conns", type: "helper" },
    { id: "answers", type: "helper" },
    { id: "asked", type: "helper" },
    { id: "caught", type: "helper" },
    { id: "completed", type: "helper" },
  ];
  return [
    { id: "f1", type: "tab", label: "emit" },
    serverConfig(port),
    ...nodes.map((n) => ({ z: "f1", x: 0, y: 0, wires: [], ...n })),
  ];
}

describe("socket-io-emit", function () {
  let url = "";

  beforeEach(async function () {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await helper.load(allNodes, emitFlow(port));
  });
  afterEach(cleanup);

  /** A connected client of `namespace` that records every event, after joining `rooms`. */
  async function member(rooms: string[] = [], namespace = "/"): Promise<Member> {
    const c = await connected(`${url}${namespace === "/" ? "" : namespace}`);
    const m: Member = { c, got: [] };
    c.onAny((event: string, ...args: unknown[]) => m.got.push({ event, args }));
    if (rooms.length > 0) {
      const joined = next(c, "joined");
      c.emit("join", rooms);
      await joined;
    }
    return m;
  }

  const input = (id: string, msg: Record<string, unknown>): void => helper.getNode(id).receive(msg);

  /** Emits "fence" through `id` and waits until every member has it: whatever was emitted earlier has arrived. */
  async function fence(members: Member[], id = "fence"): Promise<void> {
    const before = members.map((m) => payloads(m, "fence").length);
    input(id, { payload: "fence" });
    await until(
      () => members.every((m, i) => payloads(m, "fence").length > before[i]),
      3000,
      "the fence to reach every client",
    );
  }

  describe("targets", function () {
    it('"all" reaches every client of its namespace and none of another namespace', async function () {
      const [a, b] = [await member(), await member()];
      const other = await member([], "/other");
      input("all", { payload: "to-root" });
      await fence([a, b]);
      input("all-other", { payload: "to-other" });
      await fence([other], "fence-other");
      assert.deepEqual(payloads(a), ["to-root"]);
      assert.deepEqual(payloads(b), ["to-root"]);
      assert.deepEqual(payloads(other), ["to-other"]);
    });

    it('"rooms" takes the Rooms setting as a comma-separated list or a JSON array, leaving out the except rooms', async function () {
      const r1 = await member(["r1"]);
      const r2 = await member(["r2"]);
      const r3 = await member(["r3"]);
      const r1x = await member(["r1", "x"]);
      input("rooms-str", { payload: "r1+r2-x" });
      input("rooms-json", { payload: "r3" });
      await fence([r1, r2, r3, r1x]);
      assert.deepEqual(payloads(r1), ["r1+r2-x"]);
      assert.deepEqual(payloads(r2), ["r1+r2-x"]);
      assert.deepEqual(payloads(r3), ["r3"]);
      assert.deepEqual(payloads(r1x), []);
    });

    it('"rooms" with a blank setting takes msg.room and msg.except, as a string or an array', async function () {
      const r1 = await member(["r1"]);
      const r2 = await member(["r2"]);
      const r3 = await member(["r3"]);
      const r1x = await member(["r1", "x"]);
      input("rooms-msg", { payload: "room-string", room: "r2" });
      input("rooms-msg", { payload: "room-array", room: ["r1", "r3"], except: ["x"] });
      input("rooms-msg", { payload: "except-string", room: "r1,r2", except: "x" });
      await fence([r1, r2, r3, r1x]);
      assert.deepEqual(payloads(r1), ["room-array", "except-string"]);
      assert.deepEqual(payloads(r2), ["room-string", "except-string"]);
      assert.deepEqual(payloads(r3), ["room-array"]);
      assert.deepEqual(payloads(r1x), []);
    });

    it('"socket" reaches only the client in msg.socket', async function () {
      const [a, b] = [await member(), await member()];
      a.c.emit("hello", "just-a");
      await until(() => payloads(a).length === 1, 3000, "the answer to a");
      await fence([a, b]);
      assert.deepEqual(payloads(a), ["just-a"]);
      assert.deepEqual(payloads(b), []);
    });

    it('"reply" answers only the sender in msg.socket, and reaches everyone when the msg has no socket', async function () {
      const [a, b] = [await member(), await member()];
      a.c.emit("ping-me", "pong-a");
      await until(() => payloads(a).length === 1, 3000, "the answer to a");
      input("reply", { payload: "no-socket" });
      await fence([a, b]);
      assert.deepEqual(payloads(a), ["pong-a", "no-socket"]);
      assert.deepEqual(payloads(b), ["no-socket"]);
    });

    it('"broadcast" reaches everyone but msg.socket, and with rooms only those rooms', async function () {
      const shouter = await member(["r1"]);
      const inRoom = await member(["r1"]);
      const outside = await member();
      shouter.c.emit("shout", "to-all-others");
      shouter.c.emit("shout-r1", "to-r1-others");
      await until(() => payloads(inRoom).length === 2, 3000, "both broadcasts");
      await fence([shouter, inRoom, outside]);
      assert.deepEqual(payloads(shouter), []);
      assert.deepEqual(payloads(inRoom), ["to-all-others", "to-r1-others"]);
      assert.deepEqual(payloads(outside), ["to-all-others"]);
    });
  });

  describe("event and namespace", function () {
    it("takes msg.event when Event is blank, and the Event setting when it is set", async function () {
      const a = await member();
      input("ev-blank", { event: "from-msg", payload: 1 });
      input("all", { event: "ignored", payload: 2 });
      await fence([a]);
      assert.deepEqual(
        a.got.filter((g) => g.event !== "fence"),
        [
          { event: "from-msg", args: [1] },
          { event: "e", args: [2] },
        ],
      );
    });

    it('reads the event name from a msg property with event type "msg"', async function () {
      const a = await member();
      input("ev-topic", { topic: "news", payload: 3 });
      await fence([a]);
      assert.deepEqual(payloads(a, "news"), [3]);
    });

    it("takes msg.namespace when Namespace is blank, and / when neither is set", async function () {
      const root = await member();
      const other = await member([], "/other");
      input("ns-blank", { namespace: "/other", payload: "other" });
      input("ns-blank", { payload: "root" });
      await fence([root]);
      await fence([other], "fence-other");
      assert.deepEqual(payloads(root), ["root"]);
      assert.deepEqual(payloads(other), ["other"]);
    });
  });

  describe("arguments", function () {
    it("sends msg.payload as the one argument, and the items of msg.args as several", async function () {
      const a = await member();
      input("all", { payload: { deep: [1, { two: 2 }] } });
      input("all", { payload: "ignored", args: [1, "two", { three: 3 }] });
      await fence([a]);
      assert.deepEqual(
        a.got.filter((g) => g.event === "e").map((g) => g.args),
        [[{ deep: [1, { two: 2 }] }], [1, "two", { three: 3 }]],
      );
    });

    it("sends a Buffer as binary data", async function () {
      const a = await member();
      input("all", { payload: Buffer.from([1, 2, 250]) });
      await fence([a]);
      const [got] = payloads(a);
      assert.ok(Buffer.isBuffer(got) || got instanceof ArrayBuffer, `expected binary, got ${typeof got}`);
      assert.deepEqual([...Buffer.from(got as ArrayBuffer)], [1, 2, 250]);
    });

    it("still delivers to a connected client with volatile and compress set", async function () {
      const a = await member();
      input("volatile", { payload: "volatile, uncompressed" });
      await until(() => payloads(a).length === 1, 3000, "the volatile emit");
      input("compress", { payload: "volatile, compressed" });
      await until(() => payloads(a).length === 2, 3000, "the compressed emit");
      assert.deepEqual(payloads(a), ["volatile, uncompressed", "volatile, compressed"]);
    });
  });

  describe("acknowledgements", function () {
    it("sends on the answer of the one socket it waited for", async function () {
      const answers = collect("answers");
      const a = await member();
      a.c.on("q", (n: number, answer: (x: unknown) => void) => answer(n * 2));
      a.c.emit("ask", 21);
      await until(() => answers.length === 1, 3000, "the answer");
      assert.equal(answers[0].payload, 42);
      assert.equal(answers[0].socketId, a.c.id);
    });

    it("sends on the answers of every client of a room as an array", async function () {
      const answers = collect("answers");
      const members = [await member(["r"]), await member(["r"]), await member(["r"]), await member()];
      members.forEach((m, i) => m.c.on("q", (_q: unknown, answer: (x: unknown) => void) => answer(`client-${i}`)));
      input("ask-room", { payload: "who is there?" });
      await until(() => answers.length === 1, 3000, "the answers");
      assert.deepEqual([...(answers[0].payload as string[])].sort(), ["client-0", "client-1", "client-2"]);
    });

    it("on timeout reports an error carrying the msg to a Catch node and sends nothing", async function () {
      const answers = collect("answers");
      const caught = collect("caught");
      await member(); // connected, but never answers "q"
      const msg: Record<string, unknown> = { payload: "anyone?", topic: "t" };
      input("ask-slow", msg);
      await until(() => caught.length === 1, 3000, "the Catch node");
      assert.equal(caught[0]._msgid, msg._msgid);
      assert.equal(caught[0].payload, "anyone?");
      assert.equal(caught[0].topic, "t");
      assert.equal(caught[0].error.source.id, "ask-slow");
      assert.match(caught[0].error.message, /^core\.emit\.clients?AckTimeout \{"event":"q","ms":300\}$/);
      // The status says it briefly; the Catch node has the whole sentence.
      const status = callsOn("ask-slow", "status").at(-1)?.[0] as { fill?: string; text?: string } | undefined;
      assert.equal(status?.fill, "red");
      assert.match(String(status?.text), /socket-io-server\.status\.timedOut$/);
      await sleep(250);
      assert.equal(answers.length, 0);
    });

    it("without waiting has no output and completes the msg", async function () {
      const answers = collect("answers");
      const completed = collect("completed");
      const a = await member();
      const msg: Record<string, unknown> = { payload: "fire and forget" };
      input("plain", msg);
      await until(() => completed.length === 1, 3000, "the Complete node");
      assert.equal(completed[0]._msgid, msg._msgid);
      await until(() => payloads(a).length === 1, 3000, "the emit");
      await sleep(250);
      assert.equal(answers.length, 0);
    });

    it('target "ack" answers the client with msg.payload, or with the items of msg.args', async function () {
      const asked = collect("asked");
      const a = await member();
      const answers: unknown[][] = [];
      a.c.emit("reply-me", "q1", (...args: unknown[]) => answers.push(args));
      a.c.emit("reply-me", "q2", (...args: unknown[]) => answers.push(args));
      await until(() => asked.length === 2, 3000, "both questions");
      input("ack", { ack: asked[0].ack, payload: { answer: 1 } });
      input("ack", { ack: asked[1].ack, args: ["two", 2] });
      await until(() => answers.length === 2, 3000, "both answers");
      assert.deepEqual(answers, [[{ answer: 1 }], ["two", 2]]);
    });

    it("a second answer to the same msg.ack (a cloned msg) is reported as an error, and the client gets one answer", async function () {
      const caught = collect("caught");
      const a = await member();
      const answers: unknown[] = [];
      a.c.emit("twice", "echo", (answer: unknown) => answers.push(answer));
      await until(() => caught.length === 1, 3000, "the error of the second answer");
      assert.equal(caught[0].error.message, "core.emit.ackAnswered");
      assert.ok(["ack-1", "ack-2"].includes(caught[0].error.source.id));
      await until(() => answers.length === 1, 3000, "the answer");
      await sleep(250);
      assert.deepEqual(answers, ["echo"]);
      assert.equal(caught.length, 1);
    });
  });

  describe("a client that has left (a page reload)", function () {
    /** A member that has connected and left, with the msg.socket of its connection. */
    async function departed(conns: Array<Record<string, any>>): Promise<Record<string, any>> {
      const m = await member();
      await until(() => conns.some((msg) => msg.socketId === m.c.id), 3000, "the connection msg");
      const socket = conns.find((msg) => msg.socketId === m.c.id)!.socket;
      m.c.disconnect();
      await until(() => socket.connected === false, 3000, "the server to see the client go");
      return socket;
    }

    it('an emit to it ("socket", with or without waiting for an answer) is nothing to do: the msg completes, no error, no output', async function () {
      const [conns, caught, answers, completed] = [
        collect("conns"),
        collect("caught"),
        collect("answers"),
        collect("completed"),
      ];
      const socket = await departed(conns);
      const msgs: Array<Record<string, unknown>> = [
        { socket, payload: "late" },
        { socket, payload: "late question" },
      ];
      input("to-socket", msgs[0]);
      input("ask-one", msgs[1]);
      await until(() => completed.length === 2, 3000, "both msgs to complete");
      assert.deepEqual(completed.map((m) => m._msgid).sort(), msgs.map((m) => m._msgid).sort());
      assert.deepEqual(caught, []);
      assert.deepEqual(answers, []);
      for (const id of ["to-socket", "ask-one"]) {
        assert.ok(
          !callsOn(id, "status").some(([status]) => (status as { fill?: string }).fill === "red"),
          `${id} status`,
        );
      }
    });

    it("a client that leaves while the flow waits for its answer ends the msg without an error when the wait is over", async function () {
      const [conns, caught, answers, completed] = [
        collect("conns"),
        collect("caught"),
        collect("answers"),
        collect("completed"),
      ];
      const m = await member();
      await until(() => conns.some((msg) => msg.socketId === m.c.id), 3000, "the connection msg");
      const socket = conns.find((msg) => msg.socketId === m.c.id)!.socket;
      // It gets the question, and leaves without answering.
      m.c.on("q", () => m.c.disconnect());
      const msg: Record<string, unknown> = { socket, payload: "still there?" };
      input("ask-leaver", msg);
      await until(() => completed.length === 1, 3000, "the msg to complete");
      assert.equal(completed[0]._msgid, msg._msgid);
      assert.deepEqual(caught, []);
      assert.deepEqual(answers, []);
    });

    it("a client that stays and does not answer is still reported (the wait timed out)", async function () {
      const [conns, caught, completed] = [collect("conns"), collect("caught"), collect("completed")];
      const m = await member();
      await until(() => conns.some((msg) => msg.socketId === m.c.id), 3000, "the connection msg");
      const socket = conns.find((msg) => msg.socketId === m.c.id)!.socket;
      input("ask-leaver", { socket, payload: "still there?" });
      await until(() => caught.length === 1, 3000, "the Catch node");
      assert.equal(caught[0].error.message, 'core.emit.clientAckTimeout {"event":"q","ms":300}');
      assert.deepEqual(completed, []);
    });
  });
});
