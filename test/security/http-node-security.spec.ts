import { strict as assert } from "node:assert";
import { createServer, IncomingMessage, type Server as HttpServer } from "node:http";
import { connect } from "node:net";
import bcrypt from "bcryptjs";
import { Server as SocketIoServer } from "socket.io";
import WebSocket from "ws";
import { cleanup, client, freePort, sleep, until, whenConnected, type FlowNode } from "../helpers";
import { HttpGuard, type Middleware } from "../../src/nodes/core/http-guard";
import { HttpMount } from "../../src/nodes/core/http-mount";
import type { WordValues } from "../../src/nodes/core/problem";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { logLines } from "./attack-kit";

// Finding 9: with "Use Node-RED's HTTP security" on, the Socket.IO endpoint on Node-RED's own server
// (polling requests, socket.io.js, WebSocket upgrades) passes httpNodeAuth and httpNodeMiddleware
// first, as http in routes do. Off, or missing in a flow saved before it existed, it is open as before.

const PASSWORD = "s3cret";
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
const GOOD = basic("admin", PASSWORD);

// Serves Node-RED's own listener counts, so a test can see that redeploys add none.
const LISTENERS = `(req, res, next) => req.url === "/__listeners"
  ? res.json({ request: req.socket.server.listenerCount("request"), upgrade: req.socket.server.listenerCount("upgrade") })
  : next()`;

/** The server node, an echo (event "echo" answered through the ack) and an http in route /chat. */
function flow(security: boolean | undefined): FlowNode[] {
  const srv: FlowNode = {
    id: "srv",
    type: "socket-io-server",
    listen: "nodered",
    path: "/socket.io",
    corsOrigins: "*",
  };
  if (security !== undefined) srv.httpNodeSecurity = security;
  return [
    { id: "tab", type: "tab", label: "http security" },
    srv,
    {
      id: "echo-on",
      type: "socket-io-on",
      z: "tab",
      x: 100,
      y: 100,
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "echo",
      wires: [["echo-ack"]],
    },
    {
      id: "echo-ack",
      type: "socket-io-emit",
      z: "tab",
      x: 300,
      y: 100,
      server: "srv",
      namespace: "/",
      target: "ack",
      event: "",
      wires: [],
    },
    { id: "chat-in", type: "http in", z: "tab", x: 100, y: 200, url: "/chat", method: "get", wires: [["chat-out"]] },
    { id: "chat-out", type: "http response", z: "tab", x: 300, y: 200, statusCode: "", headers: {}, wires: [] },
  ];
}

const LISTENING = "socket.io listening on Node-RED's HTTP server";

/** Deploys and, when the server restarts (its settings changed), waits for it to listen again. */
async function deploy(nr: NodeRedProcess, flows: FlowNode[], restarts = true): Promise<void> {
  const before = nr.output().split(LISTENING).length;
  await nr.deploy(flows);
  if (restarts) await until(() => nr.output().split(LISTENING).length > before, 5000, "the server to listen");
}

/** Whether a client connects, and for a refusal over polling the HTTP status it got. */
function connectResult(
  url: string,
  transports: string[],
  headers: Record<string, string> = {},
): Promise<{ connected: boolean; status?: number }> {
  const socket = client(url, { transports, extraHeaders: headers });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("neither connect nor connect_error within 4 s")), 4000);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.disconnect();
      resolve({ connected: true });
    });
    socket.once("connect_error", (err: Error & { description?: unknown }) => {
      clearTimeout(timer);
      resolve({ connected: false, status: typeof err.description === "number" ? err.description : undefined });
    });
  });
}

/** Upgrades a raw WebSocket (the ws module): "open", or the HTTP status and headers of the refusal. */
function rawUpgrade(
  port: number,
  headers: Record<string, string> = {},
): Promise<{ open: boolean; status?: number; headers?: Record<string, unknown>; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("the upgrade got no answer within 4 s"));
    }, 4000);
    ws.once("open", () => {
      clearTimeout(timer);
      ws.terminate();
      resolve({ open: true });
    });
    ws.once("unexpected-response", (req, res) => {
      clearTimeout(timer);
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.once("end", () => {
        req.destroy();
        resolve({ open: false, status: res.statusCode, headers: res.headers, body });
      });
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/** Sends a WebSocket upgrade over plain TCP: what the server wrote, and whether it then closed the socket. */
function tcpUpgrade(port: number, ms = 3000): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closed: false });
    }, ms);
    socket.on("data", (d: Buffer) => (response += d.toString()));
    socket.once("error", reject);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ response, closed: true });
    });
    socket.write(
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
  });
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res;
}

/** An echo through the flow: the client's emit comes back through the ack. */
async function echo(url: string, transports: string[], headers: Record<string, string>): Promise<unknown> {
  const socket = client(url, { transports, extraHeaders: headers });
  await whenConnected(socket, 4000);
  return socket.timeout(3000).emitWithAck("echo", { hello: transports[0] });
}

async function listeners(nr: NodeRedProcess): Promise<{ request: number; upgrade: number }> {
  return nr.getJson("/__listeners");
}

describe("security: Node-RED's HTTP security on its own server", function () {
  this.timeout(30_000);
  afterEach(cleanup);

  describe("with httpNodeAuth {user, pass}", function () {
    let nr: NodeRedProcess;
    let url: string;

    before(async function () {
      const hash = bcrypt.hashSync(PASSWORD, 8);
      nr = await startNodeRed({
        port: await freePort(),
        settingsJs: `{ httpNodeAuth: { user: "admin", pass: ${JSON.stringify(hash)} }, httpAdminMiddleware: ${LISTENERS} }`,
      });
      url = nr.url;
      await deploy(nr, flow(true));
    });

    after(async function () {
      await nr?.stop();
    });

    it("refuses a client with no credentials over polling (401)", async function () {
      const r = await connectResult(url, ["polling"]);
      assert.equal(r.connected, false);
      assert.equal(r.status, 401);
    });

    it("refuses a WebSocket-only client with no credentials or the wrong password", async function () {
      assert.equal((await connectResult(url, ["websocket"])).connected, false);
      assert.equal(
        (await connectResult(url, ["websocket"], { Authorization: basic("admin", "wrong") })).connected,
        false,
      );
      assert.equal((await connectResult(url, ["polling"], { Authorization: basic("root", PASSWORD) })).status, 401);
    });

    it("answers a raw WebSocket upgrade without credentials with 401 and WWW-Authenticate", async function () {
      const r = await rawUpgrade(nr.port);
      assert.equal(r.open, false);
      assert.equal(r.status, 401);
      assert.match(String(r.headers?.["www-authenticate"]), /^Basic realm=/);
    });

    it("writes the refusal of an upgrade as an HTTP response, then closes the socket", async function () {
      const { response, closed } = await tcpUpgrade(nr.port);
      assert.match(response, /^HTTP\/1\.1 401 Unauthorized\r\n/);
      assert.match(response, /\r\nWWW-Authenticate: Basic realm=/i);
      assert.ok(closed, "the server closed the socket");
    });

    it("serves socket.io.js and the polling handshake only with credentials", async function () {
      const js = await get(`${url}/socket.io/socket.io.js`);
      assert.equal(js.status, 401);
      assert.match(js.headers.get("www-authenticate") ?? "", /^Basic/);
      assert.equal((await get(`${url}/socket.io/?EIO=4&transport=polling`)).status, 401);
      const ok = await get(`${url}/socket.io/socket.io.js`, { Authorization: GOOD });
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get("content-type") ?? "", /javascript/);
    });

    it("lets a client with the right Authorization header connect, and an event round-trips through the flow", async function () {
      assert.deepEqual(await echo(url, ["polling"], { Authorization: GOOD }), { hello: "polling" });
      assert.deepEqual(await echo(url, ["websocket"], { Authorization: GOOD }), { hello: "websocket" });
      assert.equal((await rawUpgrade(nr.port, { Authorization: GOOD })).open, true);
    });

    it("still protects the http in route /chat", async function () {
      assert.equal((await get(`${url}/chat`)).status, 401);
      assert.equal((await get(`${url}/chat`, { Authorization: GOOD })).status, 200);
    });

    it("is open as before when the setting is off or missing (a flow saved before it existed), and redeploys add no listeners", async function () {
      const start = await listeners(nr);
      await deploy(nr, flow(undefined));
      assert.equal((await connectResult(url, ["polling"])).connected, true, "missing: open over polling");
      assert.equal((await rawUpgrade(nr.port)).open, true, "missing: open over WebSocket");
      assert.equal((await get(`${url}/chat`)).status, 401, "/chat keeps its own protection");
      await deploy(nr, flow(false), false); // the same settings as missing: the server is kept
      assert.equal((await connectResult(url, ["websocket"])).connected, true, "off: open");
      for (let i = 0; i < 3; i++) {
        await deploy(nr, flow(true));
        assert.equal((await rawUpgrade(nr.port)).status, 401, `deploy ${i}: on again`);
        await deploy(nr, flow(true), false);
        await deploy(nr, flow(false));
      }
      await deploy(nr, flow(true));
      assert.equal((await connectResult(url, ["polling"])).status, 401, "on after the redeploys");
      assert.deepEqual(await echo(url, ["websocket"], { Authorization: GOOD }), { hello: "websocket" });
      assert.deepEqual(await listeners(nr), start, "listeners on Node-RED's server after 11 deploys");
    });
  });

  describe("with httpNodeMiddleware", function () {
    let nr: NodeRedProcess;
    let url: string;
    const TOKEN = { "x-token": "letmein" };

    before(async function () {
      // Refuses without the token; fails in three ways when asked to.
      const middleware = `(req, res, next) => {
        if (req.headers["x-token"] !== "letmein") return res.status(403).send("no token");
        if (req.headers["x-fail"] === "throw") throw new Error("middleware threw");
        if (req.headers["x-fail"] === "next") return next(new Error("middleware called next(err)"));
        if (req.headers["x-fail"] === "reject") return Promise.reject(new Error("middleware rejected"));
        next();
      }`;
      nr = await startNodeRed({ port: await freePort(), settingsJs: `{ httpNodeMiddleware: ${middleware} }` });
      url = nr.url;
      await deploy(nr, flow(true));
    });

    after(async function () {
      await nr?.stop();
    });

    it("refuses clients without the header, over polling, WebSocket and a raw upgrade, and socket.io.js", async function () {
      const polling = await connectResult(url, ["polling"]);
      assert.equal(polling.connected, false);
      assert.equal(polling.status, 403);
      assert.equal((await connectResult(url, ["websocket"])).connected, false);
      const raw = await rawUpgrade(nr.port);
      assert.equal(raw.status, 403);
      assert.equal(raw.body, "no token");
      assert.equal((await get(`${url}/socket.io/socket.io.js`)).status, 403);
    });

    it("admits clients with the header, and events round-trip", async function () {
      assert.deepEqual(await echo(url, ["polling"], TOKEN), { hello: "polling" });
      assert.deepEqual(await echo(url, ["websocket"], TOKEN), { hello: "websocket" });
      assert.equal((await get(`${url}/socket.io/socket.io.js`, TOKEN)).status, 200);
    });

    it("still protects the http in route /chat", async function () {
      assert.equal((await get(`${url}/chat`)).status, 403);
      assert.equal((await get(`${url}/chat`, TOKEN)).status, 200);
    });

    it("refuses with 500 when the middleware throws, calls next(err) or rejects, and logs it at most once per interval", async function () {
      const before = logLines(nr.output(), "error", /HTTP security failed/).length;
      for (const fail of ["throw", "next", "reject"]) {
        const headers = { ...TOKEN, "x-fail": fail };
        assert.equal((await get(`${url}/socket.io/?EIO=4&transport=polling`, headers)).status, 500, `${fail}: polling`);
        assert.equal((await rawUpgrade(nr.port, headers)).status, 500, `${fail}: upgrade`);
        assert.equal((await connectResult(url, ["websocket"], headers)).connected, false, `${fail}: client`);
      }
      for (let i = 0; i < 20; i++) await get(`${url}/socket.io/socket.io.js`, { ...TOKEN, "x-fail": "throw" });
      await sleep(200);
      const lines = logLines(nr.output(), "error", /HTTP security failed/).length - before;
      assert.ok(lines >= 1 && lines <= 2, `${lines} log lines for 32 failures`);
      assert.equal(nr.proc.exitCode, null, "Node-RED is still running");
    });
  });

  describe("with settings that cannot run", function () {
    let nr: NodeRedProcess;

    before(async function () {
      // Node-RED's http in nodes ignore an httpNodeMiddleware that is not a function: this guard refuses.
      nr = await startNodeRed({ port: await freePort(), settingsJs: `{ httpNodeMiddleware: 42 }` });
      await deploy(nr, flow(true));
    });

    after(async function () {
      await nr?.stop();
    });

    it("refuses every request and upgrade, and says why at deploy", async function () {
      assert.equal((await get(`${nr.url}/socket.io/socket.io.js`)).status, 500);
      assert.equal((await rawUpgrade(nr.port)).status, 500);
      assert.equal((await connectResult(nr.url, ["polling"])).connected, false);
      assert.ok(
        logLines(nr.output(), "error", /httpNodeMiddleware must be a function/).length >= 1,
        "an error names the setting",
      );
    });
  });
});

describe("security: the HTTP guard in front of a mounted Socket.IO server", function () {
  let http: HttpServer;
  let io: SocketIoServer;
  let port: number;
  const logged: Array<[code: string, values?: WordValues]> = [];
  const log = {
    warn: (code: string, values?: WordValues) => logged.push([code, values]),
    error: (code: string, values?: WordValues) => logged.push([code, values]),
  };

  /** Node-RED's shape: an HTTP server whose own handler answers 404, with Socket.IO mounted behind `middleware`. */
  async function serve(middleware: Middleware[], upgradeTimeout = 300): Promise<void> {
    http = createServer((_req, res) => res.writeHead(404).end());
    const point = HttpMount.of(http).mount("/socket.io", true, HttpGuard.of(middleware, log, { upgradeTimeout }));
    io = new SocketIoServer({ path: "/socket.io" });
    io.attach(point as unknown as HttpServer, { destroyUpgrade: false });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    port = (http.address() as { port: number }).port;
  }

  afterEach(async function () {
    await cleanup();
    io?.disconnectSockets(true);
    http?.closeAllConnections();
    await new Promise((r) => http?.close(r));
    logged.length = 0;
  });

  it("refuses an upgrade the middleware does not decide on in time with 503, closes it, and logs once", async function () {
    await serve([
      (req: IncomingMessage, _res: unknown, next: () => void) => (req.headers.upgrade ? undefined : next()),
    ]);
    const [a, b] = await Promise.all([tcpUpgrade(port), tcpUpgrade(port)]);
    for (const r of [a, b]) {
      assert.match(r.response, /^HTTP\/1\.1 503 /);
      assert.ok(r.closed, "closed");
    }
    const undecided = logged.filter(([code]) => code === "http.undecided");
    assert.equal(undecided.length, 1, JSON.stringify(logged));
    assert.deepEqual(undecided[0]![1], { count: 1, ms: 300 });
  });

  it("never admits once the middleware refused: a next() after next(err), or after answering", async function () {
    await serve([
      (req: IncomingMessage, res: { sendStatus(n: number): void }, next: (err?: unknown) => void) => {
        if (req.headers["x-mode"] === "answer") res.sendStatus(403);
        else next(Object.assign(new Error("nope"), { status: 418 }));
        setTimeout(() => next(), 5);
      },
    ]);
    assert.equal((await rawUpgrade(port, { "x-mode": "error" })).status, 418);
    assert.equal((await rawUpgrade(port, { "x-mode": "answer" })).status, 403);
    assert.equal(
      (await get(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`, { "x-mode": "answer" })).status,
      403,
    );
    assert.equal((await connectResult(`http://127.0.0.1:${port}`, ["polling"], { "x-mode": "error" })).status, 418);
    await sleep(50);
    assert.equal(io.engine.clientsCount, 0, "no Engine.IO connection was opened");
  });

  it("hands Socket.IO the request as it came: no Express prototype or fields", async function () {
    let seen: IncomingMessage | undefined;
    await serve([(_req: unknown, _res: unknown, next: () => void) => next()]);
    io.engine.on("connection", (raw: { request: IncomingMessage }) => (seen = raw.request));
    await whenConnected(client(`http://127.0.0.1:${port}`, { transports: ["websocket"] }), 3000);
    assert.ok(seen, "connected");
    assert.equal(Object.getPrototypeOf(seen), IncomingMessage.prototype);
    for (const key of ["originalUrl", "baseUrl", "next", "query", "params"])
      assert.equal(Object.hasOwn(seen!, key), false, key);
  });

  it("leaves other paths to the server's own handler", async function () {
    await serve([(_req: unknown, res: { sendStatus(n: number): void }) => res.sendStatus(401)]);
    assert.equal((await get(`http://127.0.0.1:${port}/socket.io.x`)).status, 404);
    assert.equal((await get(`http://127.0.0.1:${port}/socket.io/socket.io.js`)).status, 401);
  });
});
