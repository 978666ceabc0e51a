import { strict as assert } from "node:assert";
import { Term } from "../src/nodes/core/problem";
import { RateLimitedReport } from "../src/nodes/core/rate-limited-report";
import { reasonOf, reconnectDelay, RECONNECT_CAP_MS } from "../src/nodes/core/redis-adapter-link";
import { differences, fingerprint, parseServerSettings } from "../src/nodes/core/server-settings";
import { sleep, until } from "./helpers";

describe("scale-out settings (core)", function () {
  it("leaves a server without scale-out on the in-memory adapter, with the fingerprint it had before scale-out existed", function () {
    const plain = parseServerSettings({ listen: "port", port: 3001 });
    const memory = parseServerSettings(
      { listen: "port", port: 3001, adapter: "memory", redisUrl: "redis://elsewhere:1", redisPrefix: "x" },
      undefined,
      { redisPassword: "secret" },
    );
    assert.equal(plain.scaleOut, undefined);
    assert.equal(memory.scaleOut, undefined);
    // The fingerprint of earlier releases: the settings with the TLS hash, and nothing about an adapter.
    const before: Partial<typeof plain> = { ...plain };
    delete before.scaleOut;
    assert.equal(fingerprint(plain), JSON.stringify({ ...before, tls: "" }));
    assert.equal(fingerprint(memory), fingerprint(plain), "Redis fields of a memory server change nothing");
  });

  it("fills in the Redis defaults, and takes the username and password from the credentials only", function () {
    const s = parseServerSettings({ listen: "port", port: 1, adapter: "redis" }, undefined, {
      redisUsername: "app",
      redisPassword: "pw",
    });
    assert.deepEqual(s.scaleOut, {
      adapter: "redis",
      url: "redis://127.0.0.1:6379",
      prefix: "socket.io",
      username: "app",
      password: "pw",
    });
    const streams = parseServerSettings({
      listen: "port",
      port: 1,
      adapter: "redis-streams",
      redisUrl: " rediss://cache.example:6380/2 ",
      redisPrefix: "chat-app",
    });
    assert.deepEqual(streams.scaleOut, {
      adapter: "redis-streams",
      url: "rediss://cache.example:6380/2",
      prefix: "chat-app",
      username: undefined,
      password: undefined,
    });
    // A password a flow file might carry is ignored: only the credentials count.
    const fromFlow = parseServerSettings({ listen: "port", port: 1, adapter: "redis", redisPassword: "leaked" });
    assert.equal(fromFlow.scaleOut?.password, undefined);
  });

  it("refuses a Redis URL of another scheme, with credentials in it, or with more than a database number, and an unknown adapter", function () {
    const parse = (extra: Record<string, unknown>) => () =>
      parseServerSettings({ listen: "port", port: 1, adapter: "redis", ...extra });
    assert.throws(parse({ redisUrl: "http://127.0.0.1:6379" }), {
      code: "setting.redisScheme",
      values: { url: "http://127.0.0.1:6379" },
    });
    assert.throws(parse({ redisUrl: "redis://user:secret@127.0.0.1:6379" }), {
      code: "setting.redisCredentials",
      values: {},
    });
    assert.throws(parse({ redisUrl: "redis://:secret@127.0.0.1" }), { code: "setting.redisCredentials" });
    assert.throws(parse({ redisUrl: "redis://127.0.0.1:6379/cache" }), {
      code: "setting.redisDatabase",
      values: { url: "redis://127.0.0.1:6379/cache", example: "redis://127.0.0.1:6379/0" },
    });
    assert.throws(parse({ redisUrl: "not a url" }), {
      code: "setting.redisUrl",
      values: { url: "not a url", example: "redis://127.0.0.1:6379" },
    });
    assert.throws(parse({ redisPrefix: "app*" }), { code: "setting.redisPrefix", values: { prefix: "app*" } });
    const adapters = ["memory", "redis", "redis-streams"].map((kind) => new Term(`adapter.${kind}`));
    assert.throws(() => parseServerSettings({ listen: "port", port: 1, adapter: "kafka" }), {
      code: "setting.adapter",
      values: { adapter: "kafka", choices: adapters },
    });
  });

  it("restarts the server when a Redis setting or credential changes: the fingerprint differs, but holds no password", function () {
    const with_ = (adapter: string, password?: string, prefix?: string) =>
      fingerprint(
        parseServerSettings({ listen: "port", port: 1, adapter, redisPrefix: prefix }, undefined, {
          redisPassword: password,
        }),
      );
    const a = with_("redis", "first-secret");
    assert.equal(a, with_("redis", "first-secret"));
    assert.notEqual(a, with_("redis", "second-secret"));
    assert.notEqual(a, with_("redis-streams", "first-secret"));
    assert.notEqual(a, with_("redis", "first-secret", "other"));
    assert.ok(!a.includes("first-secret"), "the password appears in the fingerprint");
    assert.deepEqual(differences(a, with_("redis", "second-secret")), ["scaleOut"]);
    assert.deepEqual(differences(with_("memory"), a), ["scaleOut"]);
  });

  it("retries Redis with a backoff that doubles up to its cap and never gives up", function () {
    assert.ok(reconnectDelay(0) < 150);
    assert.ok(reconnectDelay(3) >= 400 && reconnectDelay(3) < 500);
    for (const retries of [10, 100, 10_000]) {
      const ms = reconnectDelay(retries);
      assert.ok(ms >= RECONNECT_CAP_MS && ms < RECONNECT_CAP_MS + 100, `${retries} retries: ${ms} ms`);
    }
  });

  it("names the reason of a failed connection, also for a dual-stack AggregateError without a message", function () {
    assert.equal(reasonOf(new Error("connect ECONNREFUSED 127.0.0.1:1")), "connect ECONNREFUSED 127.0.0.1:1");
    const both = Object.assign(
      new AggregateError([new Error("connect ECONNREFUSED ::1:1"), new Error("connect ECONNREFUSED 127.0.0.1:1")], ""),
      { code: "ECONNREFUSED" },
    );
    assert.equal(reasonOf(both), "connect ECONNREFUSED ::1:1");
  });
});

describe("the rate-limited report of lost messages (core)", function () {
  it("writes the first occurrence at once, then one line per interval with the number since the last", async function () {
    const lines: number[] = [];
    const report = new RateLimitedReport((n) => lines.push(n), 150);
    report.add();
    assert.deepEqual(lines, [1], "the first is written at once");
    for (let i = 0; i < 40; i++) report.add();
    report.add(2);
    assert.deepEqual(lines, [1], "nothing more within the interval");
    await until(() => lines.length === 2, 1000, "the second line");
    assert.deepEqual(lines, [1, 42]);
    await sleep(200);
    assert.deepEqual(lines, [1, 42], "no line when nothing happened");
    report.add(3);
    assert.deepEqual(lines, [1, 42, 3], "after a quiet interval, at once again");
    report.stop();
  });

  it("writes what is still counted when stopped, and nothing after", async function () {
    const lines: number[] = [];
    const report = new RateLimitedReport((n) => lines.push(n), 10_000);
    report.add();
    report.add(5);
    assert.equal(report.pending, 5);
    report.stop();
    assert.deepEqual(lines, [1, 5]);
    report.add(7);
    await sleep(50);
    assert.deepEqual(lines, [1, 5]);
  });
});
