import { strict as assert } from "node:assert";
import type { IncomingMessage } from "node:http";
import { settingLabel } from "../src/nodes/core/problem";
import {
  differences,
  fingerprint,
  originAllowed,
  parseServerSettings,
  socketIoOptions,
} from "../src/nodes/core/server-settings";

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
      assert.throws(
        () => parseServerSettings({ listen: "port", port }),
        { code: "setting.integer", values: { setting: settingLabel("port"), min: 1, max: 65535, value: port } },
        `port ${port}`,
      );
    }
  });

  it("does not need a port on Node-RED's own server", function () {
    assert.equal(parseServerSettings({ listen: "nodered", port: "" }).port, 0);
  });

  it("refuses advanced options that are not a JSON object, saying how to write one", function () {
    assert.throws(
      () => parseServerSettings({ listen: "port", port: 1, options: "{bad" }),
      (err: { code?: string; values?: { error?: unknown } }) => {
        assert.equal(err.code, "setting.optionsJson");
        assert.match(String(err.values?.error), /JSON/, "JSON.parse's reason");
        return true;
      },
    );
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, options: "[1]" }), {
      code: "setting.optionsObject",
    });
  });

  it("merges advanced options last", function () {
    const opts = socketIoOptions(
      parseServerSettings({ listen: "port", port: 1, pingInterval: 1000, options: '{"pingInterval": 1234}' }),
    );
    assert.equal(opts.pingInterval, 1234);
  });

  it("turns recovery on with its duration", function () {
    const opts = socketIoOptions(
      parseServerSettings({ listen: "port", port: 1, recovery: true, recoveryDuration: 5000 }),
    );
    assert.equal(opts.connectionStateRecovery?.maxDisconnectionDuration, 5000);
  });

  it("refuses a malformed origin and a path without a leading slash", function () {
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, corsOrigins: "example.com" }), {
      code: "setting.origin",
      values: { origin: "example.com" },
    });
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, path: "socket.io" }), {
      code: "setting.path",
      values: { path: "socket.io" },
    });
  });

  it("checks the Origin header: listed, or none at all", function () {
    const allowed = parseServerSettings({
      listen: "port",
      port: 1,
      corsOrigins: "https://good.example, http://localhost:3000/",
    }).corsOrigins;
    assert.ok(originAllowed(allowed, request({ origin: "https://good.example", host: "x:1" })));
    assert.ok(originAllowed(allowed, request({ origin: "http://localhost:3000", host: "x:1" })));
    assert.ok(originAllowed(allowed, request({ host: "x:1" })), "a non-browser client sends no Origin");
    assert.ok(
      !originAllowed(allowed, request({ origin: "http://x:1", host: "x:1" })),
      "a list does not fall back to the Host header",
    );
    assert.ok(!originAllowed(allowed, request({ origin: "https://evil.example", host: "x:1" })));
    assert.ok(originAllowed("*", request({ origin: "https://evil.example", host: "x:1" })));
  });

  it("with no origin listed allows the same origin only, by host and scheme", function () {
    const sameOnly = parseServerSettings({ listen: "port", port: 1, corsOrigins: "" }).corsOrigins;
    assert.deepEqual(sameOnly, []);
    assert.ok(originAllowed(sameOnly, request({ origin: "http://x:1", host: "x:1" })));
    assert.ok(!originAllowed(sameOnly, request({ origin: "https://x:1", host: "x:1" })), "another scheme");
    assert.ok(
      originAllowed(sameOnly, request({ origin: "https://x:1", host: "x:1", "x-forwarded-proto": "https" })),
      "behind a TLS proxy",
    );
  });

  it('takes "null" and "file://" as origins a user may list', function () {
    const list = parseServerSettings({
      listen: "port",
      port: 1,
      corsOrigins: "null, file:///, https://a.example",
    }).corsOrigins;
    assert.deepEqual(list, ["null", "file://", "https://a.example"]);
  });

  it("reads the event rate limit, burst and connect timeout, with the defaults of flows saved before them", function () {
    const old = parseServerSettings({ listen: "port", port: 1 });
    assert.equal(old.eventRate, 0);
    assert.equal(old.connectTimeout, 45000);
    assert.equal(old.recoverySkipMiddleware, false);
    assert.equal(old.httpNodeSecurity, false);
    const limited = parseServerSettings({
      listen: "port",
      port: 1,
      eventRate: "50",
      eventBurst: "",
      connectTimeout: 5000,
    });
    assert.equal(limited.eventRate, 50);
    assert.equal(limited.eventBurst, 50, "a blank burst is the rate");
    assert.equal(socketIoOptions(limited).connectTimeout, 5000);
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, eventRate: "fast" }), {
      code: "setting.atLeast",
      values: { setting: settingLabel("eventRate"), min: 0, value: "fast" },
    });
    assert.equal(
      parseServerSettings({ listen: "port", port: 1, httpNodeSecurity: true }).httpNodeSecurity,
      false,
      "only on Node-RED's server",
    );
    assert.equal(parseServerSettings({ listen: "nodered", httpNodeSecurity: true }).httpNodeSecurity, true);
  });

  it("gives equal fingerprints for equal settings and names what differs", function () {
    const a = fingerprint(parseServerSettings({ listen: "port", port: 1 }));
    const b = fingerprint(parseServerSettings({ listen: "port", port: "1", path: "/socket.io/" }));
    const c = fingerprint(parseServerSettings({ listen: "port", port: 1, path: "/rt", pingInterval: 5 }));
    assert.equal(a, b);
    assert.deepEqual(differences(a, c), ["path", "pingInterval"]);
  });
});
