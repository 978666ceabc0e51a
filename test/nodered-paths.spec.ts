// Where endpoints live on Node-RED's own server, in a real node-red process: under httpNodeRoot, and
// one Socket.IO server per path, as core websocket listeners and Dashboard 2 place theirs.
import { strict as assert } from "node:assert";
import { answerNodes, onTab, type FlowNode } from "./flow-fixtures";
import { closeClients, connected, freePort, until } from "./helpers";
import { get } from "./http-get";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";
import { answered } from "./server-kit";
import { StatusWatcher } from "./status-watcher";
import { MAX_STATUS } from "../src/nodes/lib/node-status";

/** A server config node on Node-RED's HTTP server at `path`, and a flow answering its "ping" with `reply`. */
function onNodeRed(id: string, path: string, extra: Record<string, unknown> = {}, reply = "pong"): FlowNode[] {
  const server = { id, type: "socket-io-server", name: id, listen: "nodered", path, corsOrigins: "*", ...extra };
  const answer = answerNodes(`on-${id}`, "ping", `emit-${id}`, reply, { server: id });
  return [server, ...answer];
}

/** Waits for the log line of a server listening at `path` on Node-RED's server: a deploy answers before its flows start. */
async function listening(red: NodeRedProcess, path: string, times = 1): Promise<void> {
  const line = `socket.io listening on Node-RED's HTTP server at ${path}\n`;
  await until(() => red.output().split(line).length > times, 5000, `"${line.trim()}" ×${times} in the log`);
}

describe("paths on Node-RED's own server (a real node-red process)", function () {
  this.timeout(60_000);
  let red: NodeRedProcess | undefined;

  afterEach(async function () {
    closeClients();
    if (red) await red.stop();
    red = undefined;
  });

  it("with httpNodeRoot /api: the Path is under it for polling, WebSocket and socket.io.js, and the log and the status say the full path", async function () {
    red = await startNodeRed({ port: await freePort(), settings: { httpNodeRoot: "/api" } });
    const statuses = await StatusWatcher.of(red);
    const long = "/tenants/acme-industries/socket.io";
    await red.deploy(
      onTab("paths", [...onNodeRed("root", "/socket.io", { serveClient: true }), ...onNodeRed("long", long)]),
    );
    const path = "/api/socket.io";
    await listening(red, path);
    await statuses.waitFor("on-root", (t) => t === "/api/socket.io · 0 clients", 5000, "the on node's status");
    // A path too long for a status is cut at its end, keeping the httpNodeRoot it starts with.
    await statuses.waitFor("on-long", (t) => t === "/api/tenants/acme-i… · 0 clients", 5000, "a long path");
    assert.equal(statuses.text("on-long").length, MAX_STATUS);
    await answered(await connected(red.url, { path }));
    await statuses.waitFor("on-root", (t) => t === "/api/socket.io · 1 client", 5000, "the status with a client");
    await answered(await connected(`${red.url}`, { path: `/api${long}` }));
    statuses.close();
    await answered(await connected(red.url, { path, transports: ["polling"] }));
    const js = await get(`${red.url}/api/socket.io/socket.io.js`);
    assert.equal(js.status, 200);
    assert.match(String(js.headers["content-type"]), /javascript/);
    // Outside httpNodeRoot the path is Node-RED's again.
    assert.equal((await get(`${red.url}/socket.io/socket.io.js`)).status, 404);
    assert.doesNotMatch(red.output(), /\[error\]/);
  });

  it("without httpNodeRoot the endpoint stays at the Path itself, and the status only counts clients", async function () {
    red = await startNodeRed({ port: await freePort() });
    const statuses = await StatusWatcher.of(red);
    await red.deploy(onTab("paths", onNodeRed("root", "/socket.io", { serveClient: true })));
    await listening(red, "/socket.io");
    await answered(await connected(red.url, { path: "/socket.io" }));
    await statuses.waitFor("on-root", (t) => t === "1 client", 5000, "the on node's status");
    statuses.close();
    assert.equal((await get(`${red.url}/socket.io/socket.io.js`)).status, 200);
  });

  it("two config nodes on /a/socket.io and /b/socket.io: each path has its own server, clients and flow", async function () {
    red = await startNodeRed({ port: await freePort() });
    // Each flow answers with its own event, so a client learns which server heard it.
    const flows = onTab("paths", [
      ...onNodeRed("sA", "/a/socket.io", {}, "pong-a"),
      ...onNodeRed("sB", "/b/socket.io", {}, "pong-b"),
    ]);
    await red.deploy(flows);
    await listening(red, "/a/socket.io");
    await listening(red, "/b/socket.io");
    const a = await connected(red.url, { path: "/a/socket.io" });
    const b = await connected(red.url, { path: "/b/socket.io", transports: ["polling"] });
    const wrong: string[] = [];
    a.on("pong-b", () => wrong.push("a got pong-b"));
    b.on("pong-a", () => wrong.push("b got pong-a"));
    await answered(a, "ping", "pong-a");
    await answered(b, "ping", "pong-b");
    // A modified-nodes deploy that changes one server leaves the other's client connected.
    let bDropped = 0;
    b.on("disconnect", () => bDropped++);
    const changed = flows.map((n) => (n.id === "sA" ? { ...n, pingInterval: 20000 } : n));
    await red.deploy(changed, "nodes");
    await listening(red, "/a/socket.io", 2);
    await answered(b, "ping", "pong-b");
    assert.equal(bDropped, 0);
    await answered(await connected(red.url, { path: "/a/socket.io" }), "ping", "pong-a");
    assert.deepEqual(wrong, []);
    assert.doesNotMatch(red.output(), /\[error\]/);
  });

  it("two config nodes on one path with other settings: the second reports an error naming both, the first keeps working", async function () {
    red = await startNodeRed({ port: await freePort() });
    const flows = onTab("paths", [
      ...onNodeRed("first", "/x/socket.io"),
      ...onNodeRed("second", "/x/socket.io", { pingInterval: 10000 }).slice(0, 1),
    ]);
    await red.deploy(flows);
    await listening(red, "/x/socket.io");
    await answered(await connected(red.url, { path: "/x/socket.io" }));
    await until(() => /path \/x\/socket\.io of Node-RED's own HTTP server is already used/.test(red!.output()), 5000);
    const line = red
      .output()
      .split("\n")
      .find((l) => l.includes("is already used"))!;
    assert.match(line, /\[error\]/);
    // Node-RED names the node that logs; the message names the other and the differing setting.
    assert.match(line, /\[socket-io-server:(first|second)\]/);
    const logger = /\[socket-io-server:(first|second)\]/.exec(line)![1];
    const other = logger === "first" ? "second" : "first";
    assert.match(line, new RegExp(`"${other}"`));
    assert.match(line, /Ping interval/);
  });
});
