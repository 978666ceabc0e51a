import { strict as assert } from "node:assert";
import bcrypt from "bcryptjs";
import { at, onEvent, type FlowNode } from "../flow-fixtures";
import { cleanup, client, freePort, sleep, until, whenConnected } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { ackAt, logLines } from "./attack-flow";
import { connectResult, get, rawUpgrade, tcpUpgrade } from "./http-probes";

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
    at("tab", 100, 100, onEvent("echo-on", "echo", ["echo-ack"])),
    ackAt("echo-ack", "tab", 300, 100),
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
