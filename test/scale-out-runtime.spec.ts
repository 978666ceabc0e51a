import { strict as assert } from "node:assert";
import { ackNode, ackWait, catchNode, emitNode, helperNode, onNode, onTab, serverConfig } from "./flow-fixtures";
import { cleanup, collect, connected, freePort, helper, load, sleep, until } from "./helpers";
import { REDIS_URL } from "./redis-tools";
import { redisRuntime, statusBecomes } from "./scale-out-runtime-kit";

describe("an instance event target with the in-memory adapter", function () {
  afterEach(cleanup);

  it("fails the msg with a Catch-able error that says to choose a Redis adapter, and Node-RED carries on", async function () {
    const port = await freePort();
    await load(
      onTab("scale-out", [
        serverConfig(port),
        emitNode("to-others", "instances", "hello"),
        emitNode("ask-others", "instances", "hello", ackWait(1000, "answers")),
        catchNode("caught"),
        helperNode("answers"),
        helperNode("caught"),
      ]),
    );
    const caught = collect("caught");
    helper.getNode("to-others").receive({ payload: 1 });
    helper.getNode("ask-others").receive({ payload: 2 });
    await until(() => caught.length === 2, 3000, "two errors");
    for (const msg of caught) assert.match(msg.error.message, /socket-io-emit\.errors\.instancesNeedRedis$/);
    assert.deepEqual(caught.map((m) => m.payload).sort(), [1, 2]);
  });
});

describe("instance events in one Node-RED runtime (test helper, real Redis)", function () {
  const env = redisRuntime();

  it("two servers on one Redis: an instance event is answered by the other server's flow, and never by a client's event of that name", async function () {
    const [portA, portB] = [await freePort(), await freePort()];
    const redisSettings = { adapter: "redis", redisUrl: REDIS_URL, redisPrefix: env.prefix };
    await load(
      onTab("scale-out", [
        serverConfig(portA, { ...redisSettings, id: "srvA" }),
        serverConfig(portB, { ...redisSettings, id: "srvB" }),
        onNode("countA", "connection", [], { server: "srvA" }),
        emitNode("ask-others", "instances", "whoami", { server: "srvA", ...ackWait(2000, "answers") }),
        // B answers an instance event with its first argument, and reports every client event.
        onNode("on-instance", "instance", ["heard", "reply"], { server: "srvB", event: "whoami" }),
        ackNode("reply", { server: "srvB" }),
        onNode("on-any", "any", ["any"], { server: "srvB" }),
        ...["answers", "heard", "any"].map((id) => helperNode(id)),
      ]),
    );
    const [answers, heard, any] = [collect("answers"), collect("heard"), collect("any")];
    await statusBecomes("countA", "status.redisClients");
    await statusBecomes("on-instance", "status.redisClients");

    // A client of B emits an event of the same name: only the client-event node hears it.
    const c = await connected(`http://127.0.0.1:${portB}`);
    c.emit("whoami", "from a client");
    await until(() => any.length === 1, 3000, "the client event");
    assert.equal(any[0].payload, "from a client");

    helper.getNode("ask-others").receive({ payload: "from A", topic: "t" });
    await until(() => answers.length === 1, 4000, "the answers");
    assert.deepEqual(answers[0].payload, ["from A"], "one answer, from the one other server");
    assert.equal(answers[0].topic, "t");
    assert.equal(heard.length, 1);
    assert.deepEqual(
      { event: heard[0].event, namespace: heard[0].namespace, payload: heard[0].payload, args: [...heard[0].args] },
      { event: "whoami", namespace: "/", payload: "from A", args: ["from A"] },
    );
    assert.equal(typeof heard[0].ack, "function");
    assert.equal(heard[0].socket, undefined, "an instance event has no socket");
    await sleep(200);
    assert.equal(any.length, 1, "the instance event reached no client-event node");
  });
});
