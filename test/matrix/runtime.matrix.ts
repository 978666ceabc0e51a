// The package on one combination of the version matrix (test/matrix/run.ts sets which): a real
// `node-red` process on that Node and Node-RED, with the packed tarball installed in its user dir as
// the palette manager installs it. The six types load, the examples are listed and deploy together
// with no error, real clients chat, ask with acknowledgements, pass or fail the middleware, use rooms
// and namespaces, and stay connected through full and modified-nodes deploys.
// Outside the matrix (`npx mocha test/matrix/runtime.matrix.ts`) it runs the default runtime.
// One feature's cases (the package on one combination), hence over 250 lines.
import { strict as assert } from "node:assert";
import bcrypt from "bcryptjs";
import { realpathSync } from "node:fs";
import type { Socket as ClientSocket } from "socket.io-client";
import { exampleFlows } from "../../demo/start";
import { authMiddleware, chatInRooms, echoAcks, namespacesWork, privateMessagesAndRooms } from "../example-clients";
import { answerNodes, onTab, type FlowNode } from "../flow-fixtures";
import { client, closeClients, freePort, inbox, next, sleep, until } from "../helpers";
import { adminAuthSettings, login, PASSWORD } from "../admin-auth-kit";
import { get, request } from "../http-get";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { exampleNames, listedExamples, NODE_TYPES, packageJson } from "../package-tools";
import { answered, refused } from "../server-kit";
import { installedPackage, labelVersions, MODULE, RUNTIME_ENV, runtimeLabel } from "../runtime-under-test";

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

const LABEL = runtimeLabel() ?? "the default runtime";
/** The versions the startup log must show in the matrix. */
const EXPECTED = runtimeLabel() === undefined ? undefined : labelVersions(runtimeLabel()!);

describe(`the package on ${LABEL} (a real node-red process)`, function () {
  this.timeout(60_000);
  let red: NodeRedProcess;
  /** The log's length when the examples had started; what came after is checked for errors. */
  let deployedAt = 0;

  before(async function () {
    // In the matrix, the user dir is the one the tarball was installed into.
    red = await startNodeRed({
      port: await freePort(),
      userDir: process.env[RUNTIME_ENV.installed] || undefined,
      settings: { telemetry: { enabled: false } },
    });
  });
  after(async function () {
    closeClients();
    await red?.stop();
  });
  afterEach(closeClients);

  /** The log lines since the examples were deployed that are errors or warnings. */
  const problems = (): string[] =>
    red
      .output()
      .slice(deployedAt)
      .split("\n")
      .filter((line) => /\[(error|warn)\]/.test(line));

  it("runs on the Node and Node-RED versions of the combination", function () {
    const log = red.output();
    const nodeRed = /Node-RED version: v(\d+\.\d+)\.\d+/.exec(log)?.[1];
    const node = /Node\.js\s+version: v(\d+)\.\d+\.\d+/.exec(log)?.[1];
    assert.ok(nodeRed && node, `the startup log names no versions:\n${log}`);
    if (EXPECTED) assert.deepEqual({ nodeRed, node }, EXPECTED, `the versions ${LABEL} should run`);
  });

  it("loads the six types with no error, from the installed copy", async function () {
    const ours = (await red.getJson<NodeSet[]>("/nodes")).filter((s) => s.module === MODULE);
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...NODE_TYPES].sort(), `the log:\n${red.output()}`);
    for (const set of ours) {
      // Node-RED 5 reports `err` as an object without its message; the log has it.
      const logged = red
        .output()
        .split("\n")
        .filter((line) => /\[(error|warn)\]/.test(line));
      assert.equal(set.err, undefined, `${set.types.join()} failed to load:\n${logged.join("\n")}`);
      assert.ok(set.enabled, `${set.types.join()} is not enabled`);
    }
    const info = await red.getJson<{ path: string; version: string }>(`/nodes/${MODULE}`);
    assert.equal(info.version, packageJson().version);
    const installed = installedPackage();
    if (installed) assert.equal(realpathSync(info.path), realpathSync(installed), "loaded from the installed copy");
  });

  it("lists every example under Import > Examples", async function () {
    assert.deepEqual((await listedExamples(red, MODULE)).sort(), exampleNames());
  });

  it("deploys the examples together, and they start with no error or warning in the log", async function () {
    const from = red.output().length;
    await red.deploy(exampleFlows());
    // A deploy answers before its flows start; the server says where it listens once it does.
    await until(() => red.output().slice(from).includes("socket.io listening on"), 10_000, "the listening line");
    await sleep(300);
    deployedAt = from;
    assert.deepEqual(problems(), []);
  });

  /** A client of the examples' server on Node-RED's port. */
  const at = (nsp: string, opts: Parameters<typeof client>[1] = {}): ClientSocket => client(red.url + nsp, opts);

  async function enterChat(room: string, name: string) {
    const c = at("/", { query: { room, name } });
    const said = inbox<string>(c, "chat message");
    const notices = inbox<string>(c, "notice");
    await next(c, "connect");
    await until(() => notices.includes(`${name} joined ${room}`), 3000, `${name}'s join notice`);
    return { c, said, notices };
  }

  it("chat: a message reaches its room only, with join and leave notices", async function () {
    await chatInRooms(red.url);
  });
  it("acknowledgements: the client's is answered, and the server's question gets the client's answer", async function () {
    await echoAcks(red.url);
  });
  it("middleware: the right token is admitted, a wrong one refused with the flow's reason", async function () {
    await authMiddleware(red.url);
  });
  it("rooms and private messages: a message to a socket id, a shout, a join and a leave", async function () {
    await privateMessagesAndRooms(red.url);
  });
  it("namespaces: each runs its own middleware, and a headline published in /admin reaches /news", async function () {
    await namespacesWork(red.url);
  });

  it("full and modified-nodes deploys: 0 disconnects, and the clients go on chatting", async function () {
    const alice = await enterChat("r", "alice");
    const bob = await enterChat("r", "bob");
    const dm = at("/dm");
    await next(dm, "connect");
    let disconnects = 0;
    for (const c of [alice.c, bob.c, dm]) c.on("disconnect", () => disconnects++);

    const flows = exampleFlows() as FlowNode[];
    const chatOn = flows.find((n) => n.type === "socket-io-on" && n.event === "chat message");
    assert.ok(chatOn, "the chat example's on node for chat message");
    const steps: Array<[string, "full" | "nodes"]> = [
      ["the same flows, full deploy", "full"],
      ["an on node renamed, modified-nodes deploy", "nodes"],
      ["renamed back, full deploy", "full"],
    ];
    for (const [i, [step, type]] of steps.entries()) {
      chatOn.name = i === 1 ? "renamed" : "";
      const from = red.output().length;
      await red.deploy(flows, type);
      await until(() => /Started (modified )?(flows|nodes)/.test(red.output().slice(from)), 10_000, `${step}: started`);
      await sleep(300);
      const text = `after step ${i + 1}`;
      alice.c.emit("chat message", text);
      await until(() => bob.said.includes(`alice: ${text}`), 3000, `${step}: the chat goes on`);
      assert.equal(disconnects, 0, `${step}: disconnects`);
      assert.ok(dm.connected, `${step}: the /dm client is connected`);
    }
    assert.deepEqual(problems(), []);
  });
});

describe(`Node-RED's HTTP security on ${LABEL}: httpNodeAuth and httpNodeMiddleware on Node-RED's own express and bcryptjs`, function () {
  this.timeout(60_000);
  let red: NodeRedProcess;
  const basic = (pass: string): string => `Basic ${Buffer.from(`admin:${pass}`).toString("base64")}`;

  before(async function () {
    const hash = bcrypt.hashSync("s3cret", 8);
    red = await startNodeRed({
      port: await freePort(),
      settings: { telemetry: { enabled: false } },
      // The middleware answers with Express's own res.status().send(): it must run on an Express app.
      settingsJs: `{ httpNodeAuth: { user: "admin", pass: ${JSON.stringify(hash)} },
        httpNodeMiddleware: (req, res, next) => req.headers["x-device"] === "no" ? res.status(403).send("no devices") : next() }`,
    });
    const server = {
      id: "sec",
      type: "socket-io-server",
      listen: "nodered",
      path: "/socket.io",
      httpNodeSecurity: true,
    };
    await red.deploy(
      onTab("security", [server, ...answerNodes("sec-on", "ping", "sec-emit", "pong", { server: "sec" })]),
    );
    await until(() => red.output().includes("socket.io listening on"), 10_000, "the listening line");
  });
  after(async function () {
    closeClients();
    await red?.stop();
  });

  it("admits the right password and refuses a wrong one, over polling and WebSocket", async function () {
    for (const transports of [["polling"], ["websocket"]]) {
      const good = client(red.url, { transports, extraHeaders: { authorization: basic("s3cret") } });
      await answered(good);
      // Refused: connect_error, not admitted (refused() throws if the client gets in).
      await refused(red.url, { transports, extraHeaders: { authorization: basic("guess") } });
    }
    const page = await get(`${red.url}/socket.io/socket.io.js`, { authorization: basic("guess") });
    assert.equal(page.status, 401);
  });

  it("runs httpNodeMiddleware, whose Express answer is the refusal", async function () {
    const answer = await get(`${red.url}/socket.io/?EIO=4&transport=polling`, {
      authorization: basic("s3cret"),
      "x-device": "no",
    });
    assert.deepEqual([answer.status, answer.body], [403, "no devices"]);
    assert.doesNotMatch(red.output(), /\[error\]/);
  });
});

describe(`the Admin UI on ${LABEL}: its page behind adminAuth, the instrumentation on and off`, function () {
  this.timeout(60_000);
  let red: NodeRedProcess;
  const LOGIN = { adminUiUsername: "sio", adminUiPassword: "s3cret" };
  /** A server on Node-RED's own server with the Admin UI on or off; clients of "/" join "lobby". */
  const flow = (adminUi: boolean): FlowNode[] => [
    { id: "aui", type: "socket-io-server", listen: "nodered", path: "/socket.io", adminUi, credentials: LOGIN },
    ...onTab("admin ui", [...answerNodes("aui-on", "ping", "aui-emit", "pong", { server: "aui" })]),
  ];

  before(async function () {
    red = await startNodeRed({
      port: await freePort(),
      settings: { telemetry: { enabled: false }, ...adminAuthSettings() },
      login: { username: "admin", password: PASSWORD },
    });
  });
  after(async function () {
    closeClients();
    await red?.stop();
  });

  it("serves the page to the admin only, shows the clients, and comes off at a deploy with no client disconnected", async function () {
    await red.deploy(flow(true));
    const adminRoot = `${red.url}/`;
    await until(() => red.output().includes("Admin UI at /socket-io-admin/aui/"), 10_000, "the Admin UI log line");
    const page = `${adminRoot}socket-io-admin/aui/`;
    assert.equal((await request(page)).status, 401, "without a token");
    const token = await login(adminRoot, "admin");
    const session = await request(`${adminRoot}socket-io-admin/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(session.status, 204);
    const cookie = String(session.headers["set-cookie"]?.[0] ?? "").split(";")[0];
    const html = await request(page, { headers: { cookie } });
    assert.equal(html.status, 200);
    assert.doesNotMatch(html.body, /googleapis|jsdelivr/);
    const script = /src="(js\/app\.[^"]+\.js)"/.exec(html.body)?.[1];
    assert.ok(script, "the page loads the UI's script");
    assert.equal((await request(page + script, { headers: { cookie } })).status, 200);

    const c = client(red.url);
    let disconnects = 0;
    c.on("disconnect", () => disconnects++);
    await answered(c);
    const admin = client(`${red.url}/socket-io-admin`, {
      auth: { username: LOGIN.adminUiUsername, password: LOGIN.adminUiPassword },
    });
    const sockets = await next<Array<{ id: string }>>(admin, "all_sockets");
    assert.ok(
      sockets.some((s) => s.id === c.id),
      JSON.stringify(sockets),
    );

    await red.deploy(flow(false));
    await until(() => !admin.connected, 10_000, "the admin client to be disconnected");
    assert.equal((await request(page, { headers: { cookie } })).status, 404, "the page once it is off");
    await answered(c);
    assert.equal(disconnects, 0);
    assert.doesNotMatch(red.output(), /\[error\]/);
  });
});
