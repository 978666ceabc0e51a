import { strict as assert } from "node:assert";
import type { NodeAPI } from "node-red";
import type { Socket as ClientSocket } from "socket.io-client";
import { allNodes, cleanup, client, collect, connected, freePort, helper, serverConfig, sleep, until } from "./helpers";

// Node-RED's own function and switch nodes (no type declarations).
const functionNode = require("@node-red/nodes/core/function/10-function.js");
const switchNode = require("@node-red/nodes/core/function/10-switch.js");

type Flow = Array<Record<string, unknown>>;

/** Called when a slow-close node starts closing. */
let onSlowClose: () => void = () => undefined;

/** A node whose close takes 300 ms: it holds a deploy open. */
function slowCloseNode(RED: NodeAPI): void {
  RED.nodes.registerType("slow-close", function (this: any, def: any) {
    RED.nodes.createNode(this, def);
    this.on("close", (_removed: boolean, done: () => void) => {
      onSlowClose();
      setTimeout(done, 300);
    });
  });
}

const nodes = [...allNodes, functionNode, switchNode, slowCloseNode];

const start = (id: string, wires: string[], extra: Record<string, unknown> = {}) => ({
  id,
  type: "socket-io-middleware-start",
  server: "srv",
  namespace: "/",
  timeout: 10,
  order: 0,
  wires: [wires],
  ...extra,
});
const fn = (id: string, func: string, wires: string[]) => ({ id, type: "function", func, outputs: 1, wires: [wires] });
const end = (id: string, errMsg = "") => ({ id, type: "socket-io-middleware-end", errMsg, wires: [] });
const sink = (id: string) => ({ id, type: "helper" });

/**
 * A deployable flow: the server config node plus `nodes` on one tab, placed as the editor places them
 * (Node-RED takes a node without x/y for a config node, and then mishandles rewiring on redeploy).
 */
function tab(port: number, ...nodes: Flow): Flow {
  return [
    { id: "tab", type: "tab", label: "middleware" },
    serverConfig(port),
    ...nodes.map((n) => ({ z: "tab", x: 100, y: 100, ...n })),
  ];
}

/** A copy made in this realm: objects a function node builds have another realm's prototypes. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const CHECK_TOKEN = `msg.payload = msg.socket.handshake.auth.token === "secret"; return msg;`;
const ADMIT = "msg.payload = true; return msg;";
const REFUSE = "msg.payload = false; return msg;";

type Outcome = { admitted: true } | { admitted: false; err: Error & { data?: unknown } };

/** Resolves with how the connection attempt ended, or rejects when it did not end within `ms`. */
function outcome(c: ClientSocket, ms = 3000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`neither connect nor connect_error within ${ms} ms`)), ms);
    c.once("connect", () => {
      clearTimeout(timer);
      resolve({ admitted: true });
    });
    c.once("connect_error", (err: Error) => {
      clearTimeout(timer);
      resolve({ admitted: false, err });
    });
  });
}

/** The connect_error of a client that must be refused. */
async function refusal(c: ClientSocket, ms = 3000): Promise<Error & { data?: unknown }> {
  const o = await outcome(c, ms);
  if (o.admitted) assert.fail("the client was admitted");
  return o.err;
}

/** Every warning a node logs, as the i18n key (RED._ returns the key in tests). */
function warnings(id: string): string[] {
  const seen: string[] = [];
  helper.getNode(id).on("call:warn", (call: { args: unknown[] }) => seen.push(String(call.args[0])));
  return seen;
}

describe("socket-io-middleware-start / -end", function () {
  afterEach(cleanup);

  let port: number;
  let url: string;
  beforeEach(async function () {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  });

  it("admits a client whose auth the flow accepts and refuses others with 'unauthorized'", async function () {
    await helper.load(nodes, tab(port, start("start", ["check"]), fn("check", CHECK_TOKEN, ["end"]), end("end")));
    const good = await connected(url, { auth: { token: "secret" } });
    assert.ok(good.connected);
    const err = await refusal(client(url, { auth: { token: "guess" } }));
    assert.equal(err.message, "unauthorized");
    assert.equal(err.data, undefined);
  });

  it("refuses with the end node's message, or msg.errMsg with msg.errData as err.data", async function () {
    const func = `
      const token = msg.socket.handshake.auth.token;
      msg.payload = token === "secret";
      if (token === "explain") { msg.errMsg = "token expired"; msg.errData = { code: 401, renew: "/login" }; }
      return msg;`;
    await helper.load(nodes, tab(port, start("start", ["check"]), fn("check", func, ["end"]), end("end", "go away")));
    const plain = await refusal(client(url, { auth: { token: "guess" } }));
    assert.equal(plain.message, "go away");
    assert.equal(plain.data, undefined);
    const explained = await refusal(client(url, { auth: { token: "explain" } }));
    assert.equal(explained.message, "token expired");
    assert.deepEqual(explained.data, { code: 401, renew: "/login" });
    await connected(url, { auth: { token: "secret" } });
  });

  it("admits only when msg.payload is exactly true: the string 'true' or 1 refuses", async function () {
    const func = "msg.payload = msg.socket.handshake.auth.value; return msg;";
    await helper.load(nodes, tab(port, start("start", ["pass"]), fn("pass", func, ["end"]), end("end")));
    assert.equal((await refusal(client(url, { auth: { value: "true" } }))).message, "unauthorized");
    assert.equal((await refusal(client(url, { auth: { value: 1 } }))).message, "unauthorized");
    await connected(url, { auth: { value: true } });
  });

  it("msg.socket.data set in the middleware flow is seen by the connection event", async function () {
    const func = "msg.socket.data.user = { name: msg.payload.user }; msg.payload = true; return msg;";
    await helper.load(
      nodes,
      tab(
        port,
        start("start", ["login"]),
        fn("login", func, ["end"]),
        end("end"),
        { id: "on", type: "socket-io-on", server: "srv", namespace: "/", listenFor: "connection", wires: [["conn"]] },
        sink("conn"),
      ),
    );
    const conns = collect("conn");
    const c = await connected(url, { auth: { user: "ada" } });
    await until(() => conns.length === 1, 3000, "the connection msg");
    assert.equal(conns[0].socket.id, c.id);
    assert.deepEqual(plain(conns[0].socket.data.user), { name: "ada" });
  });

  it("fails closed: a flow that drops the msg refuses the client after the timeout, with a warning", async function () {
    await helper.load(
      nodes,
      tab(
        port,
        // "/": a switch node whose only rule never matches.
        start("start-switch", ["route"], { timeout: 1 }),
        {
          id: "route",
          type: "switch",
          property: "payload.token",
          propertyType: "msg",
          rules: [{ t: "eq", v: "never", vt: "str" }],
          checkall: "true",
          repair: false,
          outputs: 1,
          wires: [["end"]],
        },
        // "/null": a function node that returns null.
        start("start-null", ["drop"], { timeout: 1, namespace: "/null" }),
        fn("drop", "return null;", ["end"]),
        end("end"),
      ),
    );
    const switchWarnings = warnings("start-switch");
    const nullWarnings = warnings("start-null");
    const began = Date.now();
    const [viaSwitch, viaNull] = await Promise.all([
      refusal(client(url, { auth: { token: "x" } }), 3000),
      refusal(client(`${url}/null`), 3000),
    ]);
    assert.ok(Date.now() - began >= 900, "refused before the 1 s timeout: not by the timeout");
    assert.match(viaSwitch.message, /did not decide in time/);
    assert.match(viaNull.message, /did not decide in time/);
    await until(() => switchWarnings.length + nullWarnings.length === 2, 1000, "the start nodes' warnings");
    assert.deepEqual(switchWarnings, ["socket-io-middleware-start.warn.timeout"]);
    assert.deepEqual(nullWarnings, ["socket-io-middleware-start.warn.timeout"]);
  });

  it("msg.next acts once: a flow that sends the msg twice is decided by the first, the second warns", async function () {
    // First send: the real decision; second send: the opposite.
    const func = `
      const ok = msg.socket.handshake.auth.token === "secret";
      node.send(Object.assign({}, msg, { payload: ok }));
      node.send(Object.assign({}, msg, { payload: !ok }));
      return null;`;
    await helper.load(nodes, tab(port, start("start", ["twice"]), fn("twice", func, ["end"]), end("end")));
    const warned = warnings("end");
    await connected(url, { auth: { token: "secret" } });
    assert.equal((await refusal(client(url, { auth: { token: "guess" } }))).message, "unauthorized");
    await until(() => warned.length >= 2, 1000, "two warnings");
    await sleep(200);
    assert.deepEqual(warned, ["socket-io-middleware-end.warn.twice", "socket-io-middleware-end.warn.twice"]);
  });

  it("msg.next acts once: a msg wired to two end nodes admits once and the second end warns", async function () {
    await helper.load(
      nodes,
      tab(port, start("start", ["ok"]), fn("ok", ADMIT, ["end1", "end2"]), end("end1"), end("end2")),
    );
    const warned = ["end1", "end2"].map((id) => warnings(id));
    await connected(url);
    await until(() => warned.flat().length >= 1, 1000, "a warning");
    await sleep(200);
    assert.deepEqual(warned.flat(), ["socket-io-middleware-end.warn.twice"]);
  });

  it("several start nodes on one namespace run in ascending order, ties by node id", async function () {
    const record = (name: string) =>
      `msg.socket.data.trail = (msg.socket.data.trail || []).concat(${JSON.stringify(name)}); msg.payload = true; return msg;`;
    // Listed out of order, so neither the flow order nor the deploy order can produce the expected trail.
    await helper.load(
      nodes,
      tab(
        port,
        start("mw-late", ["f-late"], { order: 5 }),
        fn("f-late", record("late"), ["end"]),
        start("mw-b", ["f-b"], { order: 1 }),
        fn("f-b", record("b"), ["end"]),
        start("mw-a", ["f-a"], { order: 1 }),
        fn("f-a", record("a"), ["end"]),
        start("mw-first", ["f-first"], { order: "-1" }),
        fn("f-first", record("first"), ["end"]),
        end("end"),
        { id: "on", type: "socket-io-on", server: "srv", namespace: "/", listenFor: "connection", wires: [["conn"]] },
        sink("conn"),
      ),
    );
    const conns = collect("conn");
    await connected(url);
    await until(() => conns.length === 1, 3000, "the connection msg");
    assert.deepEqual(plain(conns[0].socket.data.trail), ["first", "a", "b", "late"]);
  });

  it("when an earlier start node refuses, a later one is never reached", async function () {
    await helper.load(
      nodes,
      tab(
        port,
        start("mw-2", ["second", "f-2"], { order: 2 }),
        fn("f-2", ADMIT, ["end"]),
        start("mw-1", ["f-1"], { order: 1 }),
        fn("f-1", CHECK_TOKEN, ["end"]),
        end("end"),
        sink("second"),
      ),
    );
    const reachedSecond = collect("second");
    const c = await connected(url, { auth: { token: "secret" } });
    await until(() => reachedSecond.length === 1, 1000, "the second start node (positive control)");
    assert.equal(reachedSecond[0].socket.id, c.id);
    await refusal(client(url, { auth: { token: "guess" } }));
    await sleep(200);
    assert.equal(reachedSecond.length, 1);
  });

  it("middleware on /admin does not affect /", async function () {
    await helper.load(
      nodes,
      tab(
        port,
        start("start", ["no"], { namespace: "/admin" }),
        fn("no", REFUSE, ["end"]),
        end("end"),
        { id: "on", type: "socket-io-on", server: "srv", namespace: "/", listenFor: "connection", wires: [["conn"]] },
        sink("conn"),
      ),
    );
    assert.equal((await refusal(client(`${url}/admin`))).message, "unauthorized");
    await connected(url);
  });

  it("after repeated redeploys a connection runs the middleware once, and no closed start node is called", async function () {
    const flow = (version: number): Flow =>
      tab(
        port,
        start("start", ["ok", "count"], { name: `v${version}` }),
        fn("ok", ADMIT, ["end"]),
        end("end"),
        sink("count"),
      );
    await helper.load(nodes, flow(0));
    const instances = [helper.getNode("start")];
    for (let v = 1; v <= 5; v++) {
      await helper.setFlows(flow(v), "full");
      instances.push(helper.getNode("start"));
    }
    // A "nodes" deploy that changes only the start node.
    await helper.setFlows(flow(6), "nodes");
    instances.push(helper.getNode("start"));
    assert.equal(new Set(instances).size, 7, "every deploy made a new start node");

    const closedCalls: string[] = [];
    for (const old of instances.slice(0, -1)) old.on("call:send", () => closedCalls.push(old.name));
    const counted = collect("count");
    const first = await connected(url);
    const second = await connected(url);
    await sleep(200);
    assert.deepEqual(
      counted.map((m) => m.socket.id),
      [first.id, second.id],
    );
    assert.deepEqual(closedCalls, []);
  });

  it("a connection attempted during a deploy waits and is decided by the new flow", async function () {
    const oldFlow = tab(port, start("start", ["ok"]), fn("ok", ADMIT, ["end"]), end("end"), {
      id: "slow",
      type: "slow-close",
    });
    const newFlow = tab(port, start("start", ["no"]), fn("no", REFUSE, ["end"]), end("end", "new flow refuses"));
    await helper.load(nodes, oldFlow);
    await connected(url); // the old flow admits everyone

    const closing = new Promise<void>((resolve) => (onSlowClose = resolve));
    const deploying = helper.setFlows(newFlow, "full");
    try {
      await closing; // the deploy has begun and is held open for 300 ms
      const c = client(url);
      const result = await outcome(c, 5000);
      assert.equal(result.admitted, false, "the client slipped through during the deploy");
      if (!result.admitted) assert.equal(result.err.message, "new flow refuses");
    } finally {
      onSlowClose = () => undefined;
      await deploying;
    }
  });

  for (const type of ["full", "nodes"] as const) {
    it(`a connection inside the middleware flow when its start node is redeployed (${type}) is decided by the new flow`, async function () {
      const base = (startNode: Record<string, unknown>): Flow =>
        tab(port, startNode, sink("held"), fn("ok", ADMIT, ["end"]), end("end"));
      // The old start node hands the connection to a flow that never answers (timeout 10 s).
      await helper.load(nodes, base(start("start", ["held"], { timeout: 10 })));
      const held = collect("held");
      const c = client(url);
      const ended = outcome(c, 4000);
      await until(() => held.length === 1, 3000, "the connection to enter the middleware flow");

      await helper.setFlows(base(start("start", ["ok"], { timeout: 9 })), type);
      const result = await ended;
      assert.equal(result.admitted, true, result.admitted ? "" : `refused: ${result.err.message}`);
    });
  }
});
