import { strict as assert } from "node:assert";
import { createServer, type Server as NetServer } from "node:net";
import { registry } from "../src/nodes/core/server-registry";
import { serverConfig } from "./flow-fixtures";
import { callsOn, cleanup, connected, everRed, freePort, helper, load, next, statusesOf, until } from "./helpers";
import { get } from "./http-get";
import { listenOnce } from "./ports";
import { answered, echo, entryOf, refused } from "./server-kit";

describe("socket-io-server on its own port", function () {
  afterEach(cleanup);

  it("accepts clients over WebSocket and over long-polling", async function () {
    const port = await freePort();
    await load([serverConfig(port), ...echo("srv")]);
    const url = `http://127.0.0.1:${port}`;
    const ws = await connected(url);
    const polling = await connected(url, { transports: ["polling"] });
    assert.equal(ws.io.engine.transport.name, "websocket");
    assert.equal(polling.io.engine.transport.name, "polling");
    await answered(ws);
    await answered(polling);
  });

  it("serves the browser client at <path>/socket.io.js, unless told not to", async function () {
    const [on, off] = [await freePort(), await freePort()];
    await load([serverConfig(on), serverConfig(off, { id: "srv2", serveClient: false })]);
    const served = await get(`http://127.0.0.1:${on}/socket.io/socket.io.js`);
    assert.equal(served.status, 200);
    assert.match(String(served.headers["content-type"]), /javascript/);
    assert.match(served.body, /io/);
    const notServed = await get(`http://127.0.0.1:${off}/socket.io/socket.io.js`);
    assert.notEqual(notServed.status, 200);
  });

  it("listens at a custom path, and nothing answers Socket.IO at the default path", async function () {
    const port = await freePort();
    await load([serverConfig(port, { path: "/rt" }), ...echo("srv")]);
    const url = `http://127.0.0.1:${port}`;
    await answered(await connected(url, { path: "/rt" }));
    await refused(url);
    assert.equal((await get(`${url}/socket.io/?EIO=4&transport=polling`)).status, 404);
    assert.equal((await get(`${url}/`)).status, 404);
  });

  describe("CORS origins", function () {
    it("a listed origin gets the CORS header on long-polling and connects over WebSocket", async function () {
      const port = await freePort();
      await load([serverConfig(port, { corsOrigins: "https://good.example" }), ...echo("srv")]);
      const url = `http://127.0.0.1:${port}`;
      const poll = await get(`${url}/socket.io/?EIO=4&transport=polling`, { Origin: "https://good.example" });
      assert.equal(poll.status, 200);
      assert.equal(poll.headers["access-control-allow-origin"], "https://good.example");
      await answered(await connected(url, { extraHeaders: { origin: "https://good.example" } }));
    });

    it("another origin is refused, over long-polling and over WebSocket", async function () {
      const port = await freePort();
      await load([serverConfig(port, { corsOrigins: "https://good.example" })]);
      const url = `http://127.0.0.1:${port}`;
      const poll = await get(`${url}/socket.io/?EIO=4&transport=polling`, { Origin: "https://evil.example" });
      assert.notEqual(poll.status, 200);
      assert.notEqual(poll.headers["access-control-allow-origin"], "https://evil.example");
      await refused(url, { extraHeaders: { origin: "https://evil.example" } });
      assert.equal(registry.get(`port:${port}`)!.io.of("/").sockets.size, 0);
    });

    it("a client that sends no Origin (not a browser) connects", async function () {
      const port = await freePort();
      await load([serverConfig(port, { corsOrigins: "https://good.example" }), ...echo("srv")]);
      await answered(await connected(`http://127.0.0.1:${port}`));
    });

    it('"*" allows any origin', async function () {
      const port = await freePort();
      await load([serverConfig(port, { corsOrigins: "*" }), ...echo("srv")]);
      const url = `http://127.0.0.1:${port}`;
      const poll = await get(`${url}/socket.io/?EIO=4&transport=polling`, { Origin: "https://evil.example" });
      assert.equal(poll.status, 200);
      assert.equal(poll.headers["access-control-allow-origin"], "*");
      await answered(await connected(url, { extraHeaders: { origin: "https://evil.example" } }));
    });
  });

  describe("two config nodes on one port", function () {
    it("with the same settings share one server, and the clients of both are served", async function () {
      const port = await freePort();
      await load([
        serverConfig(port),
        serverConfig(port, { id: "srv2" }),
        ...echo("srv", "ping", "pong", "1"),
        ...echo("srv2", "ping2", "pong2", "2"),
      ]);
      assert.equal(registry.size, 1);
      assert.equal(entryOf("srv"), entryOf("srv2"));
      const url = `http://127.0.0.1:${port}`;
      const [a, b] = [await connected(url), await connected(url)];
      await answered(a, "ping", "pong");
      await answered(b, "ping2", "pong2");
    });

    for (const [what, other] of [
      ["path", { path: "/other" }],
      ["ping interval", { pingInterval: 1000 }],
    ] as const) {
      it(`with another ${what}: the second one reports a clear error naming the first, and the first keeps working`, async function () {
        const port = await freePort();
        await load([
          serverConfig(port, { name: "chat server" }),
          serverConfig(port, { id: "srv2", ...other }),
          ...echo("srv", "ping", "pong", "1"),
          ...echo("srv2", "ping2", "pong2", "2"),
        ]);
        await until(() => callsOn("srv2", "error").length > 0, 2000, "an error on the second config node");
        // In the test helper RED._ returns the i18n key, and the core's words show as code and values.
        assert.deepEqual(callsOn("srv2", "error")[0], ["socket-io-server.errors.settings"]);
        const failure = (helper.getNode("srv2") as unknown as { failure?: { text: string; status: string } }).failure;
        const setting = Object.keys(other)[0];
        assert.equal(
          failure?.text,
          `core.server.conflictPort {"other":"chat server","settings":["label.${setting}"],"port":${port}}`,
        );
        assert.equal(failure?.status, "conflict");
        assert.deepEqual(callsOn("srv", "error"), []);
        // The flow nodes of the refused server say so, briefly.
        await until(() => everRed("on2"), 2000, "a red status on the second server's on node");
        assert.match(String(statusesOf("on2").at(-1)?.text), /socket-io-server\.status\.conflict$/);
        assert.equal(registry.size, 1);
        await answered(await connected(`http://127.0.0.1:${port}`), "ping", "pong");
      });
    }
  });

  describe("a port another program holds", function () {
    let blocker: NetServer | undefined;
    afterEach(async function () {
      await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
      blocker = undefined;
    });

    it("is reported as in use, the flow nodes turn red, and the runtime keeps running", async function () {
      const port = await freePort();
      blocker = createServer();
      await new Promise<void>((resolve) => blocker!.listen(port, resolve));
      await load([serverConfig(port), ...echo("srv")]);
      const inUse = `core.server.portInUse {"port":${port}}`;
      await until(
        () => callsOn("srv", "error").some(([m]) => m === inUse),
        2000,
        "an 'already in use' error naming the port",
      );
      const portInUse = (id: string) => () =>
        statusesOf(id).some((s) => s.fill === "red" && /socket-io-server\.status\.portInUse$/.test(String(s.text)));
      await until(portInUse("on"), 2000, "a red 'port in use' status on the on node");
      await until(portInUse("emit"), 2000, "a red 'port in use' status on the emit node");

      // Still alive: a deploy that picks a free port works.
      const other = await freePort();
      await helper.setFlows([serverConfig(other), ...echo("srv")], "full");
      await answered(await connected(`http://127.0.0.1:${other}`));
    });
  });

  it("deleting the config node disconnects its clients and frees the port", async function () {
    const port = await freePort();
    await load([serverConfig(port), ...echo("srv")]);
    const c = await connected(`http://127.0.0.1:${port}`);
    const gone = next(c, "disconnect");
    await helper.setFlows([{ id: "h", type: "helper" }], "full");
    await gone;
    assert.equal(registry.size, 0);
    await listenOnce(port);
  });
});
