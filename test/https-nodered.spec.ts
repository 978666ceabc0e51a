// Node-RED on https (settings.js `https`): the endpoint on Node-RED's own server speaks wss, in a
// real node-red process with a self-signed certificate.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import { TLSSocket } from "node:tls";
import type { WebSocket } from "ws";
import { answerNodes, onTab } from "./flow-fixtures";
import { closeClients, connected, freePort, until } from "./helpers";
import { get } from "./http-get";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";
import { selfSigned, type SelfSigned } from "./self-signed";
import { answered, refused } from "./server-kit";

/** The WebSocket under a socket.io-client's engine (engine.io-client's Node transport uses `ws`). */
const webSocketOf = (c: { io: { engine: { transport: unknown } } }): WebSocket =>
  (c.io.engine.transport as { ws: WebSocket }).ws;

describe("Node-RED on https: the endpoint on Node-RED's server speaks wss (a real node-red process)", function () {
  this.timeout(60_000);
  let tls: SelfSigned | undefined;
  let red: NodeRedProcess | undefined;
  let port = 0;

  before(async function () {
    tls = selfSigned();
    port = await freePort();
    red = await startNodeRed({ port, https: { key: tls.key, cert: tls.cert } });
    const server = { id: "srv", type: "socket-io-server", listen: "nodered", path: "/socket.io", serveClient: true };
    await red.deploy(onTab("https", [server, ...answerNodes("on", "ping", "emit", "pong")]));
    const line = "socket.io listening on Node-RED's HTTP server at /socket.io\n";
    await until(() => red!.output().includes(line), 10_000, "the listening line in the log");
  });
  after(async function () {
    closeClients();
    if (red) await red.stop();
    tls?.remove();
  });
  afterEach(closeClients);

  it("a WebSocket-only client connects over wss:// with the certificate, and an event goes through the flow and back", async function () {
    assert.equal(red!.url, `https://127.0.0.1:${port}`);
    const c = await connected(red!.url, { transports: ["websocket"], ca: tls!.cert });
    await answered(c);
    assert.equal(c.io.engine.transport.name, "websocket");
    const ws = webSocketOf(c);
    assert.match(ws.url, new RegExp(`^wss://127\\.0\\.0\\.1:${port}/socket\\.io/\\?EIO=4&transport=websocket`));
    // The frames run over TLS, with the certificate Node-RED was given.
    const socket = (ws as unknown as { _socket: unknown })._socket;
    assert.ok(socket instanceof TLSSocket, "the WebSocket's socket is a TLS socket");
    assert.equal(socket.encrypted, true);
    assert.match(String(socket.getProtocol()), /^TLSv1\.[23]$/);
    assert.equal(socket.getPeerCertificate().fingerprint256, new X509Certificate(tls!.cert).fingerprint256);
  });

  it("a plain ws:// attempt on the same port fails, and so does a client that does not trust the certificate", async function () {
    await refused(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
    await refused(red!.url, { transports: ["websocket"] });
    // The endpoint is still there for a client that trusts it.
    await answered(await connected(red!.url, { transports: ["websocket"], ca: tls!.cert }));
  });

  it("polling over https and socket.io.js work too", async function () {
    const c = await connected(red!.url, { transports: ["polling"], ca: tls!.cert });
    await answered(c);
    assert.equal((c.io.engine as unknown as { secure: boolean }).secure, true, "the polling requests use https");
    const js = await get(`${red!.url}/socket.io/socket.io.js`);
    assert.equal(js.status, 200);
    assert.doesNotMatch(red!.output(), /\[error\]/);
  });
});
