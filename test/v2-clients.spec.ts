// One feature's cases (v2 clients: allowEIO3, events, acks, rooms, middleware, payload limits), hence over 250 lines.
import { strict as assert } from "node:assert";
import { dirname, join } from "node:path";
import { WebSocket } from "ws";
import { DEFAULT_MAX_PAYLOAD_PACKETS, payloadPackets } from "../src/nodes/core/engine-guard";
import { parseServerSettings, socketIoOptions } from "../src/nodes/core/server-settings";
import { emitNode, onTab, serverConfig } from "./flow-fixtures";
import {
  callsOn,
  cleanup,
  collect,
  connected,
  freePort,
  helper,
  next,
  recordCalls,
  sleep,
  until,
  warningsOf,
} from "./helpers";
import { loadFlow } from "./middleware-kit";
import { entryOf } from "./server-kit";
import { closeV2Clients, REFUSAL, TOKEN, v2Attempt, v2Client, v2Connected, v2Flow } from "./v2-client-kit";

// Socket.IO v2 clients (Engine.IO 3: socket.io-client 2.x, arduinoWebSockets' SocketIOclient) with
// Accept Socket.IO v2 clients ticked, and refused without it; what differs for them; and the engine
// guard on Engine.IO 3 payloads, which are framed differently (length-prefixed).

const CAP = DEFAULT_MAX_PAYLOAD_PACKETS;
const withToken = { query: { token: TOKEN } };
/** Max buffer size of the guards' server: room for a full polling payload. */
const MAX_BUFFER = 200_000;

// engine.io's own Engine.IO 3 parser, the one that decodes what v2 clients POST.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parserV3 = require(join(dirname(require.resolve("engine.io")), "parser-v3")) as {
  decodePayload(
    data: string | Buffer,
    callback: (packet: { type: string; data?: unknown }, index: number, total: number) => void,
  ): void;
};

/** The packets engine.io decodes from a payload, or "refused" when it refuses the whole payload. */
function decodedByEngineIo(data: Buffer): Array<{ type: string; data?: unknown }> | "refused" {
  const packets: Array<{ type: string; data?: unknown }> = [];
  let refused = false;
  parserV3.decodePayload(data, (packet, index, total) => {
    if (packet.type === "error" && packets.length === 0 && index === 0 && total === 1) refused = true;
    packets.push(packet);
  });
  return refused ? "refused" : packets;
}

/** An Engine.IO 3 text packet as a binary payload frames it: 0, the length's digits as bytes, 255, the text. */
function binaryFrame(text: string, lengthBytes = [...String(text.length)].map(Number)): Buffer {
  return Buffer.concat([Buffer.from([0, ...lengthBytes, 255]), Buffer.from(text)]);
}

const tick = (i: number | string): string => `42["tick",${JSON.stringify(i)}]`;
/** Engine.IO 3 text framing: "<length>:<packet>" each. */
const textPayload = (packets: string[]): string => packets.map((p) => `${p.length}:${p}`).join("");

/** A raw Engine.IO 3 polling session, as a device or an attacker sends it, that has joined "/". */
interface V3Session {
  post(body: string | Buffer): Promise<number>;
  /** Whether the server has closed the session: a poll gets the close packet, or "Session ID unknown". */
  closed(ms?: number): Promise<boolean>;
}

/** Decodes an Engine.IO 3 text payload into its packets. */
function textPackets(body: string): string[] {
  const packets: string[] = [];
  for (let at = 0; at < body.length;) {
    const colon = body.indexOf(":", at);
    if (colon === -1) break;
    const length = Number(body.slice(at, colon));
    packets.push(body.slice(colon + 1, colon + 1 + length));
    at = colon + 1 + length;
  }
  return packets;
}

async function v3Session(port: number): Promise<V3Session> {
  const base = `http://127.0.0.1:${port}/socket.io/?EIO=3&transport=polling&token=${TOKEN}`;
  const open = await fetch(base, { signal: AbortSignal.timeout(3000) });
  const [first] = textPackets(await open.text());
  assert.ok(first?.startsWith("0{"), `the open packet: ${first}`);
  const url = `${base}&sid=${encodeURIComponent((JSON.parse(first.slice(1)) as { sid: string }).sid)}`;
  const poll = async (ms: number): Promise<{ status: number; packets: string[] }> => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(ms) });
      return { status: res.status, packets: textPackets(await res.text()) };
    } catch {
      return { status: 0, packets: [] };
    }
  };
  // Engine.IO 3 connections join "/" by themselves, once the middleware admits them.
  const end = Date.now() + 3000;
  for (let joined = false; !joined;) {
    if (Date.now() > end) throw new Error("the session did not join /");
    joined = (await poll(1000)).packets.includes("40");
  }
  return {
    post: async (body) => {
      const binary = typeof body !== "string";
      const res = await fetch(url, {
        method: "POST",
        body: binary ? new Uint8Array(body) : body,
        headers: { "content-type": binary ? "application/octet-stream" : "text/plain;charset=UTF-8" },
        signal: AbortSignal.timeout(5000),
      });
      return res.status;
    },
    closed: async (ms = 3000) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const answer = await poll(Math.max(1, until - Date.now()));
        if (answer.status === 400 || answer.packets.includes("1")) return true;
        if (answer.status !== 200) return false;
      }
      return false;
    },
  };
}

describe("Socket.IO v2 clients (Engine.IO 3)", function () {
  afterEach(async function () {
    closeV2Clients();
    await cleanup();
  });

  describe("the setting Accept Socket.IO v2 clients", function () {
    it("is off for a server saved before it existed, on when ticked, and is Socket.IO's allowEIO3", function () {
      assert.equal(parseServerSettings({ listen: "port", port: 1 }).allowEIO3, false);
      assert.equal(socketIoOptions(parseServerSettings({ listen: "port", port: 1 })).allowEIO3, false);
      for (const ticked of [true, "true"]) {
        const s = parseServerSettings({ listen: "port", port: 1, allowEIO3: ticked });
        assert.equal(s.allowEIO3, true);
        assert.equal(socketIoOptions(s).allowEIO3, true);
      }
      assert.equal(parseServerSettings({ listen: "nodered", allowEIO3: false }).allowEIO3, false);
    });

    it("two config nodes on one port that differ in it conflict, and the error names it", async function () {
      const port = await freePort();
      await loadFlow([serverConfig(port, { name: "devices" }), serverConfig(port, { id: "srv2", allowEIO3: true })]);
      await until(() => callsOn("srv2", "error").length > 0, 2000, "an error on the second config node");
      const failure = (helper.getNode("srv2") as unknown as { failure?: { text: string } }).failure;
      assert.equal(
        failure?.text,
        `core.server.conflictPort {"other":"devices","settings":["label.allowEIO3"],"port":${port}}`,
      );
    });
  });

  describe("on a server with it ticked", function () {
    let port: number;
    let url: string;

    beforeEach(async function () {
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
      await loadFlow(v2Flow(port));
    });

    for (const transport of ["polling", "websocket"] as const) {
      it(`a v2 client on ${transport === "polling" ? "long-polling" : "WebSocket"} only connects with its query token, its event reaches the flow, and the flow's answer comes back`, async function () {
        const [conns, hellos] = [collect("conns"), collect("hellos")];
        const c = await v2Connected(url, { ...withToken, transports: [transport] });
        assert.equal(c.io.engine.transport.name, transport);
        const greeting = next(c, "greeting");
        c.emit("hello", "from a v2 client");
        assert.equal(await greeting, "from a v2 client");
        assert.equal(hellos.length, 1);
        assert.equal(hellos[0].payload, "from a v2 client");
        // In "/" a v2 client's socket id is its Engine.IO session id, as the client's own socket.id says.
        assert.equal(hellos[0].socketId, c.id);
        assert.equal(c.id, c.io.engine.id);
        await until(() => conns.length === 1, 2000, "the connection msg");
        assert.equal(conns[0].socket.handshake.query.token, TOKEN);
        assert.equal(conns[0].socket.handshake.query.EIO, "3");
        assert.deepEqual(conns[0].socket.handshake.auth, {}, "a v2 client sends no auth");
        assert.equal(c.io.engine.transport.name, transport);
      });
    }

    it("acknowledgements work both ways: the flow answers a v2 client's, and a v2 client answers the flow's", async function () {
      const answers = collect("answers");
      const c = await v2Connected(url, withToken);
      const acked = new Promise((resolve) => c.emit("ask", { n: 1 }, resolve));
      assert.deepEqual(await acked, { n: 1 });
      c.on("question", (q: string, answer: (a: string) => void) => answer(`answer to ${q}`));
      c.emit("quiz", "q1");
      await until(() => answers.length === 1, 3000, "the client's answer");
      assert.equal(answers[0].payload, "answer to q1");
      assert.equal(answers[0].socketId, c.id);
    });

    it("a v2 client joins a room and gets what the flow emits to it; another one outside does not", async function () {
      const [inside, outside] = [await v2Connected(url, withToken), await v2Connected(url, withToken)];
      const joined = next(inside, "joined");
      inside.emit("join", "garden");
      await joined;
      const got: unknown[] = [];
      outside.on("news", (n: unknown) => got.push(n));
      const news = next(inside, "news");
      helper.getNode("news").receive({ payload: "roses" });
      assert.equal(await news, "roses");
      await sleep(100);
      assert.deepEqual(got, []);
    });

    it("the middleware refuses a v2 client without the query token at once: an error event with the refusal, not connect_error", async function () {
      const [gated, conns] = [collect("gated"), collect("conns")];
      const started = Date.now();
      const outcome = await v2Attempt(v2Client(url, { query: { token: "wrong" } }));
      assert.deepEqual(outcome, { admitted: false, event: "error", detail: REFUSAL });
      assert.ok(Date.now() - started < 1000, `refused after ${Date.now() - started} ms`);
      assert.equal(gated.length, 1);
      assert.deepEqual(gated[0].payload, {}, "msg.payload, the handshake's auth, is empty");
      assert.equal(gated[0].recovered, false);
      assert.equal(conns.length, 0);
      // With msg.errData, the client gets the data instead of the message.
      const withData = await v2Attempt(v2Client(url, { query: { token: "data" } }));
      assert.deepEqual(withData, { admitted: false, event: "error", detail: { retry: false } });
    });

    it("a v2 client that asks for /chat is in / as well: the gate and the on nodes of / see it, and its auth in /chat is its query", async function () {
      const [conns, chatConns] = [collect("conns"), collect("chatConns")];
      const c = await v2Connected(`${url}/chat`, withToken);
      await until(() => chatConns.length === 1 && conns.length === 1, 2000, "both connection msgs");
      assert.equal(chatConns[0].socketId, c.id);
      assert.equal(c.id, `/chat#${c.io.engine.id}`);
      assert.deepEqual(chatConns[0].socket.handshake.auth, withToken.query);
      assert.equal(conns[0].socketId, c.io.engine.id, "the same connection in /");

      // Refused in "/", it is still admitted to "/chat" (no middleware there), and hears of the refusal.
      const refused = v2Client(`${url}/chat`, { query: { token: "wrong" } });
      const events: unknown[] = [];
      refused.on("error", (e: unknown) => events.push(e));
      refused.on("connect", () => events.push("connect"));
      await until(() => events.length === 2, 3000, "the refusal in / and the connection to /chat");
      assert.deepEqual([...events].sort(), [REFUSAL, "connect"].sort());
      assert.ok(refused.connected);
      assert.equal(chatConns.length, 2);
    });

    it("a device speaking raw Engine.IO 3 over WebSocket, as arduinoWebSockets does, is answered and its pings too", async function () {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=3&transport=websocket&token=${TOKEN}`);
      const frames: string[] = [];
      ws.on("message", (data) => frames.push(String(data)));
      try {
        await until(() => frames.includes("40"), 3000, "the CONNECT of /");
        assert.match(frames[0]!, /^0\{"sid":/);
        ws.send('42["hello","esp32"]');
        await until(() => frames.includes('42["greeting","esp32"]'), 3000, "the greeting");
        // In Engine.IO 3 the client pings and the server answers.
        ws.send("2");
        await until(() => frames.includes("3"), 3000, "the pong");
      } finally {
        ws.terminate();
      }
    });

    it("a v2 client on long-polling gets a burst of 500 emits through to the flow", async function () {
      const ticks = collect("ticks");
      const c = await v2Connected(url, { ...withToken, transports: ["polling"] });
      for (let i = 0; i < 500; i++) c.emit("tick", i);
      await until(() => ticks.length === 500, 5000, "500 ticks");
      assert.ok(c.connected);
    });
  });

  describe("the guards, for Engine.IO 3 connections", function () {
    let port: number;
    let url: string;

    beforeEach(async function () {
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
      await loadFlow(v2Flow(port, { maxHttpBufferSize: MAX_BUFFER }));
    });

    for (const transport of ["polling", "websocket"] as const) {
      it(`a v2 client's message over Max buffer size on ${transport} closes its connection, and the log says so`, async function () {
        const warnings = recordCalls("srv", "warn");
        const hellos = collect("hellos");
        const c = await v2Connected(url, { ...withToken, transports: [transport] });
        const gone = next<string>(c, "disconnect");
        c.emit("hello", "x".repeat(MAX_BUFFER + 1));
        assert.match(await gone, /^transport (close|error)$/);
        await until(() => warnings.some((w) => w.startsWith("core.engine.tooBig")), 2000, "the warning");
        assert.match(
          warnings.find((w) => w.startsWith("core.engine.tooBig"))!,
          /127\.0\.0\.1/,
        );
        assert.equal(hellos.length, 0);
      });
    }

    it("a v2 client's binary event reaches the flow; a packet nested deeper than 1000 levels closes its connection", async function () {
      const warnings = recordCalls("srv", "warn");
      const ticks = collect("ticks");
      const c = await v2Connected(url, withToken);
      c.emit("tick", Buffer.from([1, 2, 3]));
      await until(() => ticks.length === 1, 2000, "the binary tick");
      assert.deepEqual(ticks[0].payload, Buffer.from([1, 2, 3]));
      const gone = next<string>(c, "disconnect");
      c.emit("tick", JSON.parse("[".repeat(1500) + "]".repeat(1500)));
      assert.match(await gone, /^(transport close|io server disconnect)$/);
      await until(() => warnings.some((w) => w.startsWith("core.packet.refused")), 2000, "the warning");
      assert.equal(ticks.length, 1);
    });

    it(`a raw polling request may carry ${CAP} packets in Engine.IO 3 text framing; one with ${CAP + 1} is refused unread`, async function () {
      const ticks = collect("ticks");
      const full = await v3Session(port);
      assert.equal(await full.post(textPayload(Array.from({ length: CAP }, (_, i) => tick(i)))), 200);
      await until(() => ticks.length === CAP, 5000, `${CAP} ticks`);
      const over = await v3Session(port);
      await over.post(textPayload(Array.from({ length: CAP + 1 }, (_, i) => tick(i))));
      assert.ok(await over.closed(), "the session that sent one packet too many was closed");
      await sleep(200);
      assert.equal(ticks.length, CAP, "no packet of the refused payload reached the flow");
      assert.ok(warningsOf("srv").some((w) => w.startsWith("core.engine.tooManyPackets")));
    });

    it(`the same in binary framing (a browser's v2 client): ${CAP} packets pass, ${CAP + 1} are refused`, async function () {
      const ticks = collect("ticks");
      const full = await v3Session(port);
      const frames = (n: number): Buffer => Buffer.concat(Array.from({ length: n }, (_, i) => binaryFrame(tick(i))));
      assert.equal(await full.post(frames(CAP)), 200);
      await until(() => ticks.length === CAP, 5000, `${CAP} ticks`);
      const over = await v3Session(port);
      await over.post(frames(CAP + 1));
      assert.ok(await over.closed());
      await sleep(200);
      assert.equal(ticks.length, CAP);
    });

    it("a binary payload whose length bytes read as more digits than bytes cannot hide thousands of packets", async function () {
      const ticks = collect("ticks");
      // engine.io reads the first packet's one length byte, 100, as the text "100" and steps over its
      // three characters, not over the one byte: the packet starts two bytes later than its framing
      // says (two filler bytes here). A reader counting bytes falls out of step, takes the packet's
      // last byte "]" (93) for digits, and sees one packet of some 93,000 bytes where engine.io
      // decodes 5,001 events.
      const first = tick("x".repeat(100 - tick("").length));
      const body = Buffer.concat([
        Buffer.from([0, 100, 255, 9, 9]),
        Buffer.from(first),
        ...Array.from({ length: 5000 }, (_, i) => binaryFrame(tick(i))),
      ]);
      const decoded = decodedByEngineIo(body);
      assert.ok(decoded !== "refused");
      assert.equal(decoded.filter((p) => p.type === "message" && String(p.data).startsWith('2["tick",')).length, 5001);
      const session = await v3Session(port);
      await session.post(body);
      assert.ok(await session.closed(), "the session was closed");
      await sleep(200);
      assert.equal(ticks.length, 0);
    });
  });

  describe("the guard's count of Engine.IO 3 payloads", function () {
    it("the guard never counts fewer packets in an Engine.IO 3 text payload than engine.io decodes (20,000 random payloads)", function () {
      let seed = 0x1b873593;
      const random = (): number => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      const ALPHABET = "0123456789::::4x -.e";
      const under: string[] = [];
      for (let k = 0; k < 20_000; k++) {
        const text = Array.from({ length: Math.floor(random() * 40) }, () => ALPHABET[Math.floor(random() * 20)]).join(
          "",
        );
        let decoded = 0;
        parserV3.decodePayload(text, (packet) => {
          if (packet.type !== "error") decoded++;
        });
        if (payloadPackets(text, 3, Infinity) < decoded) under.push(text);
      }
      assert.deepEqual(under.slice(0, 5), []);
    });

    it("the guard counts the packets of Engine.IO 3 binary payloads as engine.io decodes them (20,000 random payloads)", function () {
      // A fixed pseudo-random sequence (xorshift), biased towards the bytes that matter: digits, 0 and 255.
      let seed = 0x2545f491;
      const random = (): number => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      const byte = (): number => {
        const r = random();
        if (r < 0.3) return Math.floor(random() * 10);
        if (r < 0.5) return 255;
        return r < 0.6 ? 0 : Math.floor(random() * 256);
      };
      const differing: string[] = [];
      for (let k = 0; k < 20_000; k++) {
        const data = Buffer.from(Array.from({ length: Math.floor(random() * 60) }, byte));
        const decoded = decodedByEngineIo(data);
        if (decoded !== "refused" && payloadPackets(data, 3, Infinity) !== decoded.length)
          differing.push(data.toString("hex"));
      }
      assert.deepEqual(differing.slice(0, 5), []);
    });
  });

  describe("with other settings", function () {
    it("with the event rate limit, a v2 client's events over it are dropped", async function () {
      const port = await freePort();
      await loadFlow(v2Flow(port, { eventRate: 5, eventBurst: 5 }));
      const ticks = collect("ticks");
      const c = await v2Connected(`http://127.0.0.1:${port}`, withToken);
      for (let i = 0; i < 30; i++) c.emit("tick", i);
      await sleep(500);
      assert.ok(ticks.length >= 1 && ticks.length <= 6, `${ticks.length} of 30 events reached the flow`);
    });

    it("with connection state recovery on, a v2 client that reconnects is a new socket", async function () {
      const port = await freePort();
      await loadFlow(v2Flow(port, { recovery: true }));
      const gated = collect("gated");
      const c = await v2Connected(`http://127.0.0.1:${port}`, {
        ...withToken,
        reconnection: true,
        reconnectionDelay: 50,
      });
      const first = c.id;
      const back = next(c, "reconnect", 3000);
      // The server drops the connection, as a network outage would.
      entryOf("srv").io.of("/").sockets.get(first)!.conn.close();
      await back;
      await until(() => gated.length === 2, 2000, "the second middleware run");
      assert.notEqual(c.id, first);
      assert.deepEqual(
        gated.map((m) => m.recovered),
        [false, false],
      );
    });
  });

  describe("on a server without it", function () {
    for (const [what, server] of [
      ["saved before the setting existed", {}],
      ["with it off", { allowEIO3: false }],
    ] as const) {
      it(`${what}: a v2 client gets connect_error at once, on long-polling and on WebSocket; a v4 client connects`, async function () {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        await loadFlow([serverConfig(port, server), ...onTab("v2", [emitNode("unused", "all", "e")])]);
        for (const transport of ["polling", "websocket"] as const) {
          const started = Date.now();
          const outcome = await v2Attempt(v2Client(url, { ...withToken, transports: [transport] }));
          assert.equal(outcome.admitted, false, transport);
          assert.equal(outcome.admitted || outcome.event, "connect_error", transport);
          assert.ok(Date.now() - started < 1000, `${transport}: refused after ${Date.now() - started} ms`);
        }
        await connected(url);
      });
    }
  });
});
