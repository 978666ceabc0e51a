import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitNode, onEvent, serverConfig } from "./flow-fixtures";
import { cleanup, connected, coreNodes, freePort, load, next } from "./helpers";
import { get } from "./http-get";
import { answered, echo, entryOf, refused } from "./server-kit";

describe("socket-io-server settings", function () {
  afterEach(cleanup);

  describe("settings", function () {
    it("ping, buffer size and connection-state recovery reach the Socket.IO server", async function () {
      const port = await freePort();
      await load([
        serverConfig(port, {
          pingInterval: 5000,
          pingTimeout: 4000,
          maxHttpBufferSize: 2048,
          recovery: true,
          recoveryDuration: 30000,
        }),
        ...echo("srv"),
      ]);
      await connected(`http://127.0.0.1:${port}`);
      const { io } = entryOf("srv");
      assert.equal(io.engine.opts.pingInterval, 5000);
      assert.equal(io.engine.opts.pingTimeout, 4000);
      assert.equal(io.engine.opts.maxHttpBufferSize, 2048);
      assert.equal(io._opts.connectionStateRecovery?.maxDisconnectionDuration, 30000);
    });

    it("with connection-state recovery, a client whose connection drops gets its session back", async function () {
      const port = await freePort();
      await load([
        serverConfig(port, { recovery: true }),
        onEvent("on", "ping", ["emit"]),
        // A broadcast carries the offset the client hands back when it reconnects.
        emitNode("emit", "all", "news"),
      ]);
      const c = await connected(`http://127.0.0.1:${port}`, {
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 100,
      });
      const id = c.id;
      c.emit("ping", 1);
      assert.equal(await next(c, "news"), 1);
      const back = next(c, "connect");
      c.io.engine.close();
      await back;
      assert.equal(c.recovered, true);
      assert.equal(c.id, id);
    });

    it("a client message above the max buffer size closes that client's connection", async function () {
      const port = await freePort();
      await load([serverConfig(port, { maxHttpBufferSize: 2048 }), ...echo("srv")]);
      const c = await connected(`http://127.0.0.1:${port}`);
      await answered(c);
      const gone = next<string>(c, "disconnect");
      c.emit("ping", "x".repeat(5000));
      assert.equal(await gone, "transport close");
    });

    it("the advanced options JSON is merged last", async function () {
      const port = await freePort();
      await load([
        serverConfig(port, { pingInterval: 5000, options: '{"pingInterval": 1234, "connectTimeout": 7000}' }),
      ]);
      const { io } = entryOf("srv");
      assert.equal(io.engine.opts.pingInterval, 1234);
      assert.equal(io._opts.connectTimeout, 7000);
    });
  });

  describe("TLS", function () {
    let dir = "";
    let cert = "";
    let key = "";
    before(function () {
      this.timeout(20000);
      dir = mkdtempSync(join(tmpdir(), "socket-io-tls-"));
      cert = join(dir, "cert.pem");
      key = join(dir, "key.pem");
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-subj",
          "/CN=localhost",
          "-days",
          "1",
          "-keyout",
          key,
          "-out",
          cert,
        ],
        { stdio: "ignore" },
      );
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("with a tls-config node the server speaks HTTPS and WSS", async function () {
      const port = await freePort();
      await load(
        [
          {
            id: "tls",
            type: "tls-config",
            cert,
            key,
            ca: "",
            certname: "cert.pem",
            keyname: "key.pem",
            caname: "",
            servername: "",
            verifyservercert: false,
          },
          serverConfig(port, { usetls: true, tls: "tls" }),
          ...echo("srv"),
        ],
        // Node-RED's tls-config node, as users pick it in the server's "Use TLS" setting.
        [coreNodes.tls],
      );
      const url = `https://127.0.0.1:${port}`;
      const wss = await connected(url, { rejectUnauthorized: false });
      await answered(wss);
      await answered(await connected(url, { transports: ["polling"], rejectUnauthorized: false }));
      assert.equal((await get(`${url}/socket.io/socket.io.js`)).status, 200);
      // Plain HTTP is not spoken on that port.
      await refused(`http://127.0.0.1:${port}`);
    });
  });
});
