import { strict as assert } from "node:assert";
import { DECIDE, endNode, functionNode, helperNode, slowCloseBegins, startNode, type FlowNode } from "./flow-fixtures";
import { attempt, cleanup, client, collect, connected, freePort, helper, sleep, until } from "./helpers";
import { loadFlow, tab } from "./middleware-kit";

const { admit: ADMIT, refuse: REFUSE } = DECIDE;

describe("socket-io-middleware-start / -end across deploys", function () {
  afterEach(cleanup);

  let port: number;
  let url: string;
  beforeEach(async function () {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  });

  it("after repeated redeploys a connection runs the middleware once, and no closed start node is called", async function () {
    const flow = (version: number): FlowNode[] =>
      tab(
        port,
        startNode("start", ["ok", "count"], { name: `v${version}` }),
        functionNode("ok", ADMIT, ["end"]),
        endNode("end"),
        helperNode("count"),
      );
    await loadFlow(flow(0));
    const instances = [helper.getNode("start")];
    for (let v = 1; v <= 5; v++) {
      await helper.setFlows(flow(v), "full");
      instances.push(helper.getNode("start"));
    }
    // A "nodes" deploy that changes only the start node.
    await helper.setFlows(flow(6), "nodes");
    instances.push(helper.getNode("start"));
    assert.equal(new Set(instances).size, 7, "every deploy made a new start node");

    const closedCalls: Array<string | undefined> = [];
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
    const oldFlow = tab(port, startNode("start", ["ok"]), functionNode("ok", ADMIT, ["end"]), endNode("end"), {
      id: "slow",
      type: "slow-close",
      delay: 300,
    });
    const newFlow = tab(
      port,
      startNode("start", ["no"]),
      functionNode("no", REFUSE, ["end"]),
      endNode("end", "new flow refuses"),
    );
    await loadFlow(oldFlow);
    await connected(url); // the old flow admits everyone

    const closing = slowCloseBegins();
    const deploying = helper.setFlows(newFlow, "full");
    try {
      await closing; // the deploy has begun and is held open for 300 ms
      const c = client(url);
      const result = await attempt(c, 5000);
      assert.equal(result.admitted, false, "the client slipped through during the deploy");
      if (!result.admitted) assert.equal(result.err.message, "new flow refuses");
    } finally {
      await deploying;
    }
  });

  for (const type of ["full", "nodes"] as const) {
    it(`a connection inside the middleware flow when its start node is redeployed (${type}) is decided by the new flow`, async function () {
      const base = (start: FlowNode): FlowNode[] =>
        tab(port, start, helperNode("held"), functionNode("ok", ADMIT, ["end"]), endNode("end"));
      // The old start node hands the connection to a flow that never answers (timeout 10 s).
      await loadFlow(base(startNode("start", ["held"], { timeout: 10 })));
      const held = collect("held");
      const c = client(url);
      const ended = attempt(c, 4000);
      await until(() => held.length === 1, 3000, "the connection to enter the middleware flow");

      await helper.setFlows(base(startNode("start", ["ok"], { timeout: 9 })), type);
      const result = await ended;
      assert.equal(result.admitted, true, result.admitted ? "" : `refused: ${result.err.message}`);
    });
  }
});
