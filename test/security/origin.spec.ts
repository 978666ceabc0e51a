import { strict as assert } from "node:assert";
import { request } from "node:http";
import WebSocket from "ws";
import { serverConfig } from "../flow-fixtures";
import { cleanup, freePort, load } from "../helpers";

// Finding 5: a DNS-rebinding page sends its own name in Origin and in Host. With an origin list set,
// only the listed origins pass, over long-polling and WebSocket alike.

/** The status of a long-polling handshake with these headers. */
function pollingStatus(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/socket.io/?EIO=4&transport=polling", headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("error", reject);
    req.end();
  });
}

/** "open" when a WebSocket handshake with these headers is accepted, else the HTTP status it got. */
function webSocketOutcome(port: number, headers: Record<string, string>): Promise<"open" | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { headers });
    ws.once("open", () => {
      ws.terminate();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", (err) => reject(err));
  });
}

describe("security: origins and DNS rebinding", function () {
  afterEach(cleanup);

  it("with one listed origin, a page whose Origin and Host name the attacker's host is refused", async function () {
    const port = await freePort();
    await load([serverConfig(port, { corsOrigins: "https://app.example" })]);
    const rebinding = { Origin: `http://evil.example:${port}`, Host: `evil.example:${port}` };
    assert.equal(await pollingStatus(port, rebinding), 403);
    assert.notEqual(await webSocketOutcome(port, rebinding), "open");
    // The listed origin, and a client that sends no Origin at all (a device, a script), still connect.
    assert.equal(await pollingStatus(port, { Origin: "https://app.example" }), 200);
    assert.equal(await webSocketOutcome(port, { Origin: "https://app.example" }), "open");
    assert.equal(await pollingStatus(port, {}), 200);
    assert.equal(await webSocketOutcome(port, {}), "open");
  });

  it("with no origin listed (same origin only), the Origin's scheme must be the request's", async function () {
    const port = await freePort();
    await load([serverConfig(port, { corsOrigins: "" })]);
    const host = `127.0.0.1:${port}`;
    assert.equal(await pollingStatus(port, { Origin: `http://${host}`, Host: host }), 200);
    assert.equal(await webSocketOutcome(port, { Origin: `http://${host}`, Host: host }), "open");
    assert.equal(await pollingStatus(port, { Origin: `https://${host}`, Host: host }), 403);
    assert.notEqual(await webSocketOutcome(port, { Origin: `https://${host}`, Host: host }), "open");
    assert.equal(await pollingStatus(port, { Origin: "https://other.example", Host: host }), 403);
  });

  it('"null" and "file://" pass only when listed', async function () {
    const port = await freePort();
    await load([serverConfig(port, { corsOrigins: "https://app.example" })]);
    for (const origin of ["null", "file://"]) {
      assert.equal(await pollingStatus(port, { Origin: origin }), 403, origin);
      assert.notEqual(await webSocketOutcome(port, { Origin: origin }), "open", origin);
    }
    await cleanup();
    await load([serverConfig(port, { corsOrigins: "https://app.example, null, file://" })]);
    for (const origin of ["null", "file://"]) {
      assert.equal(await pollingStatus(port, { Origin: origin }), 200, origin);
      assert.equal(await webSocketOutcome(port, { Origin: origin }), "open", origin);
    }
  });
});
