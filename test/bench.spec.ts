import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { redisAnswers } from "./redis-ping";

const ROOT = resolve(__dirname, "..");

interface QuickResults {
  quick: boolean;
  machine: { cpu: string; cores: number; memoryMb: number };
  versions: Record<string, string>;
  correctness: { wrong: number; lost: number; errors: string[] };
  perRound: Array<{
    raw?: { results: Record<string, { wrong: number }> };
    package?: { results: Record<string, { wrong: number }> };
  }>;
}

/** Runs a command to its end; resolves with its exit code and output. */
function run(args: string[], ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      rej(new Error(`bench did not finish within ${ms} ms:\n${stdout}\n${stderr}`));
    }, ms);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

// The benchmark itself runs with `npm run bench`; this smoke run only proves the runner still works
// end to end. It checks correctness, never speed: speed targets belong to the benchmark's own table.
describe("the benchmark runner (--quick smoke run)", function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), "bench-quick-"));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs every scenario against the raw server and a real Node-RED, prints the side-by-side table and writes its results with no wrong replies", async function () {
    const out = join(dir, "quick.json");
    const tsxCli = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const { code, stdout, stderr } = await run([tsxCli, "bench/run.ts", "--quick", "--out", out], 110_000);
    assert.equal(code, 0, `bench --quick exited with ${code}:\n${stdout}\n${stderr}`);

    // The table: raw and package side by side with their ratio and the targets.
    assert.match(stdout, /\| figure\s+\| unit\s+\|\s+raw \|\s+package \|\s+pkg\/raw \| target\s+\| result \|/);
    // The scale-out scenario runs when a Redis answers on 6379 (CI starts one; elsewhere it is left out, loudly).
    const withRedis = await redisAnswers();
    const figures = [
      "latency p50",
      "throughput",
      "clone",
      "debug: throughput with a 2nd wire to an active debug node",
      "fan-out",
      "connect via middleware",
      "server memory per connection",
      "redeploy: disconnects",
      "redeploy: events lost",
      "scale: event-loop delay p99",
      "scale: server RSS",
    ];
    if (withRedis) figures.push("scale-out (");
    for (const figure of figures) {
      assert.ok(stdout.includes(`| ${figure}`), `the table has no "${figure}" row:\n${stdout}`);
    }
    assert.match(stdout, /correctness: 0 wrong replies, 0 lost replies outside redeploy, 0 failed scenarios/);

    assert.ok(existsSync(out), "no results file");
    const results = JSON.parse(readFileSync(out, "utf8")) as QuickResults;
    assert.equal(results.quick, true);
    assert.ok(results.machine.cores > 0 && results.machine.cpu.length > 0);
    assert.ok(results.versions["socket.io"] && results.versions["node-red"]);
    assert.deepEqual(results.correctness, { wrong: 0, lost: 0, errors: [] });
    // Each side ran its scenarios, and each result counted its mismatches.
    const round = results.perRound[0];
    for (const side of [round.raw, round.package]) {
      assert.ok(side, "a side did not run");
      for (const scenario of ["latency", "throughput", "fanout", "connect", "scale"]) {
        assert.equal(side.results[scenario]?.wrong, 0, `${scenario}: ${JSON.stringify(side.results[scenario])}`);
      }
    }
    for (const scenario of ["clone", "debug", "redeploy", ...(withRedis ? ["scaleout"] : [])])
      assert.equal(round.package!.results[scenario]?.wrong, 0, scenario);
    // scale-50k runs only when asked for.
    assert.equal(round.package!.results["scale-50k"], undefined);
  });

  it("scale-50k, asked for, holds its connections from several client processes over several loopback addresses", async function () {
    const out = join(dir, "many.json");
    const tsxCli = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const args = ["bench/run.ts", "--quick", "--only", "scale-50k", "--side", "package", "--out", out];
    const { code, stdout, stderr } = await run([tsxCli, ...args], 110_000);
    assert.equal(code, 0, `bench exited with ${code}:\n${stdout}\n${stderr}`);
    const many = (JSON.parse(readFileSync(out, "utf8")) as QuickResults).perRound[0].package!.results["scale-50k"] as {
      connections: number;
      pingsSent: number;
      pingsAnswered: number;
      disconnects: number;
      wrong: number;
      lost: number;
      byAddress: Record<string, number>;
      clientProcesses: number;
    };
    // --quick: 2000 connections from 2 processes to 127.0.0.1 and 127.0.0.2, held 5 s, an event a second.
    assert.equal(many.connections, 2000, JSON.stringify(many));
    assert.equal(many.clientProcesses, 2);
    assert.deepEqual(many.byAddress, { "127.0.0.1": 1000, "127.0.0.2": 1000 });
    assert.ok(many.pingsSent >= 2000 * 4, JSON.stringify(many));
    assert.equal(many.pingsAnswered, many.pingsSent, JSON.stringify(many));
    assert.deepEqual([many.disconnects, many.wrong, many.lost], [0, 0, 0]);
    assert.match(stdout, /\| scale-50k \(2000\): server KB per connection/);
  });
});
