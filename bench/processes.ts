// The processes of a benchmark round: the server under test (raw, or the package in a real
// Node-RED), two more Node-RED instances on Redis for the scale-out scenario, and the load process.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "redis";
import { startNodeRed } from "../test/node-red-process";
import { freePort, waitListening } from "../test/ports";
import { BENCH_REDIS_URL, log, prefixedLines, RESULT_PREFIX, type LoadPlan, type Scenario } from "./common";
import { NAMESPACES, packageFlows } from "./flows";
import type { LoadOutcome } from "./results";

export const ROOT = resolve(__dirname, "..");
const TSX = require.resolve("tsx/cjs");
// ES modules preloaded with --import (a file URL), in the raw server and in Node-RED alike. With an
// --import, Node.js loads the main module as ES loaders do: the raw server's TypeScript then needs
// tsx's loader (both hooks), not only its require hook.
const TSX_LOADER = pathToFileURL(require.resolve("tsx")).href;
const MONITOR = pathToFileURL(join(__dirname, "loop-monitor.mjs")).href;
const PROFILER = pathToFileURL(join(__dirname, "cpu-profile.mjs")).href;

/** A running server under test. */
export interface Running {
  pid: number;
  ioPort: number;
  adminUrl?: string;
  stop(): Promise<void>;
}

function exitOf(proc: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) res();
    else proc.once("exit", () => res());
  });
}

export async function startRaw(monitorFile: string, profileDir?: string): Promise<Running> {
  const ioPort = await freePort();
  const profile = profileDir ? ["--import", PROFILER] : [];
  const proc = spawn(
    process.execPath,
    [...profile, "--import", TSX_LOADER, "--import", MONITOR, join(__dirname, "raw-server.ts"), String(ioPort)],
    {
      env: {
        ...process.env,
        BENCH_MAIN: "raw-server.ts",
        BENCH_LOOP_FILE: monitorFile,
        ...(profileDir ? { BENCH_CPU_PROF_DIR: profileDir } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`raw server did not start within 20 s:\n${out}`)), 20_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("listening")) {
        clearTimeout(timer);
        res();
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`raw server exited (${code}):\n${out}`));
    });
  });
  return {
    pid: proc.pid!,
    ioPort,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGINT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exitOf(proc);
      clearTimeout(timer);
    },
  };
}

/**
 * The package Node-RED loads: this repository, or BENCH_PACKAGE_DIR (another build of it, e.g. a
 * patched copy, to measure a change before it lands).
 */
function userDirWithPackage(): string | undefined {
  const dir = process.env.BENCH_PACKAGE_DIR;
  if (!dir) return undefined;
  const userDir = mkdtempSync(join(tmpdir(), "bench-red-"));
  mkdirSync(join(userDir, "node_modules"));
  symlinkSync(resolve(dir), join(userDir, "node_modules", "node-red-contrib-socket-io"), "dir");
  return userDir;
}

export async function startPackage(monitorFile: string, profileDir?: string): Promise<Running> {
  const [adminPort, ioPort] = [await freePort(), await freePort()];
  const userDir = userDirWithPackage();
  const options = [process.env.NODE_OPTIONS ?? "", profileDir ? `--import ${PROFILER}` : "", `--import ${MONITOR}`];
  const red = await startNodeRed({
    port: adminPort,
    userDir,
    settings: { logging: { console: { level: "warn", metrics: false, audit: false } } },
    env: {
      NODE_OPTIONS: options.filter(Boolean).join(" "),
      BENCH_MAIN: "red.js",
      BENCH_LOOP_FILE: monitorFile,
      ...(profileDir ? { BENCH_CPU_PROF_DIR: profileDir } : {}),
    },
  });
  try {
    await red.deploy(packageFlows(ioPort));
    await waitListening(ioPort);
  } catch (err) {
    await red.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
  return {
    pid: red.proc.pid!,
    ioPort,
    adminUrl: red.url,
    async stop() {
      await red.stop();
      if (userDir) rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/**
 * Two more Node-RED instances with the package flows on one Redis (pub/sub adapter), for the
 * scale-out scenario. Resolves once both have subscribed to the fan-out namespace's channel.
 */
export async function startScaleOutPair(): Promise<{ urls: [string, string]; stop(): Promise<void> }> {
  const prefix = `bench-${process.pid}-${Date.now()}`;
  const started: Array<Awaited<ReturnType<typeof startNodeRed>>> = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((red) => red.stop()));
  };
  try {
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const [adminPort, ioPort] = [await freePort(), await freePort()];
      const red = await startNodeRed({
        port: adminPort,
        settings: { logging: { console: { level: "warn", metrics: false, audit: false } } },
      });
      started.push(red);
      await red.deploy(packageFlows(ioPort, 0, { url: BENCH_REDIS_URL, prefix }));
      await waitListening(ioPort);
      urls.push(`http://127.0.0.1:${ioPort}`);
    }
    const redis = createClient({ url: BENCH_REDIS_URL });
    redis.on("error", () => undefined);
    await redis.connect();
    try {
      const channel = `${prefix}-request#${NAMESPACES.fan}#`;
      const deadline = Date.now() + 10_000;
      for (;;) {
        const subscribers = (await redis.pubSubNumSub(channel))[channel] ?? 0;
        if (subscribers >= 2) break;
        if (Date.now() > deadline)
          throw new Error(`only ${subscribers} of 2 instances subscribed to ${channel} within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      redis.destroy();
    }
    return { urls: urls as [string, string], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs the load process for one server and collects its RESULT lines. */
export function runLoad(plan: LoadPlan): Promise<LoadOutcome> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, ["--require", TSX, join(__dirname, "load.ts"), JSON.stringify(plan)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const outcome: LoadOutcome = { results: {}, errors: {}, scenarioMs: {} };
    prefixedLines(proc.stdout!, RESULT_PREFIX, (line) => {
      const r = line as {
        scenario: Scenario;
        result?: unknown;
        error?: string;
        ms: number;
      };
      outcome.scenarioMs[r.scenario] = r.ms;
      if (r.error !== undefined) {
        outcome.errors[r.scenario] = r.error;
        log(`  ${plan.target} ${r.scenario}: ERROR ${r.error}`);
      } else {
        (outcome.results as Record<string, unknown>)[r.scenario] = r.result;
        log(`  ${plan.target} ${r.scenario} (${(r.ms / 1000).toFixed(1)} s): ${JSON.stringify(r.result)}`);
      }
    });
    proc.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
    proc.once("error", rej);
    proc.once("exit", (code) => {
      if (code !== 0) {
        for (const s of plan.scenarios)
          if (!(s in outcome.results) && !(s in outcome.errors)) outcome.errors[s] = `load process exited with ${code}`;
      }
      res(outcome);
    });
  });
}
