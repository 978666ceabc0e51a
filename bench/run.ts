/**
 * The benchmark: this package in a real Node-RED 4.1 process against the same behaviour written
 * directly against Socket.IO, side by side, over several interleaved rounds.
 *
 * Usage: tsx bench/run.ts [--quick] [--rounds N] [--only latency,throughput,...] [--side raw|package]
 *                         [--set size=N,...] [--out FILE] [--profile]
 *
 *   --quick    each scenario once and smaller: a smoke check that the runner works
 *   --rounds   rounds of every scenario but scale and scale-50k (default 3; they run in the last round)
 *   --only     run only these scenarios (scaleout needs a Redis on 127.0.0.1:6379); scale-50k runs
 *              only when named here (several minutes)
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
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { redisAnswers, START_REDIS, underCi } from "../test/redis-ping";
import {
  FULL,
  LAST_ROUND_ONLY,
  log,
  ON_REQUEST,
  PACKAGE_ONLY,
  QUICK,
  SCENARIOS,
  type Scenario,
  type Sizes,
  type Target,
} from "./common";
import { ROOT, runLoad, startPackage, startRaw, startScaleOutPair } from "./processes";
import { buildReport, printTable } from "./report";
import type { Round } from "./results";

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
    .map((s) => s.trim()) ?? SCENARIOS.filter((s) => !ON_REQUEST.includes(s))) as Scenario[];
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
        (s) => (!LAST_ROUND_ONLY.includes(s) || last) && (target === "package" || !PACKAGE_ONLY.includes(s)),
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
