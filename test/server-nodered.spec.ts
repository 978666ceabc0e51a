import { strict as assert } from "node:assert";
import type * as http from "node:http";
import { registry } from "../src/nodes/core/server-registry";
import type { FlowNode } from "./flow-fixtures";
import { cleanup, connected, helper, load, next } from "./helpers";
import { get } from "./http-get";
import { answered, echo, entryOf } from "./server-kit";

describe("socket-io-server on Node-RED's own HTTP server", function () {
  const noderedServer = (): FlowNode => ({
    id: "srv",
    type: "socket-io-server",
    listen: "nodered",
    path: "/socket.io",
    corsOrigins: "*",
  });
  /** Node-RED's HTTP server in the test helper. */
  const httpServer = (): http.Server => helper._server;

  beforeEach(async function () {
    await helper.startServer();
    // A route of Node-RED's own, to show that its other requests still reach it.
    helper._app.get("/hello", (_req: unknown, res: { send(body: string): void }) => res.send("hello from Node-RED"));
  });
  afterEach(async function () {
    await cleanup();
    await helper.stopServer();
  });

  it("clients connect at Node-RED's URL, socket.io.js is served, and Node-RED's own routes still answer", async function () {
    await load([noderedServer(), ...echo("srv")]);
    assert.match(entryOf("srv").key, /^nodered:/);
    const url = helper.url();
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
    const flow = (event: string): FlowNode[] => [noderedServer(), ...echo("srv", event)];
    await load(flow("ping"));
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
    await load([noderedServer(), ...echo("srv")]);
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
