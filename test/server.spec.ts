import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { createServer, type Server as NetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket as ClientSocket } from "socket.io-client";
import { registry } from "../src/nodes/core/server-registry";
import type { ServerEntry } from "../src/nodes/core/server-entry";
import { allNodes, callsOn, cleanup, client, connected, freePort, helper, next, serverConfig, until } from "./helpers";

// Node-RED's tls-config node, as users pick it in the server's "Use TLS" setting.
const tlsConfigNode: unknown = require("@node-red/nodes/core/network/05-tls.js");

interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain GET without keep-alive (so no connection outlives the test). */
function get(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const request = url.startsWith("https:") ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, rejectUnauthorized: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(3000, () => req.destroy(new Error(`no answer from ${url} within 3000 ms`)));
    req.on("error", reject);
  });
}

/** Resolves with the connect_error of a client that must be refused. */
async function refused(url: string, opts: Parameters<typeof client>[1] = {}): Promise<Error> {
  const c = client(url, opts);
  return Promise.race([
    next<Error>(c, "connect_error"),
    next(c, "connect").then(() => {
      throw new Error("the client connected, but should have been refused");
    }),
  ]);
}

/** The client gets an answer to an event: the flow behind the server is alive. */
async function answered(c: ClientSocket, event = "ping", reply = "pong"): Promise<void> {
  const value = Math.random();
  c.emit(event, value);
  assert.equal(await next(c, reply), value);
}

/** An on node that answers `event` with `reply` to the same socket. */
function echo(server: string, event = "ping", reply = "pong", suffix = ""): Record<string, unknown>[] {
  return [
    {
      id: `on${suffix}`,
      type: "socket-io-on",
      server,
      namespace: "/",
      listenFor: "event",
      event,
      wires: [[`emit${suffix}`]],
    },
    {
      id: `emit${suffix}`,
      type: "socket-io-emit",
      server,
      namespace: "/",
      event: reply,
      eventType: "str",
      target: "socket",
      wires: [],
    },
  ];
}

/** The server a config node got from the registry. */
function entryOf(id: string): ServerEntry {
  const entry = (helper.getNode(id) as { entry?: ServerEntry }).entry;
  assert.ok(entry, `config node ${id} has no server`);
  return entry;
}

/** Resolves once something can listen on `port` again, and frees it at once. */
function listenOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(port, () => srv.close(() => resolve()));
  });
}

describe("socket-io-server on its own port", function () {
  afterEach(cleanup);

  it("accepts clients over WebSocket and over long-polling", async function () {
    const port = await freePort();
    await helper.load(allNodes, [serverConfig(port), ...echo("srv")]);
    const url = `http://127.0.0.1:${port}`;
    const ws = await connected(url);
    const polling = await connected(url, { transports: ["polling"] });
    assert.equal(ws.io.engine.transport.name, "websocket");
    assert.equal(polling.io.engine.transport.name, "polling");
    await answered(ws);
    await answered(polling);
  });

  it("serves the browser client at <path>/socket.io.js, unless told not to", async function () {
    const [on, off] = [await freePort(), await freePort()];
    await helper.load(allNodes, [serverConfig(on), serverConfig(off, { id: "srv2", serveClient: false })]);
    const served = await get(`http://127.0.0.1:${on}/socket.io/socket.io.js`);
    assert.equal(served.status, 200);
    assert.match(String(served.headers["content-type"]), /javascript/);
    assert.match(served.body, /io/);
    const notServed = await get(`http://127.0.0.1:${off}/socket.io/socket.io.js`);
    assert.notEqual(notServed.status, 200);
  });

  it("listens at a custom path, and nothing answers Socket.IO at the default path", async function () {
    const port = await freePort();
    await helper.load(allNodes, [serverConfig(port, { path: "/rt" }), ...echo("srv")]);
    const url = `http://127.0.0.1:${port}`;
    await answered(await connected(url, { path: "/rt" }));
    await refused(url);
    assert.equal((await get(`${url}/socket.io/?EIO=4&transport=polling`)).status, 404);
    assert.equal((await get(`${url}/`)).status, 404);
  });

  describe("CORS origins", function () {
    it("a listed origin gets the CORS header on long-polling and connects over WebSocket", async function () {
      const port = await freePort();
      await helper.load(allNodes, [serverConfig(port, { corsOrigins: "https://good.example" }), ...echo("srv")]);
      const url = `http://127.0.0.1:${port}`;
      const poll = await get(`${url}/socket.io/?EIO=4&transport=polling`, { Origin: "https://good.example" });
      assert.equal(poll.status, 200);
      assert.equal(poll.headers["access-control-allow-origin"], "https://good.example");
      await answered(await connected(url, { extraHeaders: { origin: "https://good.example" } }));
    });

    it("another origin is refused, over long-polling and over WebSocket", async function () {
      const port = await freePort();
      await helper.load(allNodes, [serverConfig(port, { corsOrigins: "https://good.example" })]);
      const url = `http://127.0.0.1:${port}`;
      const poll = await get(`${url}/socket.io/?EIO=4&transport=polling`, { Origin: "https://evil.example" });
      assert.notEqual(poll.status, 200);
      assert.notEqual(poll.headers["access-control-allow-origin"], "https://evil.example");
      await refused(url, { extraHeaders: { origin: "https://evil.example" } });
      assert.equal(registry.get(`port:${port}`)!.io.of("/").sockets.size, 0);
    });

    it("a client that sends no Origin (not a browser) connects", async function () {
      const port = await freePort();
      await helper.load(allNodes, [serverConfig(port, { corsOrigins: "https://good.example" }), ...echo("srv")]);
      await answered(await connected(`http://127.0.0.1:${port}`));
    });

    it('"*" allows any origin', async function () {
      const port = await freePort();
      await helper.load(allNodes, [serverConfig(port, { corsOrigins: "*" }), ...echo("srv")]);
      const url = `http://127.0.0.1:${port}`;
      const poll = await get(`${url}/socket.io/?EIO=4&transport=polling`, { Origin: "https://evil.example" });
      assert.equal(poll.status, 200);
      assert.equal(poll.headers["access-control-allow-origin"], "*");
      await answered(await connected(url, { extraHeaders: { origin: "https://evil.example" } }));
    });
  });

  describe("two config nodes on one port", function () {
    it("with the same settings share one server, and the clients of both are served", async function () {
      const port = await freePort();
      await helper.load(allNodes, [
        serverConfig(port),
        serverConfig(port, { id: "srv2" }),
        ...echo("srv", "ping", "pong", "1"),
        ...echo("srv2", "ping2", "pong2", "2"),
      ]);
      assert.equal(registry.size, 1);
      assert.equal(entryOf("srv"), entryOf("srv2"));
      const url = `http://127.0.0.1:${port}`;
      const [a, b] = [await connected(url), await connected(url)];
      await answered(a, "ping", "pong");
      await answered(b, "ping2", "pong2");
    });

    for (const [what, other] of [
      ["path", { path: "/other" }],
      ["ping interval", { pingInterval: 1000 }],
    ] as const) {
      it(`with another ${what}: the second one reports a clear error naming the first, and the first keeps working`, async function () {
        const port = await freePort();
        await helper.load(allNodes, [
          serverConfig(port, { name: "chat server" }),
          serverConfig(port, { id: "srv2", ...other }),
          ...echo("srv", "ping", "pong", "1"),
          ...echo("srv2", "ping2", "pong2", "2"),
        ]);
        await until(() => callsOn("srv2", "error").length > 0, 2000, "an error on the second config node");
        // In the test helper RED._ returns the i18n key, and the core's words show as code and values.
        assert.deepEqual(callsOn("srv2", "error")[0], ["socket-io-server.errors.settings"]);
        const failure = (helper.getNode("srv2") as { failure?: { text: string; status: string } }).failure;
        const setting = Object.keys(other)[0];
        assert.equal(
          failure?.text,
          `core.server.conflictPort {"other":"chat server","settings":["label.${setting}"],"port":${port}}`,
        );
        assert.equal(failure?.status, "conflict");
        assert.deepEqual(callsOn("srv", "error"), []);
        // The flow nodes of the refused server say so, briefly.
        await until(
          () => callsOn("on2", "status").some(([s]) => (s as { fill?: string }).fill === "red"),
          2000,
          "a red status on the second server's on node",
        );
        assert.match(
          String((callsOn("on2", "status").at(-1)?.[0] as { text?: string }).text),
          /socket-io-server\.status\.conflict$/,
        );
        assert.equal(registry.size, 1);
        await answered(await connected(`http://127.0.0.1:${port}`), "ping", "pong");
      });
    }
  });

  describe("a port another program holds", function () {
    let blocker: NetServer | undefined;
    afterEach(async function () {
      await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
      blocker = undefined;
    });

    it("is reported as in use, the flow nodes turn red, and the runtime keeps running", async function () {
      const port = await freePort();
      blocker = createServer();
      await new Promise<void>((resolve) => blocker!.listen(port, resolve));
      await helper.load(allNodes, [serverConfig(port), ...echo("srv")]);
      const inUse = `core.server.portInUse {"port":${port}}`;
      await until(
        () => callsOn("srv", "error").some(([m]) => m === inUse),
        2000,
        "an 'already in use' error naming the port",
      );
      const portInUse = (id: string) => () =>
        callsOn(id, "status").some(
          ([s]) =>
            (s as { fill?: string }).fill === "red" &&
            /socket-io-server\.status\.portInUse$/.test(String((s as { text?: string }).text)),
        );
      await until(portInUse("on"), 2000, "a red 'port in use' status on the on node");
      await until(portInUse("emit"), 2000, "a red 'port in use' status on the emit node");

      // Still alive: a deploy that picks a free port works.
      const other = await freePort();
      await helper.setFlows([serverConfig(other), ...echo("srv")], "full");
      await answered(await connected(`http://127.0.0.1:${other}`));
    });
  });

  it("deleting the config node disconnects its clients and frees the port", async function () {
    const port = await freePort();
    await helper.load(allNodes, [serverConfig(port), ...echo("srv")]);
    const c = await connected(`http://127.0.0.1:${port}`);
    const gone = next(c, "disconnect");
    await helper.setFlows([{ id: "h", type: "helper" }], "full");
    await gone;
    assert.equal(registry.size, 0);
    await listenOnce(port);
  });

  describe("settings", function () {
    it("ping, buffer size and connection-state recovery reach the Socket.IO server", async function () {
      const port = await freePort();
      await helper.load(allNodes, [
        serverConfig(port, {
          pingInterval: 5000,
          pingTimeout: 4000,
          maxHttpBufferSize: 2048,
          recovery: true,
          recoveryDuration: 30000,
        }),
        ...echo("srv"),
      ]);
      await connected(`http://127.0.0.1:${port}`);
      const { io } = entryOf("srv");
      assert.equal(io.engine.opts.pingInterval, 5000);
      assert.equal(io.engine.opts.pingTimeout, 4000);
      assert.equal(io.engine.opts.maxHttpBufferSize, 2048);
      assert.equal(io._opts.connectionStateRecovery?.maxDisconnectionDuration, 30000);
    });

    it("with connection-state recovery, a client whose connection drops gets its session back", async function () {
      const port = await freePort();
      await helper.load(allNodes, [
        serverConfig(port, { recovery: true }),
        {
          id: "on",
          type: "socket-io-on",
          server: "srv",
          namespace: "/",
          listenFor: "event",
          event: "ping",
          wires: [["emit"]],
        },
        // A broadcast carries the offset the client hands back when it reconnects.
        {
          id: "emit",
          type: "socket-io-emit",
          server: "srv",
          namespace: "/",
          event: "news",
          eventType: "str",
          target: "all",
          wires: [],
        },
      ]);
      const c = await connected(`http://127.0.0.1:${port}`, {
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 100,
      });
      const id = c.id;
      c.emit("ping", 1);
      assert.equal(await next(c, "news"), 1);
      const back = next(c, "connect");
      c.io.engine.close();
      await back;
      assert.equal(c.recovered, true);
      assert.equal(c.id, id);
    });

    it("a client message above the max buffer size closes that client's connection", async function () {
      const port = await freePort();
      await helper.load(allNodes, [serverConfig(port, { maxHttpBufferSize: 2048 }), ...echo("srv")]);
      const c = await connected(`http://127.0.0.1:${port}`);
      await answered(c);
      const gone = next<string>(c, "disconnect");
      c.emit("ping", "x".repeat(5000));
      assert.equal(await gone, "transport close");
    });

    it("the advanced options JSON is merged last", async function () {
      const port = await freePort();
      await helper.load(allNodes, [
        serverConfig(port, { pingInterval: 5000, options: '{"pingInterval": 1234, "connectTimeout": 7000}' }),
      ]);
      const { io } = entryOf("srv");
      assert.equal(io.engine.opts.pingInterval, 1234);
      assert.equal(io._opts.connectTimeout, 7000);
    });
  });

  describe("TLS", function () {
    let dir = "";
    let cert = "";
    let key = "";
    before(function () {
      this.timeout(20000);
      dir = mkdtempSync(join(tmpdir(), "socket-io-tls-"));
      cert = join(dir, "cert.pem");
      key = join(dir, "key.pem");
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-subj",
          "/CN=localhost",
          "-days",
          "1",
          "-keyout",
          key,
          "-out",
          cert,
        ],
        { stdio: "ignore" },
      );
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("with a tls-config node the server speaks HTTPS and WSS", async function () {
      const port = await freePort();
      await helper.load(
        [...allNodes, tlsConfigNode],
        [
          {
            id: "tls",
            type: "tls-config",
            cert,
            key,
            ca: "",
            certname: "cert.pem",
            keyname: "key.pem",
            caname: "",
            servername: "",
            verifyservercert: false,
          },
          serverConfig(port, { usetls: true, tls: "tls" }),
          ...echo("srv"),
        ],
      );
      const url = `https://127.0.0.1:${port}`;
      const wss = await connected(url, { rejectUnauthorized: false });
      await answered(wss);
      await answered(await connected(url, { transports: ["polling"], rejectUnauthorized: false }));
      assert.equal((await get(`${url}/socket.io/socket.io.js`)).status, 200);
      // Plain HTTP is not spoken on that port.
      await refused(`http://127.0.0.1:${port}`);
    });
  });
});

describe("socket-io-server on Node-RED's own HTTP server", function () {
  const noderedServer = (): Record<string, unknown> => ({
    id: "srv",
    type: "socket-io-server",
    listen: "nodered",
    path: "/socket.io",
    corsOrigins: "*",
  });
  /** Node-RED's HTTP server in the test helper. */
  const httpServer = (): http.Server => (helper as { _server: http.Server })._server;

  beforeEach(async function () {
    await helper.startServer();
    // A route of Node-RED's own, to show that its other requests still reach it.
    (
      helper as { _app: { get(path: string, fn: (req: unknown, res: { send(body: string): void }) => void): void } }
    )._app.get("/hello", (_req, res) => res.send("hello from Node-RED"));
  });
  afterEach(async function () {
    await cleanup();
    await helper.stopServer();
  });

  it("clients connect at Node-RED's URL, socket.io.js is served, and Node-RED's own routes still answer", async function () {
    await helper.load(allNodes, [noderedServer(), ...echo("srv")]);
    assert.match(entryOf("srv").key, /^nodered:/);
    const url = helper.url() as string;
    await answered(await connected(url));
    await answered(await connected(url, { transports: ["polling"] }));
    const js = await get(`${url}/socket.io/socket.io.js`);
    assert.equal(js.status, 200);
    assert.match(String(js.headers["content-type"]), /javascript/);
    const hello = await get(`${url}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(hello.body, "hello from Node-RED");
  });

  it("50 redeploys add no listeners to Node-RED's server, and clients stay served", async function () {
    this.timeout(30000);
    const flow = (event: string): Record<string, unknown>[] => [noderedServer(), ...echo("srv", event)];
    await helper.load(allNodes, flow("ping"));
    const server = httpServer();
    const counts = (): number[] => [server.listenerCount("request"), server.listenerCount("upgrade")];
    const first = counts();
    const c = await connected(helper.url());
    for (let i = 1; i <= 50; i++) await helper.setFlows(flow(i % 2 ? "ping-b" : "ping"), "full");
    assert.deepEqual(counts(), first);
    await answered(c, "ping");
    assert.equal((await get(`${helper.url()}/hello`)).status, 200);
  });

  it("deleting the config node leaves Node-RED's server running", async function () {
    await helper.load(allNodes, [noderedServer(), ...echo("srv")]);
    const c = await connected(helper.url());
    const gone = next(c, "disconnect");
    await helper.setFlows([{ id: "h", type: "helper" }], "full");
    await gone;
    assert.equal(registry.size, 0);
    assert.equal(httpServer().listening, true);
    const hello = await get(`${helper.url()}/hello`);
    assert.equal(hello.status, 200);
    // Socket.IO's path now belongs to Node-RED again.
    assert.notEqual((await get(`${helper.url()}/socket.io/socket.io.js`)).status, 200);
  });
});
