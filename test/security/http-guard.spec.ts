import express from "express";
import { strict as assert } from "node:assert";
import { createServer, IncomingMessage, type Server as HttpServer } from "node:http";
import { Server as SocketIoServer } from "socket.io";
import { cleanup, client, sleep, whenConnected } from "../helpers";
import { HttpGuard, type Middleware } from "../../src/nodes/core/http-guard";
import { HttpMount } from "../../src/nodes/core/http-mount";
import type { WordValues } from "../../src/nodes/core/problem";
import { connectResult, get, rawUpgrade, tcpUpgrade } from "./http-probes";

// Finding 9, the guard itself: what HttpGuard and HttpMount do for a Socket.IO server mounted on an
// HTTP server, without Node-RED.

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
    const point = HttpMount.of(http).mount("/socket.io", HttpGuard.of(express, middleware, log, { upgradeTimeout }));
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
