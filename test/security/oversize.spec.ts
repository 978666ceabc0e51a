import { strict as assert } from "node:assert";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import { freePort, until } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { attackFlow, legacyEvNode, logLines } from "./attack-flow";
import { pollingSession, sessionClosed } from "./raw-polling";

// Finding 7: a message over Max buffer size closes the client (1009 on WebSocket, 413 on polling);
// the server now says so, in one rate-limited warning naming the address and the setting.

const MAX_BUFFER = 100_000;
const TOO_BIG = "x".repeat(MAX_BUFFER + 1);
const CLIENTS = 20;

/** "upgrade": polling first, then WebSocket, as socket.io-client does by default. */
type Transport = "websocket" | "polling" | "upgrade";

describe("security: messages over Max buffer size", function () {
  this.timeout(30_000);
  let nr: NodeRedProcess;
  let ioPort: number;
  let server: string;
  let deployed = 0;
  const clients: ClientSocket[] = [];

  /** The server node's warnings about Max buffer size, labelled with the node's name: its label, "port N". */
  const warnings = (): string[] =>
    logLines(
      nr.output(),
      "warn",
      new RegExp(`\\[socket-io-server:port ${ioPort}\\].*Max buffer size \\(${MAX_BUFFER} bytes\\)`),
    );

  /** A connected socket.io client on one transport. */
  async function connected(transport: Transport): Promise<ClientSocket> {
    const transports = transport === "upgrade" ? ["polling", "websocket"] : [transport];
    const c = ioClient(`http://127.0.0.1:${ioPort}`, { transports, reconnection: false, forceNew: true });
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once("connect", resolve);
      c.once("connect_error", reject);
    });
    if (transport === "upgrade") await until(() => c.io.engine.transport.name === "websocket", 3000, "the upgrade");
    return c;
  }

  /** Emits a message over Max buffer size; resolves with the client's disconnect reason. */
  function sendTooBig(c: ClientSocket): Promise<string> {
    return new Promise((resolve) => {
      c.once("disconnect", (reason) => resolve(reason));
      c.emit("ev", TOO_BIG);
    });
  }

  before(async function () {
    nr = await startNodeRed({ port: await freePort() });
  });

  // A server of its own for each test: its warnings start a fresh interval, under its own port.
  beforeEach(async function () {
    ioPort = await freePort();
    server = `srv${++deployed}`;
    await nr.deploy(
      attackFlow("attack", ioPort, { id: server, maxHttpBufferSize: MAX_BUFFER }, [legacyEvNode(server, [])]),
    );
    await until(() => nr.output().includes(`listening on port ${ioPort}`), 5000, "the Socket.IO server to listen");
  });

  afterEach(function () {
    for (const c of clients.splice(0)) c.disconnect();
  });

  after(async function () {
    await nr?.stop();
  });

  it("a client sending too big a message over WebSocket: one warning naming its address and Max buffer size", async function () {
    const c = await connected("websocket");
    assert.equal(await sendTooBig(c), "transport close");
    await until(() => warnings().length > 0, 3000, "the warning");
    const lines = warnings();
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0]!,
      /1 client disconnected: .*larger than Max buffer size \(100000 bytes\); latest from [:f]*127\.0\.0\.1\. Raise Max buffer size/,
    );
  });

  it("a client that upgraded from polling to WebSocket and sends too big a message: one warning", async function () {
    const c = await connected("upgrade");
    assert.equal(c.io.engine.transport.name, "websocket");
    assert.equal(await sendTooBig(c), "transport close");
    await until(() => warnings().length > 0, 3000, "the warning");
    assert.equal(warnings().length, 1, warnings().join("\n"));
  });

  it("a client sending too big a message over polling: one warning, and the server closes its session", async function () {
    const c = await connected("polling");
    // "transport error" from the 413, or "transport close" when the server's close came first.
    assert.match(await sendTooBig(c), /^transport (error|close)$/);
    await until(() => warnings().length > 0, 3000, "the warning");
    assert.equal(warnings().length, 1, warnings().join("\n"));
    assert.match(warnings()[0]!, /127\.0\.0\.1/);

    // Raw: the 413, and the session gone at once (engine.io alone keeps it until the ping timeout).
    const session = await pollingSession(ioPort);
    assert.equal((await session.post(`4${TOO_BIG}`)).status, 413);
    assert.ok(await sessionClosed(session, 1000), "the session was closed");
  });

  it(`${CLIENTS} clients sending too big messages give at most two warnings`, async function () {
    const all = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => connected(i % 2 ? "polling" : "websocket")),
    );
    const reasons = await Promise.all(all.map(sendTooBig));
    assert.equal(reasons.length, CLIENTS);
    await until(() => warnings().length > 0, 3000, "the warning");
    await new Promise((r) => setTimeout(r, 1000));
    const lines = warnings();
    assert.ok(lines.length >= 1 && lines.length <= 2, `${lines.length} warnings:\n${lines.join("\n")}`);
  });
});
