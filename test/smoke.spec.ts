import { strict as assert } from "node:assert";
import { allNodes, cleanup, connected, freePort, helper, next } from "./helpers";

describe("smoke", function () {
  afterEach(cleanup);

  it("a client event reaches the flow and the reply reaches the client", async function () {
    const port = await freePort();
    await helper.load(allNodes, [
      { id: "srv", type: "socket-io-server", listen: "port", port, path: "/socket.io", corsOrigins: "*" },
      { id: "on", type: "socket-io-on", server: "srv", namespace: "/", listenFor: "event", event: "ping", wires: [["emit"]] },
      { id: "emit", type: "socket-io-emit", server: "srv", namespace: "/", event: "pong", eventType: "str", target: "socket", wires: [] },
    ]);
    const c = await connected(`http://127.0.0.1:${port}`);
    c.emit("ping", 42);
    assert.equal(await next(c, "pong"), 42);
  });
});
