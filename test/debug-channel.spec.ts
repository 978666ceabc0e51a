import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { debugChannel, debugEnabled } from "../src/nodes/core/debug-channel";
import { connected } from "./helpers";
import { freePort, waitListening } from "./ports";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";

const TRACE = "node-red-contrib-socket-io:";

describe("DEBUG=node-red-contrib-socket-io:* trace", function () {
  it("reads DEBUG as the debug package does: names, wildcards, exclusions", function () {
    const name = "node-red-contrib-socket-io:registry";
    assert.equal(debugEnabled(undefined, name), false);
    assert.equal(debugEnabled("", name), false);
    assert.equal(debugEnabled("socket.io:*", name), false);
    assert.equal(debugEnabled("node-red-contrib-socket-io:*", name), true);
    assert.equal(debugEnabled("*", name), true);
    assert.equal(debugEnabled("socket.io:*,node-red-contrib-socket-io:registry", name), true);
    assert.equal(debugEnabled("node-red-contrib-socket-io:* -node-red-contrib-socket-io:registry", name), false);
    assert.equal(debugEnabled("node-red-contrib-socket-io:http-mount", name), false);
    assert.equal(debugChannel("registry", { DEBUG: "node-red-contrib-socket-io:*" }).enabled, true);
    assert.equal(debugChannel("registry", {}).enabled, false);
  });

  it("traces every change of the Redis state, also the reconnects the log leaves out", function () {
    // The channel reads DEBUG when its module loads: a process of its own.
    const script = `
      const { RedisStateReport } = require(${JSON.stringify(require.resolve("../src/nodes/core/redis-state"))});
      const quiet = { warn() {}, error() {}, log() {} };
      const report = new RedisStateReport({ url: "redis://127.0.0.1:6390", adapter: "redis" }, quiet);
      report.set("connected", undefined);
      report.set("connecting", undefined);
      report.set("connected", undefined);`;
    const run = (DEBUG: string): string[] =>
      spawnSync(process.execPath, ["--require", "tsx/cjs", "-e", script], {
        env: { ...process.env, DEBUG },
        encoding: "utf8",
      })
        .stderr.split("\n")
        .filter((l) => l.includes(`${TRACE}redis`));
    const lines = run("node-red-contrib-socket-io:redis");
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[1], /redis:\/\/127\.0\.0\.1:6390: connected -> connecting/);
    assert.deepEqual(run("node-red-contrib-socket-io:registry"), []);
  });

  describe("in a real node-red process", function () {
    this.timeout(40_000);
    let red: NodeRedProcess | undefined;
    afterEach(async () => {
      await red?.stop();
      red = undefined;
    });

    /** Starts Node-RED with `env`, deploys a server on its own port and connects one client. */
    async function traceOf(env: Record<string, string>): Promise<{ lines: string[]; ioPort: number }> {
      const [port, ioPort] = [await freePort(), await freePort()];
      red = await startNodeRed({ port, env });
      await red.deploy([
        { id: "tab", type: "tab", label: "trace" },
        { id: "srv", type: "socket-io-server", name: "traced", listen: "port", port: ioPort, path: "/socket.io" },
        { id: "on", type: "socket-io-on", z: "tab", server: "srv", namespace: "/", listenFor: "connection", wires: [] },
      ]);
      await waitListening(ioPort);
      const socket = await connected(`http://127.0.0.1:${ioPort}`);
      socket.close();
      await red.deploy([{ id: "tab", type: "tab", label: "trace" }]);
      await new Promise((r) => setTimeout(r, 300));
      return {
        lines: red
          .output()
          .split("\n")
          .filter((l) => l.includes(TRACE)),
        ioPort,
      };
    }

    it("prints what the registry does when DEBUG names the package, and nothing without it", async function () {
      const { lines, ioPort } = await traceOf({ DEBUG: "node-red-contrib-socket-io:*" });
      const registryLines = lines.filter((l) => l.includes(`${TRACE}registry`) && l.includes(String(ioPort)));
      assert.ok(
        registryLines.some((l) => l.includes("started")),
        `a registry line saying the server on ${ioPort} started:\n${lines.join("\n")}`,
      );
      assert.ok(
        registryLines.some((l) => l.includes("closed")),
        `a registry line saying the server on ${ioPort} closed when its config node was deleted:\n${lines.join("\n")}`,
      );
      await red!.stop();
      red = undefined;
      assert.deepEqual((await traceOf({ DEBUG: "" })).lines, [], "no trace lines without DEBUG");
    });
  });
});
