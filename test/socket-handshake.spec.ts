import { strict as assert } from "node:assert";
import { RETIRED_BYTES, RETIRED_MS, SocketHandle } from "../src/nodes/core/socket-handle";
import { util as nodeRedUtil } from "@node-red/util";
import { helperNode, onNode, serverConfig } from "./flow-fixtures";
import { cleanup, collect, connected, freePort, load, until, type Msg } from "./helpers";

// What a flow reads of msg.socket.handshake, and what is kept of it once the client has left.
describe("msg.socket.handshake", function () {
  afterEach(cleanup);
  it("carries the handshake: headers, query, auth, address, time and url", async function () {
    const port = await freePort();
    await load([serverConfig(port), onNode("onConn", "connection", ["hConn"], { event: "" }), helperNode("hConn")]);
    const conns = collect("hConn");
    const c = await connected(`http://127.0.0.1:${port}`, {
      query: { token: "abc" },
      auth: { user: "u1" },
      extraHeaders: { "x-test": "yes" },
    });
    await until(() => conns.length === 1, 2000, "the connection msg");
    const h = conns[0].socket.handshake;
    assert.equal(h.headers["x-test"], "yes");
    assert.equal(h.headers.host, `127.0.0.1:${port}`);
    assert.equal(h.query.token, "abc");
    assert.deepEqual(h.auth, { user: "u1" });
    assert.match(h.address, /127\.0\.0\.1/);
    assert.ok(Math.abs(Date.parse(h.time) - Date.now()) < 60_000, `time ${h.time}`);
    assert.match(h.url, /^\/socket\.io\/\?.*token=abc/);
    assert.equal(conns[0].socket.id, c.id);
  });

  it("is cheap to clone: a copy holds three strings and still reads the handshake, also just after a disconnect (but not its auth)", async function () {
    const port = await freePort();
    await load([serverConfig(port), onNode("onConn", "connection", ["hConn"], { event: "" }), helperNode("hConn")]);
    const conns = collect("hConn");
    const c = await connected(`http://127.0.0.1:${port}`, {
      auth: { user: "u1" },
      query: { q: "1" },
      extraHeaders: { "x-test": "yes" },
    });
    await until(() => conns.length === 1, 2000, "the connection msg");
    const copy = nodeRedUtil.cloneMessage(conns[0]).socket;
    assert.deepEqual(Object.keys(copy).sort(), ["id", "namespace", "serverKey"]);
    assert.deepEqual(copy.handshake.auth, { user: "u1" });
    c.disconnect();
    await until(() => !copy.connected, 2000, "the disconnect");
    // A flow about the disconnect still reads headers, query and address; the auth is not kept.
    const after = copy.handshake;
    assert.equal(after.headers["x-test"], "yes");
    assert.equal(after.query.q, "1");
    assert.match(after.address, /127\.0\.0\.1/);
    assert.deepEqual(after.auth, {});
    // What a flow writes into it is not kept either.
    after.headers["x-test"] = "changed";
    assert.equal(copy.handshake.headers["x-test"], "yes");
  });

  it("keeps the handshakes of departed sockets within RETIRED_BYTES in all, dropping the oldest first", async function () {
    this.timeout(30_000);
    const port = await freePort();
    await load([serverConfig(port), onNode("onConn", "connection", ["hConn"], { event: "" }), helperNode("hConn")]);
    const conns = collect("hConn");
    // Each about 28 KB as estimated (14,000 characters at two bytes), under Node's 16 KB header limit;
    // they all leave within RETIRED_MS, so it is the byte bound that drops the oldest.
    const big = "h".repeat(14_000);
    const count = Math.ceil(RETIRED_BYTES / (2 * big.length)) + 20;
    const began = Date.now();
    const leave = async (i: number): Promise<void> => {
      const c = await connected(`http://127.0.0.1:${port}`, { extraHeaders: { "x-big": big, "x-n": String(i) } });
      c.disconnect();
    };
    // Five at a time, in order: the last five leave last.
    for (let i = 0; i < count; i += 5)
      await Promise.all([0, 1, 2, 3, 4].filter((k) => i + k < count).map((k) => leave(i + k)));
    await until(
      () => conns.length === count && conns.every((m) => m.socket.connected === false),
      3000,
      "every disconnect",
    );
    assert.ok(Date.now() - began < RETIRED_MS, `${count} clients left within ${RETIRED_MS} ms`);
    const usage = SocketHandle.retiredUsage();
    assert.ok(usage.bytes <= RETIRED_BYTES, `${usage.bytes} bytes kept`);
    assert.ok(usage.bytes > RETIRED_BYTES - 4 * 2 * big.length, `${usage.bytes} bytes kept: the bound is filled`);
    assert.ok(usage.count < count, `${usage.count} of ${count} departed sockets kept`);
    const byN = (n: number): Msg | undefined => conns.find((m) => m.socket.handshake.headers["x-n"] === String(n));
    assert.ok(byN(count - 1)?.socket, "the latest departure is kept");
    assert.deepEqual(conns[0].socket.handshake.headers, {}, "one of the first five to leave is not");
  });
});
