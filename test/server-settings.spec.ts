import { strict as assert } from "node:assert";
import type { IncomingMessage } from "node:http";
import { differences, fingerprint, originAllowed, parseServerSettings, socketIoOptions } from "../nodes/core/server-settings";

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe("server settings (core)", function () {
  it("fills in Socket.IO's defaults for an own port", function () {
    const s = parseServerSettings({ listen: "port", port: "3001" });
    assert.equal(s.port, 3001);
    assert.equal(s.path, "/socket.io");
    assert.equal(s.corsOrigins, "*");
    assert.equal(s.serveClient, true);
    assert.equal(s.pingInterval, 25000);
    assert.equal(s.maxHttpBufferSize, 1_000_000);
    assert.equal(s.recovery, false);
  });

  it("refuses a port outside 1..65535 or not a number, naming the setting", function () {
    for (const port of ["70000", "0", "abc", "", "3.5"]) {
      assert.throws(() => parseServerSettings({ listen: "port", port }), /port must be a whole number from 1 to 65535/, `port ${port}`);
    }
  });

  it("does not need a port on Node-RED's own server", function () {
    assert.equal(parseServerSettings({ listen: "nodered", port: "" }).port, 0);
  });

  it("refuses advanced options that are not a JSON object, saying how to write one", function () {
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, options: "{bad" }), /advanced options are not valid JSON/);
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, options: "[1]" }), /must be a JSON object/);
  });

  it("merges advanced options last", function () {
    const opts = socketIoOptions(parseServerSettings({ listen: "port", port: 1, pingInterval: 1000, options: '{"pingInterval": 1234}' }));
    assert.equal(opts.pingInterval, 1234);
  });

  it("turns recovery on with its duration", function () {
    const opts = socketIoOptions(parseServerSettings({ listen: "port", port: 1, recovery: true, recoveryDuration: 5000 }));
    assert.equal(opts.connectionStateRecovery?.maxDisconnectionDuration, 5000);
  });

  it("refuses a malformed origin and a path without a leading slash", function () {
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, corsOrigins: "example.com" }), /is not an origin/);
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, path: "socket.io" }), /must start with "\/"/);
  });

  it("checks the Origin header: listed, same origin, or none at all", function () {
    const allowed = parseServerSettings({ listen: "port", port: 1, corsOrigins: "https://good.example, http://localhost:3000/" }).corsOrigins;
    assert.ok(originAllowed(allowed, request({ origin: "https://good.example", host: "x:1" })));
    assert.ok(originAllowed(allowed, request({ origin: "http://localhost:3000", host: "x:1" })));
    assert.ok(originAllowed(allowed, request({ host: "x:1" })), "a non-browser client sends no Origin");
    assert.ok(originAllowed(allowed, request({ origin: "http://x:1", host: "x:1" })), "same origin");
    assert.ok(!originAllowed(allowed, request({ origin: "https://evil.example", host: "x:1" })));
    assert.ok(originAllowed("*", request({ origin: "https://evil.example", host: "x:1" })));
  });

  it("gives equal fingerprints for equal settings and names what differs", function () {
    const a = fingerprint(parseServerSettings({ listen: "port", port: 1 }));
    const b = fingerprint(parseServerSettings({ listen: "port", port: "1", path: "/socket.io/" }));
    const c = fingerprint(parseServerSettings({ listen: "port", port: 1, path: "/rt", pingInterval: 5 }));
    assert.equal(a, b);
    assert.deepEqual(differences(a, c), ["path", "pingInterval"]);
  });
});
