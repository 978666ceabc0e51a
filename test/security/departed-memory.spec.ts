import { strict as assert } from "node:assert";
import { NodeWebSocket } from "engine.io-client";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import { Decoder, Encoder, type Packet } from "socket.io-parser";
import { RETIRED_MS } from "../../src/nodes/core/socket-handle";
import { at, endNode, functionNode, onNode, startNode, type FlowNode } from "../flow-fixtures";
import type { NodeRedProcess } from "../node-red-process";
import { attackFlow, counterEndpoint, countsWhen, logLines, nodeRedWith } from "./attack-flow";

// Finding 3: what is kept about a client that has left, for the msgs still about it, is bounded in
// bytes and in time and never holds its `auth`; nothing else keeps the socket or its handshake.

const CYCLES = 1000;
const PARALLEL = 16;
// Under the server's default Max buffer size (1,000,000 bytes) with the CONNECT packet around it.
const AUTH = { blob: "a".repeat(900 * 1024) };
const MB = 1024 * 1024;

// The disconnect flow writes what it read from msg.socket.handshake into global context, keyed by
// the x-probe header, for the probe clients (the cycles are only counted). Every msg then waits in a
// delay past the time a departed socket's handshake is kept, so that the heap is measured with msgs
// about departed sockets still in flight, and the probes' msgs read it again after the delay.
const READ_HANDSHAKE = `
  const h = msg.socket.handshake;
  const probe = h.headers["x-probe"];
  global.set("disconnects", (global.get("disconnects") || 0) + 1);
  const reason = "reason_" + String(msg.reason).replace(/ /g, "_");
  global.set(reason, (global.get(reason) || 0) + 1);
  if (probe === "cycle") global.set("cycleHeaders", (global.get("cycleHeaders") || 0) + 1);
  if (probe && probe.startsWith("probe-")) {
    global.set(probe, { probe, query: h.query.q, address: h.address, auth: h.auth, connected: msg.socket.connected });
  }
  msg.probe = probe;
  return msg;`;

const READ_LATER = `
  if (!String(msg.probe).startsWith("probe-")) return null;
  const h = msg.socket.handshake;
  global.set("late-" + msg.probe, { probe: h.headers["x-probe"] ?? null, query: h.query.q ?? null, auth: h.auth });
  return null;`;

// Admits every client, noting the longest auth it saw (the attack really carries 900 KB).
const ADMIT = `
  const chars = String(msg.payload && msg.payload.blob || "").length;
  if (chars > (global.get("authChars") || 0)) global.set("authChars", chars);
  msg.payload = true;
  return msg;`;

function flow(ioPort: number): FlowNode[] {
  // Recovery on: Socket.IO keeps a session for each client whose transport dropped.
  return attackFlow("departed", ioPort, { recovery: true, recoveryDuration: 120_000 }, [
    // A middleware flow too: a socket waits in it (the hub's pending map) with its auth in msg.payload.
    at("tab", 100, 50, startNode("start", ["admit"], { timeout: 5 })),
    at("tab", 300, 50, functionNode("admit", ADMIT, ["end"])),
    at("tab", 500, 50, endNode("end")),
    at("tab", 100, 150, onNode("on-leave", "disconnect", ["read"])),
    at("tab", 300, 150, functionNode("read", READ_HANDSHAKE, ["later"])),
    {
      id: "later",
      type: "delay",
      z: "tab",
      x: 500,
      y: 150,
      pauseType: "delay",
      timeout: String((RETIRED_MS + 1500) / 1000),
      timeoutUnits: "seconds",
      wires: [["read-later"]],
    },
    at("tab", 700, 150, functionNode("read-later", READ_LATER, [])),
    ...counterEndpoint(),
  ]);
}

/** What the disconnect flow read about each probe client, by "probe-<i>" and "late-probe-<i>". */
type Probes = Record<string, { address: string } | undefined>;

// What made 1,000 cycles slow was the attack client, not the server: socket.io-client JSON-encodes
// the 900 KB auth and ws masks every byte of it, each cycle. Here the CONNECT packet is encoded once,
// and the WebSocket uses the all-zero masking key (valid in RFC 6455; ws skips the XOR on both ends).
// Both classes are socket.io-client's own dependencies.
class UnmaskedWebSocket extends NodeWebSocket {
  override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>): unknown {
    return super.createSocket(uri, protocols, { ...opts, generateMask: (mask: Buffer) => mask.fill(0) });
  }
}

let encodedConnect: unknown[] | undefined;
class OnceEncoder extends Encoder {
  override encode(packet: Packet): unknown[] {
    if (packet.data !== AUTH) return super.encode(packet);
    return (encodedConnect ??= super.encode(packet));
  }
}
const fastClient = {
  transports: [UnmaskedWebSocket],
  parser: { Encoder: OnceEncoder, Decoder },
} as unknown as Record<string, unknown>;

/** Connects with the 900 KB auth and leaves: by closing the socket, or by dropping the transport (which Socket.IO keeps a session for). */
async function cycle(url: string, dropTransport: boolean): Promise<void> {
  const c: ClientSocket = ioClient(url, {
    ...fastClient,
    reconnection: false,
    forceNew: true,
    auth: AUTH,
    extraHeaders: { "x-probe": "cycle" },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no connect within 5 s")), 5000);
      c.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      c.once("connect_error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } finally {
    if (dropTransport) (c.io as unknown as { engine: { close(): void } }).engine.close();
    c.disconnect();
  }
}

describe("security: memory kept for departed clients", function () {
  this.timeout(90_000);
  let nr: NodeRedProcess;
  let url: string;

  before(async function () {
    let ioPort: number;
    ({ nr, ioPort } = await nodeRedWith(flow, { heapProbe: true }));
    url = `http://127.0.0.1:${ioPort}`;
  });

  after(async function () {
    await nr?.stop();
  });

  it(`${CYCLES} connect/leave cycles with a 900 KB auth each leave under 100 MB of heap after GC`, async function () {
    // A few cycles first, so that the heap figure starts after what the first connections allocate once.
    for (let i = 0; i < PARALLEL; i++) await cycle(url, i % 2 === 0);
    const start = await nr.heapAfterGc();
    let done = 0;
    const began = Date.now();
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (done < CYCLES) {
          const i = done++;
          await cycle(url, i % 2 === 0);
        }
      }),
    );
    const took = Date.now() - began;
    // Every disconnect has reached the flow (and its reads of the handshake ran).
    const total = CYCLES + PARALLEL;
    const seen = await countsWhen(nr.url, (c) => c.disconnects === total, 10_000);
    assert.equal(seen.disconnects, total, "disconnect msgs that reached the flow");
    assert.equal(seen.authChars, AUTH.blob.length, "the longest auth the middleware saw");
    // Half left by dropping the transport: Socket.IO keeps a recovery session for each of those.
    assert.equal(seen.reason_transport_close, total / 2, "departures with a recovery session");
    assert.equal(seen.reason_client_namespace_disconnect, total / 2, "departures that closed the socket");
    assert.equal(seen.cycleHeaders, total, "disconnect msgs that read the departed socket's x-probe header");
    const end = await nr.heapAfterGc();
    const grown = (end - start) / MB;
    console.log(
      `      ${CYCLES} cycles in ${took} ms; heap after GC ${(start / MB).toFixed(1)} MB -> ${(end / MB).toFixed(1)} MB (+${grown.toFixed(1)} MB)`,
    );
    assert.ok(grown < 100, `the heap after GC grew ${grown.toFixed(1)} MB`);
    const errors = logLines(nr.output(), "error");
    assert.equal(errors.length, 0, errors.slice(0, 3).join("\n"));
  });

  it(`a disconnect flow reads the departed socket's headers, query and address, for ${RETIRED_MS / 1000} s; its auth reads as {}`, async function () {
    for (let i = 0; i < 3; i++) {
      const c = ioClient(url, {
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
        auth: { token: `t-${i}` },
        query: { q: `q-${i}` },
        extraHeaders: { "x-probe": `probe-${i}` },
      });
      await new Promise<void>((resolve, reject) => {
        c.once("connect", () => resolve());
        c.once("connect_error", reject);
      });
      c.disconnect();
    }
    const seen = await countsWhen<Probes>(nr.url, (c) => c["probe-2"] !== undefined, 5000);
    for (let i = 0; i < 3; i++) {
      const got = seen[`probe-${i}`];
      assert.ok(got, `the disconnect flow of probe-${i} ran`);
      assert.match(got.address, /127\.0\.0\.1/);
      assert.deepEqual(
        { ...got, address: "" },
        { probe: `probe-${i}`, query: `q-${i}`, address: "", auth: {}, connected: false },
      );
    }
    // Past the time the handshake is kept, the same msgs read empty headers and query.
    const late = await countsWhen<Probes>(nr.url, (c) => c["late-probe-2"] !== undefined, RETIRED_MS + 5000);
    for (let i = 0; i < 3; i++) assert.deepEqual(late[`late-probe-${i}`], { probe: null, query: null, auth: {} });
  });
});
