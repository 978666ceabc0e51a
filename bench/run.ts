/**
 * The benchmark: this package in a real Node-RED 4.1 process against the same behaviour written
 * directly against Socket.IO, side by side, over several interleaved rounds.
 *
 * Usage: tsx bench/run.ts [--quick] [--rounds N] [--only latency,throughput,...] [--side raw|package]
 *                         [--set size=N,...] [--out FILE] [--profile]
 *
 *   --quick    each scenario once and smaller: a smoke check that the runner works
 *   --rounds   rounds of every scenario but scale (default 3; scale runs in the last round)
 *   --only     run only these scenarios (scaleout needs a Redis on 127.0.0.1:6379)
 *   --out      where the results JSON goes (default bench/results/latest.json, or latest-quick.json)
 *   --side     raw or package: run one side only (for profiling)
 *   --set      change sizes, e.g. --set fanEvents=1000,connects=500 (see Sizes in common.ts)
 *   --profile  record the servers' CPU profiles into bench/results/profiles/ (see profile-top.ts)
 *
 * Environment: BENCH_PACKAGE_DIR benchmarks another build of the package (a patched copy) instead of
 * this repository.
 *
 * Prints a table of medians with the ratio package/raw and each target's PASS or MISS, and writes every
 * round's figures to the results JSON. Exits 1 when a scenario failed or a reply did not match its
 * request; a missed speed target is reported, not an error.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createClient } from "redis";
import { startNodeRed, waitListening } from "../test/node-red-process";
import { redisAnswers, START_REDIS, underCi } from "../test/redis-ping";
import {
  BENCH_REDIS_URL,
  FULL,
  median,
  PACKAGE_ONLY,
  QUICK,
  RESULT_PREFIX,
  SCENARIOS,
  type Checked,
  type LoadPlan,
  type Scenario,
  type ScenarioResults,
  type Sizes,
  type Target,
} from "./common";
import { EXTRA_HOPS, NAMESPACES, packageFlows } from "./flows";

const ROOT = resolve(__dirname, "..");
const TSX = require.resolve("tsx/cjs");
const MONITOR = join(__dirname, "loop-monitor.js");
const PROFILER = join(__dirname, "cpu-profile.js");

interface Args {
  quick: boolean;
  rounds: number;
  only: Scenario[];
  out: string;
  profile: boolean;
  sides: Target[];
  /** Sizes changed from the command line, e.g. --set fanEvents=1000,connects=500 */
  set: Partial<Sizes>;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes("--quick");
  const only = (value("--only")
    ?.split(",")
    .map((s) => s.trim()) ?? [...SCENARIOS]) as Scenario[];
  for (const s of only)
    if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}"; known: ${SCENARIOS.join(", ")}`);
  const rounds = quick ? 1 : Number(value("--rounds") ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a whole number ≥ 1");
  const out = resolve(
    value("--out") ?? process.env.BENCH_OUT ?? join(__dirname, "results", quick ? "latest-quick.json" : "latest.json"),
  );
  const sides = (value("--side")?.split(",") ?? ["raw", "package"]) as Target[];
  for (const side of sides)
    if (side !== "raw" && side !== "package") throw new Error(`--side takes raw and/or package, not "${side}"`);
  const set: Partial<Sizes> = {};
  for (const pair of value("--set")?.split(",") ?? []) {
    const [key, raw] = pair.split("=");
    if (!(key in FULL) || !Number.isFinite(Number(raw)))
      throw new Error(`--set takes size=number pairs of ${Object.keys(FULL).join(", ")}; not "${pair}"`);
    set[key as keyof Sizes] = Number(raw);
  }
  return { quick, rounds, only, out, profile: argv.includes("--profile"), sides, set };
}

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** A running server under test. */
interface Running {
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

async function startRaw(monitorFile: string, profileDir?: string): Promise<Running> {
  const ioPort = await freePort();
  const profile = profileDir ? ["--require", PROFILER] : [];
  const proc = spawn(
    process.execPath,
    [...profile, "--require", TSX, "--require", MONITOR, join(__dirname, "raw-server.ts"), String(ioPort)],
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

async function startPackage(monitorFile: string, profileDir?: string): Promise<Running> {
  const [adminPort, ioPort] = [await freePort(), await freePort()];
  const userDir = userDirWithPackage();
  const options = [process.env.NODE_OPTIONS ?? "", profileDir ? `--require ${PROFILER}` : "", `--require ${MONITOR}`];
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
async function startScaleOutPair(): Promise<{ urls: [string, string]; stop(): Promise<void> }> {
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

interface LoadOutcome {
  results: ScenarioResults;
  errors: Partial<Record<Scenario, string>>;
  scenarioMs: Partial<Record<Scenario, number>>;
}

/** Runs the load process for one server and collects its RESULT lines. */
function runLoad(plan: LoadPlan): Promise<LoadOutcome> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, ["--require", TSX, join(__dirname, "load.ts"), JSON.stringify(plan)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const outcome: LoadOutcome = { results: {}, errors: {}, scenarioMs: {} };
    let buffer = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith(RESULT_PREFIX)) continue;
        const r = JSON.parse(line.slice(RESULT_PREFIX.length)) as {
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

interface Round {
  round: number;
  order: Target[];
  raw?: LoadOutcome;
  package?: LoadOutcome;
}

function versions(): Record<string, string> {
  const v = (name: string): string =>
    (
      JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [ROOT] }), "utf8")) as {
        version: string;
      }
    ).version;
  const own = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
  return {
    node: process.version,
    "socket.io": v("socket.io"),
    "socket.io-client": v("socket.io-client"),
    "node-red": v("node-red"),
    [own.name]: own.version,
  };
}

function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    kernel: release(),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

// --- the report -----------------------------------------------------------------------------------

type Get = (r: ScenarioResults) => number | undefined;

interface Row {
  figure: string;
  raw?: number;
  pkg?: number;
  /** Shown in the ratio column; package/raw unless given. */
  ratio?: number;
  target?: string;
  pass?: boolean;
  unit?: string;
  /** Shown in the target column of an info row. */
  note?: string;
}

function format(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function buildReport(
  rounds: Round[],
  sizes: Sizes,
): { rows: Row[]; correctness: { wrong: number; lost: number; errors: string[] } } {
  const values = (t: Target, get: Get): number[] =>
    rounds
      .map((r) => (r[t] ? get(r[t]!.results) : undefined))
      .filter((x): x is number => x !== undefined && Number.isFinite(x));
  const med = (t: Target, get: Get): number | undefined => {
    const v = values(t, get);
    return v.length ? median(v) : undefined;
  };
  const sum = (t: Target, get: Get): number => values(t, get).reduce((a, b) => a + b, 0);
  const ratio = (p?: number, r?: number): number | undefined =>
    p !== undefined && r !== undefined && r !== 0 ? p / r : undefined;
  const has = (t: Target, s: Scenario): boolean => rounds.some((r) => r[t]?.results[s] !== undefined);
  const rows: Row[] = [];
  /** Info rows: the server's CPU time per operation, and how busy the load process was. */
  const cpuRows = (s: Scenario, op: string): void => {
    const get = (r: ScenarioResults): Checked | undefined => r[s];
    const raw = med("raw", (r) => get(r)?.serverUsPerOp);
    const pkg = med("package", (r) => get(r)?.serverUsPerOp);
    rows.push({ figure: `  server CPU per ${op} (info)`, unit: "µs", raw, pkg, ratio: ratio(pkg, raw) });
    rows.push({
      figure: "  server / load process CPU (info)",
      unit: "%",
      raw: med("raw", (r) => get(r)?.serverCpuPercent),
      pkg: med("package", (r) => get(r)?.serverCpuPercent),
    });
    rows[rows.length - 1].note =
      `load ${format(med("raw", (r) => get(r)?.loadCpuPercent))} / ${format(med("package", (r) => get(r)?.loadCpuPercent))} %`;
  };

  if (has("raw", "latency") || has("package", "latency")) {
    const raw = med("raw", (r) => r.latency?.p50Us);
    const pkg = med("package", (r) => r.latency?.p50Us);
    const q = ratio(pkg, raw);
    rows.push({
      figure: `latency p50 (${sizes.latencyPings} sequential)`,
      unit: "µs",
      raw,
      pkg,
      ratio: q,
      target: "≤ 1.25 × raw",
      pass: q !== undefined && q <= 1.25,
    });
    rows.push({
      figure: "latency p99",
      unit: "µs",
      raw: med("raw", (r) => r.latency?.p99Us),
      pkg: med("package", (r) => r.latency?.p99Us),
    });
    if (has("package", "latency")) {
      const perHop = med("package", (r) => r.latency?.perHopUs);
      rows.push({
        figure: `latency p50 with ${EXTRA_HOPS} more junction hops`,
        unit: "µs",
        pkg: med("package", (r) => r.latency?.hopsP50Us),
      });
      rows.push({ figure: "Node-RED cost per hop (p50)", unit: "µs", pkg: perHop });
      if (raw !== undefined && pkg !== undefined && perHop !== undefined) {
        // on → emit crosses one wire: the floor is the raw round trip plus one hop.
        rows.push({
          figure: "floor: raw + 1 hop (on → emit)",
          unit: "µs",
          pkg: raw + perHop,
          ratio: (raw + perHop) / raw,
        });
        rows.push({ figure: "package cost beyond the floor", unit: "µs", pkg: pkg - raw - perHop });
      }
    }
  }
  if (has("raw", "throughput") || has("package", "throughput")) {
    const raw = med("raw", (r) => r.throughput?.perSecond);
    const pkg = med("package", (r) => r.throughput?.perSecond);
    const wrong = sum("raw", (r) => r.throughput?.wrong) + sum("package", (r) => r.throughput?.wrong);
    const q = ratio(pkg, raw);
    rows.push({
      figure: `throughput (${sizes.throughputClients} × ${sizes.throughputInFlight} in flight)`,
      unit: "round trips/s",
      raw,
      pkg,
      ratio: q,
      target: "≥ 0.5 × raw, 0 wrong",
      pass: q !== undefined && q >= 0.5 && wrong === 0,
    });
    cpuRows("throughput", "round trip");
    rows.push({
      figure: "throughput wrong replies (all rounds)",
      raw: sum("raw", (r) => r.throughput?.wrong),
      pkg: sum("package", (r) => r.throughput?.wrong),
      target: "0",
      pass: wrong === 0,
    });
  }
  if (has("package", "clone")) {
    const perRound = median(
      values("package", (r) => (r.clone && r.throughput ? r.clone.perSecond / r.throughput.perSecond : undefined)),
    );
    rows.push({
      figure: "clone: throughput with a 2nd wire",
      unit: "round trips/s",
      raw: med("raw", (r) => r.clone?.perSecond),
      pkg: med("package", (r) => r.clone?.perSecond),
      ratio: perRound,
      target: "≥ 0.9 × single wire",
      pass: Number.isFinite(perRound) && perRound >= 0.9,
    });
    const cloneCpu = median(
      values("package", (r) =>
        r.clone?.serverUsPerOp && r.throughput?.serverUsPerOp
          ? r.clone.serverUsPerOp / r.throughput.serverUsPerOp
          : undefined,
      ),
    );
    rows.push({
      figure: "  server CPU per round trip, 2nd wire (info)",
      unit: "µs",
      pkg: med("package", (r) => r.clone?.serverUsPerOp),
      ratio: cloneCpu,
      note: "ratio: to single wire",
    });
  }
  if (has("package", "hops")) {
    // Node-RED's own CPU cost of passing a msg along one more wire, from the same load as throughput.
    const perHop = median(
      values("package", (r) =>
        r.hops?.serverUsPerOp && r.throughput?.serverUsPerOp
          ? (r.hops.serverUsPerOp - r.throughput.serverUsPerOp) / EXTRA_HOPS
          : undefined,
      ),
    );
    rows.push({
      figure: `throughput with ${EXTRA_HOPS} more junction hops`,
      unit: "round trips/s",
      pkg: med("package", (r) => r.hops?.perSecond),
      ratio: median(
        values("package", (r) => (r.hops && r.throughput ? r.hops.perSecond / r.throughput.perSecond : undefined)),
      ),
      note: "ratio: to direct",
    });
    rows.push({ figure: "  Node-RED CPU per hop (info)", unit: "µs", pkg: perHop });
  }
  if (has("raw", "fanout") || has("package", "fanout")) {
    const raw = med("raw", (r) => r.fanout?.perSecond);
    const pkg = med("package", (r) => r.fanout?.perSecond);
    const q = ratio(pkg, raw);
    rows.push({
      figure: `fan-out (${sizes.fanClients} clients × ${sizes.fanEvents} events)`,
      unit: "deliveries/s",
      raw,
      pkg,
      ratio: q,
      target: "≥ 0.9 × raw",
      pass: q !== undefined && q >= 0.9,
    });
    cpuRows("fanout", "delivery");
  }
  if (has("package", "scaleout")) {
    const q = median(values("package", (r) => r.scaleout?.ratio));
    rows.push({
      figure: `scale-out (${sizes.fanClients} clients × ${sizes.scaleOutEvents} events on 2 instances, Redis pub/sub)`,
      unit: "deliveries/s",
      pkg: med("package", (r) => r.scaleout?.perSecond),
      ratio: q,
      target: "≥ 0.5 × 1 instance",
      pass: Number.isFinite(q) && q >= 0.5,
    });
    rows.push({
      figure: "  the same clients on 1 instance, in-memory (info)",
      unit: "deliveries/s",
      pkg: med("package", (r) => r.scaleout?.singlePerSecond),
      note: "ratio above: to this",
    });
  }
  if (has("raw", "connect") || has("package", "connect")) {
    const raw = med("raw", (r) => r.connect?.perSecond);
    const pkg = med("package", (r) => r.connect?.perSecond);
    const q = ratio(pkg, raw);
    rows.push({
      figure: `connect via middleware (${sizes.connects})`,
      unit: "connections/s",
      raw,
      pkg,
      ratio: q,
      target: "≥ 0.7 × raw",
      pass: q !== undefined && q >= 0.7,
    });
    cpuRows("connect", "connection");
    const rawKb = med("raw", (r) => r.connect?.kbPerConnection);
    const pkgKb = med("package", (r) => r.connect?.kbPerConnection);
    const k = ratio(pkgKb, rawKb);
    rows.push({
      figure: "server memory per connection (RSS)",
      unit: "KB",
      raw: rawKb,
      pkg: pkgKb,
      ratio: k,
      target: "≤ 1.2 × raw",
      pass: k !== undefined && k <= 1.2,
    });
    const rawHeap = med("raw", (r) => r.connect?.heapKbPerConnection);
    const pkgHeap = med("package", (r) => r.connect?.heapKbPerConnection);
    rows.push({
      figure: "  heap per connection, after GC (info)",
      unit: "KB",
      raw: rawHeap,
      pkg: pkgHeap,
      ratio: ratio(pkgHeap, rawHeap),
    });
  }
  if (has("package", "redeploy")) {
    const disconnects = sum("package", (r) => r.redeploy?.disconnects);
    const lost = sum("package", (r) => r.redeploy?.lost);
    rows.push({
      figure: `redeploy: disconnects (${sizes.redeployClients} clients, ${sizes.redeploys} full deploys)`,
      pkg: disconnects,
      target: "0",
      pass: disconnects === 0,
    });
    rows.push({ figure: "redeploy: events lost", pkg: lost, target: "0", pass: lost === 0 });
    rows.push({ figure: "  events sent during redeploys (info)", pkg: med("package", (r) => r.redeploy?.sent) });
  }
  if (has("raw", "scale") || has("package", "scale")) {
    const n = sizes.scaleConnections;
    const conns = med("package", (r) => r.scale?.connections);
    const p99 = med("package", (r) => r.scale?.loopP99Ms);
    rows.push({
      figure: `scale: connections held ${sizes.scaleHoldMs / 1000} s`,
      raw: med("raw", (r) => r.scale?.connections),
      pkg: conns,
      target: `${n}`,
      pass: conns === n,
    });
    rows.push({
      figure: "scale: event-loop delay p99",
      unit: "ms",
      raw: med("raw", (r) => r.scale?.loopP99Ms),
      pkg: p99,
      ratio: ratio(
        p99,
        med("raw", (r) => r.scale?.loopP99Ms),
      ),
      target: "< 50 ms",
      pass: p99 !== undefined && p99 < 50,
    });
    rows.push({
      figure: "scale: event-loop delay max",
      unit: "ms",
      raw: med("raw", (r) => r.scale?.loopMaxMs),
      pkg: med("package", (r) => r.scale?.loopMaxMs),
    });
    const rssRaw = med("raw", (r) => r.scale?.rssEndKb);
    const rssPkg = med("package", (r) => r.scale?.rssEndKb);
    rows.push({
      figure: "scale: server RSS",
      unit: "MB",
      raw: rssRaw && rssRaw / 1024,
      pkg: rssPkg && rssPkg / 1024,
      ratio: ratio(rssPkg, rssRaw),
    });
    rows.push({
      figure: "scale: server KB per connection",
      unit: "KB",
      raw: med("raw", (r) => r.scale?.kbPerConnection),
      pkg: med("package", (r) => r.scale?.kbPerConnection),
      ratio: ratio(
        med("package", (r) => r.scale?.kbPerConnection),
        med("raw", (r) => r.scale?.kbPerConnection),
      ),
    });
    rows.push({
      figure: "scale: connect rate",
      unit: "connections/s",
      raw: med("raw", (r) => r.scale?.connectPerSecond),
      pkg: med("package", (r) => r.scale?.connectPerSecond),
      ratio: ratio(
        med("package", (r) => r.scale?.connectPerSecond),
        med("raw", (r) => r.scale?.connectPerSecond),
      ),
    });
    rows.push({
      figure: "scale: server CPU while holding",
      unit: "%",
      raw: med("raw", (r) => r.scale?.serverCpuPercent),
      pkg: med("package", (r) => r.scale?.serverCpuPercent),
      ratio: ratio(
        med("package", (r) => r.scale?.serverCpuPercent),
        med("raw", (r) => r.scale?.serverCpuPercent),
      ),
    });
    rows.push({
      figure: "scale: pings answered",
      raw: med("raw", (r) => r.scale?.pingsAnswered),
      pkg: med("package", (r) => r.scale?.pingsAnswered),
    });
  }

  // Correctness over every scenario and round. Events lost in a redeploy count against its own target.
  let wrong = 0;
  let lost = 0;
  const errors: string[] = [];
  for (const r of rounds) {
    for (const t of ["raw", "package"] as Target[]) {
      const o = r[t];
      if (!o) continue;
      for (const [s, e] of Object.entries(o.errors)) errors.push(`round ${r.round} ${t} ${s}: ${e}`);
      for (const [s, res] of Object.entries(o.results) as Array<[Scenario, { wrong: number; lost: number }]>) {
        wrong += res.wrong;
        if (s !== "redeploy") lost += res.lost;
      }
    }
  }
  return { rows, correctness: { wrong, lost, errors } };
}

function printTable(rows: Row[]): string {
  const head = ["figure", "unit", "raw", "package", "pkg/raw", "target", "result"];
  const digits = (row: Row, v?: number): number =>
    v !== undefined && Math.abs(v) < 100 && row.unit !== undefined && !Number.isInteger(v) ? 1 : 0;
  const body = rows.map((row) => [
    row.figure,
    row.unit ?? "",
    format(row.raw, digits(row, row.raw)),
    format(row.pkg, digits(row, row.pkg)),
    row.ratio === undefined ? "" : format(row.ratio, 2),
    row.target ?? row.note ?? "",
    row.pass === undefined ? "" : row.pass ? "PASS" : "MISS",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (i >= 2 && i <= 4 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`,
    ...body.map(line),
  ].join("\n");
}

// --- main -----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const sizes: Sizes = { ...(args.quick ? QUICK : FULL), ...args.set };
  const started = Date.now();
  const date = new Date().toISOString();
  const machineAtStart = machine();
  const profileRoot = join(__dirname, "results", "profiles");
  log(`${args.quick ? "quick" : "full"} run: ${args.rounds} round(s) of ${args.only.join(", ")}`);

  // The scale-out scenario needs a Redis on 127.0.0.1:6379; without one it is left out, loudly (under CI it fails).
  if (args.only.includes("scaleout") && args.sides.includes("package") && !(await redisAnswers())) {
    const why = `no Redis answers on 127.0.0.1:6379 (start one: ${START_REDIS})`;
    if (underCi()) throw new Error(`the scale-out scenario needs Redis: ${why}`);
    log(`!!!!! SKIPPING THE SCALE-OUT SCENARIO: ${why} !!!!!`);
    args.only = args.only.filter((s) => s !== "scaleout");
  }

  const rounds: Round[] = [];
  for (let i = 0; i < args.rounds; i++) {
    const last = i === args.rounds - 1;
    // Alternate which side goes first, so that neither always runs on a warmer machine.
    const order: Target[] = i % 2 === 0 ? ["raw", "package"] : ["package", "raw"];
    const round: Round = { round: i + 1, order };
    rounds.push(round);
    for (const target of order.filter((t) => args.sides.includes(t))) {
      const scenarios = args.only.filter(
        (s) => (s !== "scale" || last) && (target === "package" || !PACKAGE_ONLY.includes(s)),
      );
      if (scenarios.length === 0) continue;
      const monitorFile = join(tmpdir(), `bench-loop-${process.pid}-${target}-${i}.json`);
      const profileDir = args.profile ? join(profileRoot, `${target}-round${i + 1}`) : undefined;
      if (profileDir) mkdirSync(profileDir, { recursive: true });
      log(`round ${i + 1}/${args.rounds}: starting ${target}`);
      const server =
        target === "raw" ? await startRaw(monitorFile, profileDir) : await startPackage(monitorFile, profileDir);
      let pair: Awaited<ReturnType<typeof startScaleOutPair>> | undefined;
      try {
        if (scenarios.includes("scaleout")) {
          log(`round ${i + 1}/${args.rounds}: starting two more Node-RED instances on Redis for scale-out`);
          pair = await startScaleOutPair();
        }
        round[target] = await runLoad({
          target,
          url: `http://127.0.0.1:${server.ioPort}`,
          ioPort: server.ioPort,
          serverPid: server.pid,
          monitorFile,
          adminUrl: server.adminUrl,
          scaleOutUrls: pair?.urls,
          sizes,
          scenarios,
        });
      } finally {
        await pair?.stop();
        await server.stop();
        for (const f of [monitorFile, `${monitorFile}.tmp`, `${monitorFile}.cmd`]) rmSync(f, { force: true });
      }
    }
  }

  const { rows, correctness } = buildReport(rounds, sizes);
  const table = printTable(rows);
  const seconds = Math.round((Date.now() - started) / 1000);
  const misses = rows.filter((r) => r.pass === false).map((r) => r.figure.trim());
  const summary = [
    `correctness: ${correctness.wrong} wrong replies, ${correctness.lost} lost replies outside redeploy, ${correctness.errors.length} failed scenarios`,
    ...correctness.errors.map((e) => `  failed: ${e}`),
    `targets: ${rows.filter((r) => r.pass === true).length} PASS, ${misses.length} MISS${misses.length ? ` (${misses.join("; ")})` : ""}`,
  ];
  console.log(
    `\nnode-red-contrib-socket-io benchmark, ${date.slice(0, 10)}, ${args.quick ? "quick" : `median of ${args.rounds} rounds`} (${seconds} s)\n`,
  );
  console.log(table);
  console.log(`\n${summary.join("\n")}`);

  const results = {
    date,
    quick: args.quick,
    rounds: args.rounds,
    seconds,
    machine: { ...machineAtStart, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    versions: versions(),
    sizes,
    table: rows,
    correctness,
    perRound: rounds,
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults: ${args.out}`);
  if (args.profile && existsSync(profileRoot))
    console.log(`profiles: ${profileRoot} (summarise with: tsx bench/profile-top.ts <file.cpuprofile>)`);
  return correctness.wrong > 0 || correctness.lost > 0 || correctness.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
