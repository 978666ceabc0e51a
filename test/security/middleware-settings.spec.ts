import { strict as assert } from "node:assert";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  allNodes,
  callsOn,
  cleanup,
  client,
  connected,
  freePort,
  helper,
  serverConfig,
  type FlowNode,
} from "../helpers";

// Finding 1: a middleware start node that cannot run must still guard its namespace.
const functionNode = require("@node-red/nodes/core/function/10-function.js");
const nodes = [...allNodes, functionNode];

const CHECK_TOKEN = `msg.payload = msg.socket.handshake.auth.token === "secret"; return msg;`;

/** A start node -> token check -> end node on `namespace`, with the start node's settings overridden. */
function guarded(port: number, start: Record<string, unknown>, server: FlowNode = serverConfig(port)): FlowNode[] {
  return [
    { id: "tab", type: "tab", label: "security" },
    server,
    {
      id: "start",
      type: "socket-io-middleware-start",
      z: "tab",
      x: 100,
      y: 100,
      server: "srv",
      namespace: "/",
      timeout: 10,
      order: 0,
      wires: [["check"]],
      ...start,
    },
    { id: "check", type: "function", z: "tab", x: 300, y: 100, func: CHECK_TOKEN, outputs: 1, wires: [["end"]] },
    { id: "end", type: "socket-io-middleware-end", z: "tab", x: 500, y: 100, errMsg: "", wires: [] },
    // An on node keeps the namespace served whatever the start node does.
    {
      id: "on",
      type: "socket-io-on",
      z: "tab",
      x: 100,
      y: 200,
      server: "srv",
      namespace: String(start.namespace ?? "/").startsWith("/") ? (start.namespace ?? "/") : `/${start.namespace}`,
      listenFor: "connection",
      wires: [[]],
    },
  ];
}

/** The connect_error of a client that must be refused; fails the test when it is admitted. */
function refusal(c: ClientSocket, ms = 3000): Promise<Error> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`neither connect nor connect_error within ${ms} ms`)), ms);
    c.once("connect", () => {
      clearTimeout(timer);
      reject(new Error("the client was admitted"));
    });
    c.once("connect_error", (err: Error) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

describe("security: a middleware start node with bad settings fails closed", function () {
  afterEach(cleanup);

  const badSettings: Array<[string, Record<string, unknown>, string]> = [
    ["a Timeout that is not a number", { timeout: "ten" }, "/"],
    ["a Timeout of 0", { timeout: 0 }, "/"],
    ["an Order that is not a number", { order: "first" }, "/"],
    ["a Namespace without its leading slash", { namespace: "chat" }, "/chat"],
  ];
  for (const [what, settings, namespace] of badSettings) {
    it(`refuses every client, bad token or good, on a namespace whose start node has ${what}`, async function () {
      const port = await freePort();
      await helper.load(nodes, guarded(port, settings));
      const url = `http://127.0.0.1:${port}${namespace === "/" ? "" : namespace}`;
      const bad = await refusal(client(url, { auth: { token: "guess" } }));
      assert.match(bad.message, /middleware is misconfigured/);
      const good = await refusal(client(url, { auth: { token: "secret" } }));
      assert.match(good.message, /middleware is misconfigured/);
      // The deploy said what is wrong, on the start node itself.
      const errors = callsOn("start", "error").map((args) => String(args[0]));
      assert.equal(errors.length, 1, `one error at deploy: ${errors.join(" | ")}`);
    });
  }

  it("admits the good token again once the settings are fixed", async function () {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await helper.load(nodes, guarded(port, { timeout: "ten" }));
    await refusal(client(url, { auth: { token: "secret" } }));
    await helper.unload();
    await helper.load(nodes, guarded(port, { timeout: 5 }));
    await connected(url, { auth: { token: "secret" } });
    assert.equal((await refusal(client(url, { auth: { token: "guess" } }))).message, "unauthorized");
  });

  it("warns at deploy when the Timeout is not shorter than the server's Connect timeout", async function () {
    const port = await freePort();
    await helper.load(nodes, guarded(port, { timeout: 30 }, serverConfig(port, { connectTimeout: 20000 })));
    assert.deepEqual(
      callsOn("start", "warn").map((args) => String(args[0])),
      ["socket-io-middleware-start.warn.connectTimeout"],
    );
    await cleanup();
    await helper.load(nodes, guarded(port, { timeout: 10 }, serverConfig(port, { connectTimeout: 20000 })));
    assert.deepEqual(callsOn("start", "warn"), []);
  });

  it("guards the namespace when its server node clashes with the server already on that port", async function () {
    const port = await freePort();
    // srv serves the namespace; srv2 wants the same port with another ping interval, so it is not
    // started, and the start node that uses it cannot run its flow.
    const flow = guarded(port, { server: "srv2" });
    flow.push({ ...serverConfig(port, { pingInterval: 5000 }), id: "srv2" });
    await helper.load(nodes, flow);
    const url = `http://127.0.0.1:${port}`;
    assert.match((await refusal(client(url, { auth: { token: "guess" } }))).message, /middleware is misconfigured/);
    assert.match((await refusal(client(url, { auth: { token: "secret" } }))).message, /middleware is misconfigured/);
  });
});
