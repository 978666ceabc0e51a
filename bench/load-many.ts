// The load process's scale-50k scenario: many connections on one server, opened and held by several
// client processes (bench/load-swarm.ts), spread over several destination addresses in 127.0.0.0/8.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { now, prefixedLines, sleep } from "./common";
import { NAMESPACES } from "./flows";
import type { LoadContext } from "./load-probe";
import { loopbackOnly, SWARM_PREFIX, type SwarmPlan } from "./load-swarm";
import { scaleResult } from "./load-capacity";
import type { ScaleResult } from "./results";

/** File descriptors a server needs beyond one per connection (its modules, listeners, Redis, logs). */
const SPARE_FILES = 500;

/** The most files a process may open: its soft limit (Node.js raises it to the hard one at start). */
export function openFilesLimit(pid: number | "self"): number {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === "unlimited" ? Infinity : Number(soft);
}

/**
 * Every connection is a file descriptor of the server: a limit below the connections fails the
 * scenario before it starts, saying what to change, rather than as thousands of refused connects.
 */
function checkOpenFiles(serverPid: number, connections: number): void {
  const limit = openFilesLimit(serverPid);
  if (limit >= connections + SPARE_FILES) return;
  throw new Error(
    `${connections} connections need ${connections + SPARE_FILES} open files in the server process, whose limit is ${limit}. ` +
      "Raise the hard limit (ulimit -Hn, which needs CAP_SYS_RESOURCE) or run fewer connections: " +
      `--set manyConnections=${Math.max(1000, limit - SPARE_FILES)}`,
  );
}

interface Swarm {
  proc: ChildProcess;
  lines: unknown[];
}

function startSwarm(plan: SwarmPlan): Swarm {
  const proc = spawn(
    process.execPath,
    ["--require", require.resolve("tsx/cjs"), join(__dirname, "load-swarm.ts"), JSON.stringify(plan)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const swarm: Swarm = { proc, lines: [] };
  prefixedLines(proc.stdout!, SWARM_PREFIX, (line) => swarm.lines.push(line));
  return swarm;
}

/** Waits for every swarm's `n`th line; a swarm that exits first fails the scenario. */
async function lineOfEach<T>(swarms: Swarm[], n: number, ms: number): Promise<T[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (swarms.every((s) => s.lines.length >= n)) return swarms.map((s) => s.lines[n - 1] as T);
    const gone = swarms.find((s) => s.proc.exitCode !== null && s.lines.length < n);
    if (gone) throw new Error(`a client process exited with ${gone.proc.exitCode}`);
    if (Date.now() > deadline) throw new Error(`the client processes did not answer within ${ms} ms`);
    await sleep(50);
  }
}

interface Connected {
  connected: number;
  byAddress: Record<string, number>;
  failed: number;
  firstError?: string;
}
interface Finished {
  sent: number;
  answered: number;
  wrong: number;
  lost: number;
  disconnects: number;
}

/** Many connections held open, each answering heartbeats and sending an event through the flow once a period. */
export async function scaleMany({ plan, sizes, probe }: LoadContext): Promise<ScaleResult> {
  const n = sizes.manyConnections;
  checkOpenFiles(plan.serverPid, n);
  const urls = Array.from({ length: sizes.manyAddresses }, (_, i) => `http://127.0.0.${i + 1}:${plan.ioPort}`);
  loopbackOnly(urls);
  const before = await probe.mark();
  const processes = sizes.manyClientProcesses;
  const maxMs = sizes.manyHoldMs + 180_000;
  const t0 = now();
  const swarms = Array.from({ length: processes }, (_, i) =>
    startSwarm({
      // Each process starts at another address, so that no address takes the first connections of all.
      urls: urls.map((_, a) => urls[(a + i) % urls.length]),
      namespace: NAMESPACES.echo,
      count: Math.floor(n / processes) + (i < n % processes ? 1 : 0),
      concurrency: Math.ceil(sizes.manyConcurrency / processes),
      pingMs: sizes.manyPingMs,
      maxMs,
    }),
  );
  try {
    const opened = await lineOfEach<Connected>(swarms, 1, 150_000);
    const connectMs = now() - t0;
    const connections = opened.reduce((a, o) => a + o.connected, 0);
    const failed = opened.reduce((a, o) => a + o.failed, 0);
    if (failed > 0)
      console.error(`scale-50k: ${failed} connections failed (${opened.find((o) => o.firstError)?.firstError})`);
    // As in scale: the connect storm's window ends once every client sends; memory after a collection.
    await sleep(sizes.manyPingMs);
    const connectedReport = await probe.mark();
    await sleep(3000);
    await probe.mark(false);
    const h0 = now();
    const cpu0 = probe.cpuNow();
    await sleep(sizes.manyHoldMs);
    const holdMs = now() - h0;
    const end = await probe.mark(false);
    const cpu = probe.cpuSince(cpu0, 1);
    for (const s of swarms) s.proc.stdin!.end("finish\n");
    const finished = await lineOfEach<Finished>(swarms, 2, 60_000);
    const sum = (k: keyof Finished): number => finished.reduce((a, f) => a + f[k], 0);
    const counts = {
      sent: sum("sent"),
      answered: sum("answered"),
      wrong: sum("wrong"),
      disconnects: sum("disconnects"),
    };
    const byAddress: Record<string, number> = {};
    for (const o of opened) for (const [a, k] of Object.entries(o.byAddress)) byAddress[a] = (byAddress[a] ?? 0) + k;
    const result = scaleResult({
      connections,
      connectMs,
      holdMs,
      counts: { ...counts, lost: sum("lost") + failed },
      before,
      connected: connectedReport,
      end,
      // The load is spread over processes: the server's CPU share is the figure, not per event.
      cpu: { ...cpu, loadCpuPercent: NaN, serverUsPerOp: NaN },
    });
    return { ...result, byAddress, clientProcesses: processes };
  } finally {
    for (const s of swarms) if (s.proc.exitCode === null) s.proc.kill();
  }
}
