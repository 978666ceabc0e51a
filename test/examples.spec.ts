import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import type { Socket as ClientSocket } from "socket.io-client";
import { EXAMPLE_PAGES, exampleFlows } from "../demo/start";
import { allNodes, cleanup, client, collect, helper, next, sleep, until } from "./helpers";

// The core nodes the examples use (the test helper loads catch by itself).
const coreNodes = [
  require("@node-red/nodes/core/common/21-debug.js"),
  require("@node-red/nodes/core/common/90-comment.js"),
  require("@node-red/nodes/core/function/10-function.js"),
  require("@node-red/nodes/core/function/10-switch.js"),
  require("@node-red/nodes/core/function/15-change.js"),
  require("@node-red/nodes/core/function/80-template.js"),
  require("@node-red/nodes/core/network/21-httpin.js"),
];

type FlowNode = Record<string, any>;

const EXAMPLES_DIR = join(__dirname, "..", "examples");
const examples: Array<{ file: string; flow: FlowNode[] }> = readdirSync(EXAMPLES_DIR)
  .filter((file) => file.endsWith(".json"))
  .sort()
  .map((file) => ({ file, flow: JSON.parse(readFileSync(join(EXAMPLES_DIR, file), "utf8")) as FlowNode[] }));
/** Every example in one flow, as the demo deploys them: the shared server config node once. */
const everything = (): FlowNode[] => exampleFlows() as FlowNode[];
const exampleFlow = (file: string): FlowNode[] => structuredClone(examples.find((e) => e.file === file)!.flow);

const OUR_TYPES = [
  "socket-io-server",
  "socket-io-on",
  "socket-io-emit",
  "socket-io-room",
  "socket-io-middleware-start",
  "socket-io-middleware-end",
];
const CORE_TYPES = [
  "tab",
  "comment",
  "http in",
  "http response",
  "template",
  "function",
  "change",
  "switch",
  "debug",
  "catch",
];

/** The id of the node of `type` named `name` in `flow`. */
function idOf(flow: FlowNode[], type: string, name: string): string {
  const found = flow.filter((n) => n.type === type && n.name === name);
  assert.equal(found.length, 1, `one ${type} node named "${name}"`);
  return found[0].id;
}

/** Everything a client receives as `event`, first argument only. */
function inbox(c: ClientSocket, event: string): unknown[] {
  const got: unknown[] = [];
  c.on(event, (arg: unknown) => got.push(arg));
  return got;
}

/** Resolves with how the connection attempt ended. */
function outcome(c: ClientSocket): Promise<{ admitted: boolean; message?: string }> {
  return Promise.race([
    next(c, "connect").then(() => ({ admitted: true })),
    next<Error>(c, "connect_error").then((err) => ({ admitted: false, message: err.message })),
  ]);
}

/** A plain GET without keep-alive. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(3000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
  });
}

describe("the example flows", function () {
  it("are five tabs of core nodes and ours, each with a comment, placed as the editor exports them", function () {
    assert.equal(examples.length, 5);
    for (const { file, flow } of examples) {
      const tabs = flow.filter((n) => n.type === "tab");
      assert.equal(tabs.length, 1, `${file}: one tab`);
      assert.ok(
        flow.some((n) => n.type === "comment" && n.name && n.info),
        `${file}: a comment node that explains it`,
      );
      for (const n of flow) {
        assert.ok([...OUR_TYPES, ...CORE_TYPES].includes(n.type), `${file}: ${n.type} is neither a core node nor ours`);
        if (n.type === "tab" || n.type === "socket-io-server") continue;
        assert.equal(n.z, tabs[0].id, `${file}: ${n.type} ${n.id} is on the tab`);
        assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${file}: ${n.type} ${n.id} has a position`);
        for (const out of n.wires)
          for (const id of out)
            assert.ok(
              flow.some((m) => m.id === id),
              `${file}: ${n.id} is wired to ${id}, which is not in the file`,
            );
      }
    }
  });

  it("use every node type of the package, on a server config node on Node-RED's server", function () {
    const used = new Set(examples.flatMap((e) => e.flow.map((n) => n.type)));
    for (const type of OUR_TYPES) assert.ok(used.has(type), `no example uses ${type}`);
    for (const { file, flow } of examples) {
      const servers = flow.filter((n) => n.type === "socket-io-server");
      assert.equal(servers.length, 1, `${file}: one server config node`);
      assert.equal(servers[0].listen, "nodered", `${file}: the server listens on Node-RED's server`);
    }
  });

  it("can be deployed together: node ids are unique across files but for the shared server, and never equal a setting's value", function () {
    const all = everything();
    assert.equal(all.filter((n) => n.type === "socket-io-server").length, 1, "the demo deploys one server config node");
    const ids = examples.flatMap((e) => e.flow.filter((n) => n.type !== "socket-io-server").map((n) => n.id));
    assert.equal(new Set(ids).size, ids.length, "a node id appears twice");
    // Node-RED takes a string setting equal to a node id for a reference to that node.
    const values = new Set(
      all.flatMap((n) =>
        Object.entries(n)
          .filter(([k, v]) => typeof v === "string" && !["id", "z", "server"].includes(k))
          .map(([, v]) => v),
      ),
    );
    for (const { id } of all) assert.ok(!values.has(id), `node id ${id} equals a setting's value`);
  });
});

describe("the example flows deployed together on Node-RED's server", function () {
  /** Node-RED's HTTP routes (http in nodes) of the flows loaded last. */
  let httpNode: ((req: unknown, res: unknown, next: () => void) => void) | undefined;
  const grabHttpNode = (RED: { httpNode: typeof httpNode }): void => {
    httpNode = RED.httpNode;
  };
  const nodes = [...allNodes, ...coreNodes, grabHttpNode];
  let url = "";

  before(async function () {
    await helper.startServer();
    // The test helper keeps http in routes on an app of their own; serve them on its server.
    (helper as { _app: { use(fn: (req: unknown, res: unknown, next: () => void) => void): void } })._app.use(
      (req, res, next) => (httpNode ? httpNode(req, res, next) : next()),
    );
    url = helper.url() as string;
  });
  after(async function () {
    await helper.stopServer();
  });
  afterEach(async function () {
    delete process.env.DEMO_TOKEN;
    await cleanup();
  });

  /** What the test helper itself warns about on every load. */
  const HELPER_NOISE = [
    /^\[helper\] Deprecated call to RED.runtime.nodes.registerType/,
    /^nodes\.credentials\.unencrypted$/,
  ];

  /** Loads flows and checks that nothing was logged as a warning or an error. */
  async function deploy(flow: FlowNode[]): Promise<void> {
    await helper.load(nodes, flow);
    await sleep(50);
    const problems = (helper.log().args as Array<[{ level: number; msg: unknown }]>)
      .map(([entry]) => entry)
      .filter((entry) => entry.level <= 30) // ERROR (20) and WARN (30)
      .map((entry) => String(entry.msg))
      .filter((msg) => !HELPER_NOISE.some((noise) => noise.test(msg)));
    assert.deepEqual(problems, []);
  }

  it("deploy without errors or warnings and serve their pages, which load the Socket.IO client", async function () {
    await deploy(everything());
    for (const path of EXAMPLE_PAGES) {
      const page = await get(url + path);
      assert.equal(page.status, 200, path);
      // Relative to the page, so that it works under a path prefix too (test/browser/example-pages.browser.ts).
      assert.match(page.body, /<script src="socket\.io\/socket\.io\.js"><\/script>/, path);
    }
    assert.equal((await get(`${url}/socket.io/socket.io.js`)).status, 200);
  });

  it("chat: every page in a room shows its messages and join/leave notices, and no other room's", async function () {
    await deploy(everything());
    const enter = async (room: string, name: string) => {
      const c = client(url, { query: { room, name } });
      const said = inbox(c, "chat message");
      const notices = inbox(c, "notice");
      await next(c, "connect");
      return { c, said, notices };
    };
    const alice = await enter("a", "alice");
    await until(() => alice.notices.includes("alice joined a"), 3000, "alice's join notice");
    const bob = await enter("a", "bob");
    await until(() => alice.notices.includes("bob joined a"), 3000, "bob's join notice at alice");
    const carol = await enter("b", "carol");
    await until(() => carol.notices.includes("carol joined b"), 3000, "carol's join notice");

    alice.c.emit("chat message", "hi");
    carol.c.emit("chat message", "in b");
    await until(
      () => alice.said.includes("alice: hi") && bob.said.includes("alice: hi"),
      3000,
      "alice's message in room a",
    );
    await until(() => carol.said.includes("carol: in b"), 3000, "carol's message in room b");
    await sleep(200);
    assert.deepEqual(alice.said, ["alice: hi"]);
    assert.deepEqual(bob.said, ["alice: hi"]);
    assert.deepEqual(carol.said, ["carol: in b"]);
    assert.ok(!alice.notices.includes("carol joined b"));

    bob.c.disconnect();
    await until(() => alice.notices.includes("bob left"), 3000, "bob's leave notice");
    assert.ok(!carol.notices.includes("bob left"));
  });

  it("echo: the client's acknowledgement is answered, and the server's question waits for the client's answer", async function () {
    const flow = everything();
    await deploy(flow);
    const answers = collect(idOf(flow, "debug", "the client's answer"));
    const c = client(`${url}/echo`);
    c.on("question", (question: string, answer: (name: string) => void) =>
      answer(question === "What is your name?" ? "Ada" : "?"),
    );
    const thanks = next(c, "thanks");
    await next(c, "connect");
    assert.equal(await thanks, "Thanks, Ada!");
    assert.deepEqual(
      answers.map((m) => m.payload),
      ["Ada"],
    );

    const echoed = (await c.timeout(3000).emitWithAck("echo", "hello")) as { echo: unknown; at: unknown };
    assert.equal(echoed.echo, "hello");
    assert.ok(!Number.isNaN(Date.parse(String(echoed.at))), `a time, not ${String(echoed.at)}`);
  });

  it("echo: a question the client does not answer times out, and the catch node reports it", async function () {
    const flow = exampleFlow("02-echo-with-ack.json");
    flow.find((n) => n.name === "ask msg.socket, wait 5 s")!.ackTimeout = 300; // not 5 s, to keep the test fast
    await deploy(flow);
    const timeouts = collect(idOf(flow, "debug", "the timeout"));
    const c = client(`${url}/echo`);
    const questions = inbox(c, "question");
    await next(c, "connect");
    await until(() => timeouts.length === 1, 3000, "the timeout at the debug node");
    assert.equal(questions.length, 1);
    assert.equal(timeouts[0].error.message, 'core.emit.clientAckTimeout {"event":"question","ms":300}');
  });

  it("auth: the right auth.token is admitted and welcomed; a wrong or missing one gets a readable connect_error", async function () {
    await deploy(everything());
    const good = client(`${url}/secure`, { auth: { token: "letmein" } });
    const welcome = next(good, "welcome");
    assert.deepEqual(await outcome(good), { admitted: true });
    assert.equal(await welcome, "Welcome! Your token was accepted.");
    assert.deepEqual(await outcome(client(`${url}/secure`, { auth: { token: "guess" } })), {
      admitted: false,
      message: "invalid token",
    });
    const none = await outcome(client(`${url}/secure`));
    assert.equal(none.admitted, false);
    assert.match(String(none.message), /^no token: connect with io\("\/secure", \{ auth: \{ token \} \}\)$/);
  });

  it("auth: the environment variable DEMO_TOKEN replaces the default token", async function () {
    process.env.DEMO_TOKEN = "s3cret";
    await deploy(everything());
    assert.deepEqual(await outcome(client(`${url}/secure`, { auth: { token: "letmein" } })), {
      admitted: false,
      message: "invalid token",
    });
    assert.deepEqual(await outcome(client(`${url}/secure`, { auth: { token: "s3cret" } })), { admitted: true });
  });

  it("private messages: a message to a socket id reaches that socket only, a shout everyone but the sender, room changes reach the debug node", async function () {
    const flow = everything();
    await deploy(flow);
    const joins = collect(idOf(flow, "debug", "socket joined a room"));
    const leaves = collect(idOf(flow, "debug", "socket left a room"));
    const enter = async () => {
      const c = client(`${url}/dm`);
      const box = {
        c,
        dms: inbox(c, "private message"),
        shouts: inbox(c, "shout"),
        online: inbox(c, "online"),
        rooms: inbox(c, "my rooms"),
      };
      await next(c, "connect");
      return box;
    };
    const alice = await enter();
    const bob = await enter();
    await until(() => alice.online.includes(bob.c.id), 3000, "bob announced to alice");
    const carol = await enter();

    alice.c.emit("private message", { to: bob.c.id, text: "psst" });
    await until(() => bob.dms.length === 1, 3000, "the private message");
    assert.deepEqual(bob.dms[0], { from: alice.c.id, to: bob.c.id, text: "psst" });
    carol.c.emit("shout", "hello all");
    await until(() => alice.shouts.length === 1 && bob.shouts.length === 1, 3000, "the shout");
    assert.deepEqual(alice.shouts[0], { from: carol.c.id, text: "hello all" });
    await sleep(200);
    assert.deepEqual([alice.dms, carol.dms, carol.shouts], [[], [], []]);

    alice.c.emit("join", "lobby");
    await until(() => alice.rooms.length === 1, 3000, "alice's rooms after join");
    assert.deepEqual(alice.rooms[0], ["lobby"]);
    assert.deepEqual(
      joins.map((m) => m.payload),
      [{ room: "lobby", socketId: alice.c.id }],
    );
    alice.c.emit("leave", "lobby");
    await until(() => alice.rooms.length === 2, 3000, "alice's rooms after leave");
    assert.deepEqual(alice.rooms[1], []);
    assert.deepEqual(
      leaves.map((m) => m.payload),
      [{ room: "lobby", socketId: alice.c.id }],
    );
  });

  it("namespaces: /news and /admin have their own middleware, and a headline published in /admin reaches /news", async function () {
    await deploy(everything());
    const reader = client(`${url}/news`, { auth: { name: "Ann" } });
    const headlines = inbox(reader, "headline");
    assert.deepEqual(await outcome(reader), { admitted: true });
    await until(() => headlines.length === 1, 3000, "the welcome headline");
    assert.equal(headlines[0], "Welcome to the news, Ann!");
    const nameless = await outcome(client(`${url}/news`));
    assert.equal(nameless.admitted, false);
    assert.match(String(nameless.message), /^tell \/news your name/);
    // The reader's name is not a password: each namespace runs its own middleware.
    assert.deepEqual(await outcome(client(`${url}/admin`, { auth: { name: "Ann" } })), {
      admitted: false,
      message: "wrong password",
    });

    const editor = client(`${url}/admin`, { auth: { password: "admin" } });
    assert.deepEqual(await outcome(editor), { admitted: true });
    assert.equal(await editor.timeout(3000).emitWithAck("publish", "Big news"), "published to /news");
    await until(() => headlines.length === 2, 3000, "the published headline");
    assert.equal(headlines[1], "Big news");
  });
});
