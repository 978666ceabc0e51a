// One feature's cases (each shipped example, deployed as the demo deploys them), hence over 250 lines.
import { strict as assert } from "node:assert";
import type { NodeModule } from "node-red-node-test-helper";
import injectModule from "@node-red/nodes/core/common/20-inject.js";
import { EXAMPLE_PAGES, exampleFlows } from "../demo/start";
import type { SavedNode } from "./flow-fixtures";
import { admission, cleanup, client, collect, coreNodes, helper, inbox, load, next, sleep, until } from "./helpers";
import { get } from "./http-get";
import { readExamples } from "./package-tools";

const examples = readExamples();
/** Every example in one flow, as the demo deploys them: the shared server config node once. */
const everything = (): SavedNode[] => exampleFlows() as SavedNode[];
const exampleFlow = (file: string): SavedNode[] => structuredClone(examples.find((e) => e.file === file)!.flow);

/** The id of the node of `type` named `name` in `flow`. */
function idOf(flow: SavedNode[], type: string, name: string): string {
  const found = flow.filter((n) => n.type === type && n.name === name);
  assert.equal(found.length, 1, `one ${type} node named "${name}"`);
  return found[0].id;
}

describe("the example flows deployed together on Node-RED's server", function () {
  /** Node-RED's HTTP routes (http in nodes) of the flows loaded last. */
  let httpNode: ((req: unknown, res: unknown, next: () => void) => void) | undefined;
  const grabHttpNode: NodeModule = (RED) => {
    httpNode = (RED as unknown as { httpNode: typeof httpNode }).httpNode;
  };
  // The core nodes the examples use (the test helper loads catch by itself).
  const { change, comment, debug, function: fn, httpIn, switch: switchNode, template } = coreNodes;
  const nodes = [debug, comment, fn, switchNode, change, template, httpIn, injectModule, grabHttpNode];
  let url = "";

  before(async function () {
    await helper.startServer();
    // The test helper keeps http in routes on an app of their own; serve them on its server.
    helper._app.use((req: unknown, res: unknown, next: () => void) => (httpNode ? httpNode(req, res, next) : next()));
    url = helper.url();
  });
  after(async function () {
    await helper.stopServer();
  });
  afterEach(async function () {
    delete process.env.DEMO_TOKEN;
    delete process.env.DEVICE_TOKEN;
    await cleanup();
  });

  /** What the test helper itself warns about on every load. */
  const HELPER_NOISE = [
    /^\[helper\] Deprecated call to RED.runtime.nodes.registerType/,
    /^nodes\.credentials\.unencrypted$/,
  ];

  /** The errors and warnings logged since the flows were loaded. */
  const problems = (): string[] =>
    (helper.log().args as Array<[{ level: number; msg: unknown }]>)
      .map(([entry]) => entry)
      .filter((entry) => entry.level <= 30) // ERROR (20) and WARN (30)
      .map((entry) => String(entry.msg))
      .filter((msg) => !HELPER_NOISE.some((noise) => noise.test(msg)));

  /** Loads flows and checks that nothing was logged as a warning or an error. */
  async function deploy(flow: SavedNode[]): Promise<void> {
    await load(flow, nodes);
    await sleep(50);
    assert.deepEqual(problems(), []);
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
    assert.deepEqual(await admission(good), { admitted: true });
    assert.equal(await welcome, "Welcome! Your token was accepted.");
    assert.deepEqual(await admission(client(`${url}/secure`, { auth: { token: "guess" } })), {
      admitted: false,
      message: "invalid token",
    });
    const none = await admission(client(`${url}/secure`));
    assert.equal(none.admitted, false);
    assert.match(String(none.message), /^no token: connect with io\("\/secure", \{ auth: \{ token \} \}\)$/);
  });

  it("auth: the environment variable DEMO_TOKEN replaces the default token", async function () {
    process.env.DEMO_TOKEN = "s3cret";
    await deploy(everything());
    assert.deepEqual(await admission(client(`${url}/secure`, { auth: { token: "letmein" } })), {
      admitted: false,
      message: "invalid token",
    });
    assert.deepEqual(await admission(client(`${url}/secure`, { auth: { token: "s3cret" } })), { admitted: true });
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
    assert.deepEqual(await admission(reader), { admitted: true });
    await until(() => headlines.length === 1, 3000, "the welcome headline");
    assert.equal(headlines[0], "Welcome to the news, Ann!");
    const nameless = await admission(client(`${url}/news`));
    assert.equal(nameless.admitted, false);
    assert.match(String(nameless.message), /^tell \/news your name/);
    // The reader's name is not a password: each namespace runs its own middleware.
    assert.deepEqual(await admission(client(`${url}/admin`, { auth: { name: "Ann" } })), {
      admitted: false,
      message: "wrong password",
    });

    const editor = client(`${url}/admin`, { auth: { password: "admin" } });
    assert.deepEqual(await admission(editor), { admitted: true });
    assert.equal(await editor.timeout(3000).emitWithAck("publish", "Big news"), "published to /news");
    await until(() => headlines.length === 2, 3000, "the published headline");
    assert.equal(headlines[1], "Big news");
  });

  /** A device on the device example's server: token and id in the query, the namespace "/". */
  const device = (query: Record<string, string>) => client(url, { path: "/devices/socket.io", query });

  it("devices: a token in the query admits a device into its rooms; its telemetry reaches the debug node and is acknowledged; a command reaches its room", async function () {
    const flow = everything();
    await deploy(flow);
    const telemetry = collect(idOf(flow, "debug", "telemetry"));
    const enter = async (id: string) => {
      const c = device({ token: "device-secret", id });
      const box = { c, commands: inbox(c, "command"), welcome: next(c, "welcome") };
      await next(c, "connect");
      return box;
    };
    const one = await enter("esp32-1");
    const two = await enter("esp32-2");
    assert.deepEqual(await one.welcome, { id: "esp32-1", rooms: ["devices", "device:esp32-1"] });
    assert.deepEqual(await two.welcome, { id: "esp32-2", rooms: ["devices", "device:esp32-2"] });

    assert.deepEqual(await one.c.timeout(3000).emitWithAck("telemetry", { temperature: 21.5 }), {
      ok: true,
      device: "esp32-1",
    });
    two.c.emit("telemetry", { temperature: 19 }); // no acknowledgement asked for: none is sent, no error
    await until(() => telemetry.length === 2, 3000, "the telemetry at the debug node");
    assert.deepEqual(
      telemetry.map((m) => m.payload),
      [{ temperature: 21.5 }, { temperature: 19 }],
    );

    helper.getNode(idOf(flow, "inject", "command to esp32-1")).receive({});
    await until(() => one.commands.length === 1, 3000, "the command to esp32-1");
    helper.getNode(idOf(flow, "inject", "command to every device")).receive({});
    await until(() => one.commands.length === 2 && two.commands.length === 1, 3000, "the command to every device");
    await sleep(100);
    assert.deepEqual(one.commands, [{ led: "on" }, { blink: 3 }]);
    assert.deepEqual(two.commands, [{ blink: 3 }]);
    assert.deepEqual(problems(), [], "errors or warnings in the log");
  });

  it("devices: a wrong or missing token or id gets a readable connect_error; DEVICE_TOKEN replaces the default token", async function () {
    process.env.DEVICE_TOKEN = "s3cret";
    await deploy(everything());
    assert.deepEqual(await admission(device({ token: "device-secret", id: "esp32-1" })), {
      admitted: false,
      message: "invalid token",
    });
    assert.deepEqual(await admission(device({ id: "esp32-1" })), {
      admitted: false,
      message: "no token: connect with ?token=...&id=...",
    });
    const noId = await admission(device({ token: "s3cret" }));
    assert.equal(noId.admitted, false);
    assert.match(String(noId.message), /^no id: connect with \?token=\.\.\.&id=\.\.\./);
    assert.deepEqual(await admission(device({ token: "s3cret", id: "esp32-1" })), { admitted: true });
  });
});
