import { strict as assert } from "node:assert";
import {
  at,
  DECIDE,
  endNode,
  functionNode,
  onNode,
  serverConfig,
  startNode,
  type FlowNode,
  type Props,
} from "../flow-fixtures";
import {
  callsOn,
  cleanup,
  client,
  connected,
  coreNodes,
  freePort,
  helper,
  load,
  refusal,
  warningsOf,
} from "../helpers";

// Finding 1: a middleware start node that cannot run must still guard its namespace.

/** A start node -> token check -> end node on `namespace`, with the start node's settings overridden. */
function guarded(port: number, start: Props, server: FlowNode = serverConfig(port)): FlowNode[] {
  const namespace = String(start.namespace ?? "/");
  return [
    { id: "tab", type: "tab", label: "security" },
    server,
    at("tab", 100, 100, startNode("start", ["check"], start)),
    at("tab", 300, 100, functionNode("check", DECIDE.tokenIsSecret, ["end"])),
    at("tab", 500, 100, endNode("end")),
    // An on node keeps the namespace served whatever the start node does.
    at(
      "tab",
      100,
      200,
      onNode("on", "connection", [], { namespace: namespace.startsWith("/") ? namespace : `/${namespace}` }),
    ),
  ];
}

/** Loads a flow with Node-RED's function node. */
const loadFlow = (flow: FlowNode[]): Promise<void> => load(flow, [coreNodes.function]);

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
      await loadFlow(guarded(port, settings));
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
    await loadFlow(guarded(port, { timeout: "ten" }));
    await refusal(client(url, { auth: { token: "secret" } }));
    await helper.unload();
    await loadFlow(guarded(port, { timeout: 5 }));
    await connected(url, { auth: { token: "secret" } });
    assert.equal((await refusal(client(url, { auth: { token: "guess" } }))).message, "unauthorized");
  });

  it("warns at deploy when the Timeout is not shorter than the server's Connect timeout", async function () {
    const port = await freePort();
    await loadFlow(guarded(port, { timeout: 30 }, serverConfig(port, { connectTimeout: 20000 })));
    assert.deepEqual(warningsOf("start"), ["socket-io-middleware-start.warn.connectTimeout"]);
    await cleanup();
    await loadFlow(guarded(port, { timeout: 10 }, serverConfig(port, { connectTimeout: 20000 })));
    assert.deepEqual(callsOn("start", "warn"), []);
  });

  it("guards the namespace when its server node clashes with the server already on that port", async function () {
    const port = await freePort();
    // srv serves the namespace; srv2 wants the same port with another ping interval, so it is not
    // started, and the start node that uses it cannot run its flow.
    const flow = guarded(port, { server: "srv2" });
    flow.push(serverConfig(port, { pingInterval: 5000, id: "srv2" }));
    await loadFlow(flow);
    const url = `http://127.0.0.1:${port}`;
    assert.match((await refusal(client(url, { auth: { token: "guess" } }))).message, /middleware is misconfigured/);
    assert.match((await refusal(client(url, { auth: { token: "secret" } }))).message, /middleware is misconfigured/);
  });
});
