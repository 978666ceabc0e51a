import { strict as assert } from "node:assert";
import { DECIDE, endNode, functionNode, helperNode, onNode, startNode } from "./flow-fixtures";
import { cleanup, client, collect, connected, freePort, recordCalls, refusal, sleep, until } from "./helpers";
import { loadFlow, tab } from "./middleware-kit";

/** A copy made in this realm: objects a function node builds have another realm's prototypes. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const { tokenIsSecret: CHECK_TOKEN, admit: ADMIT, refuse: REFUSE } = DECIDE;

/** Every warning a node logs, as the i18n key (RED._ returns the key in tests). */
const warnings = (id: string): string[] => recordCalls(id, "warn");

describe("socket-io-middleware-start / -end", function () {
  afterEach(cleanup);

  let port: number;
  let url: string;
  beforeEach(async function () {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  });

  it("admits a client whose auth the flow accepts and refuses others with 'unauthorized'", async function () {
    await loadFlow(
      tab(port, startNode("start", ["check"]), functionNode("check", CHECK_TOKEN, ["end"]), endNode("end")),
    );
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
    await loadFlow(
      tab(port, startNode("start", ["check"]), functionNode("check", func, ["end"]), endNode("end", "go away")),
    );
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
    await loadFlow(tab(port, startNode("start", ["pass"]), functionNode("pass", func, ["end"]), endNode("end")));
    assert.equal((await refusal(client(url, { auth: { value: "true" } }))).message, "unauthorized");
    assert.equal((await refusal(client(url, { auth: { value: 1 } }))).message, "unauthorized");
    await connected(url, { auth: { value: true } });
  });

  it("msg.socket.data set in the middleware flow is seen by the connection event", async function () {
    const func = "msg.socket.data.user = { name: msg.payload.user }; msg.payload = true; return msg;";
    await loadFlow(
      tab(
        port,
        startNode("start", ["login"]),
        functionNode("login", func, ["end"]),
        endNode("end"),
        onNode("on", "connection", ["conn"]),
        helperNode("conn"),
      ),
    );
    const conns = collect("conn");
    const c = await connected(url, { auth: { user: "ada" } });
    await until(() => conns.length === 1, 3000, "the connection msg");
    assert.equal(conns[0].socket.id, c.id);
    assert.deepEqual(plain(conns[0].socket.data.user), { name: "ada" });
  });

  it("fails closed: a flow that drops the msg refuses the client after the timeout, with a warning", async function () {
    await loadFlow(
      tab(
        port,
        // "/": a switch node whose only rule never matches.
        startNode("start-switch", ["route"], { timeout: 1 }),
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
        startNode("start-null", ["drop"], { timeout: 1, namespace: "/null" }),
        functionNode("drop", "return null;", ["end"]),
        endNode("end"),
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
    await loadFlow(tab(port, startNode("start", ["twice"]), functionNode("twice", func, ["end"]), endNode("end")));
    const warned = warnings("end");
    await connected(url, { auth: { token: "secret" } });
    assert.equal((await refusal(client(url, { auth: { token: "guess" } }))).message, "unauthorized");
    await until(() => warned.length >= 2, 1000, "two warnings");
    await sleep(200);
    assert.deepEqual(warned, ["socket-io-middleware-end.warn.twice", "socket-io-middleware-end.warn.twice"]);
  });

  it("msg.next acts once: a msg wired to two end nodes admits once and the second end warns", async function () {
    await loadFlow(
      tab(
        port,
        startNode("start", ["ok"]),
        functionNode("ok", ADMIT, ["end1", "end2"]),
        endNode("end1"),
        endNode("end2"),
      ),
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
    await loadFlow(
      tab(
        port,
        startNode("mw-late", ["f-late"], { order: 5 }),
        functionNode("f-late", record("late"), ["end"]),
        startNode("mw-b", ["f-b"], { order: 1 }),
        functionNode("f-b", record("b"), ["end"]),
        startNode("mw-a", ["f-a"], { order: 1 }),
        functionNode("f-a", record("a"), ["end"]),
        startNode("mw-first", ["f-first"], { order: "-1" }),
        functionNode("f-first", record("first"), ["end"]),
        endNode("end"),
        onNode("on", "connection", ["conn"]),
        helperNode("conn"),
      ),
    );
    const conns = collect("conn");
    await connected(url);
    await until(() => conns.length === 1, 3000, "the connection msg");
    assert.deepEqual(plain(conns[0].socket.data.trail), ["first", "a", "b", "late"]);
  });

  it("when an earlier start node refuses, a later one is never reached", async function () {
    await loadFlow(
      tab(
        port,
        startNode("mw-2", ["second", "f-2"], { order: 2 }),
        functionNode("f-2", ADMIT, ["end"]),
        startNode("mw-1", ["f-1"], { order: 1 }),
        functionNode("f-1", CHECK_TOKEN, ["end"]),
        endNode("end"),
        helperNode("second"),
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
    await loadFlow(
      tab(
        port,
        startNode("start", ["no"], { namespace: "/admin" }),
        functionNode("no", REFUSE, ["end"]),
        endNode("end"),
        onNode("on", "connection", ["conn"]),
        helperNode("conn"),
      ),
    );
    assert.equal((await refusal(client(`${url}/admin`))).message, "unauthorized");
    await connected(url);
  });
});
