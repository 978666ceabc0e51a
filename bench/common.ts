/** What the runner, the load process and the report share: the sizes, the scenarios, the plan. */

export type Target = "raw" | "package";

export interface Sizes {
  /** Sequential round trips of the latency scenario (after `latencyWarmup` unmeasured ones). */
  latencyPings: number;
  latencyWarmup: number;
  throughputClients: number;
  throughputInFlight: number;
  throughputMs: number;
  /** Round trips before the throughput window opens (JIT, buffers). */
  throughputWarmupMs: number;
  fanClients: number;
  fanEvents: number;
  /** Events of the scale-out scenario's fan-out: more than `fanEvents`, so each window lasts about a second. */
  scaleOutEvents: number;
  connects: number;
  /** Connection attempts with a wrong token after the measured ones: each must be refused. */
  refusedConnects: number;
  /** Connection attempts in flight at once. */
  connectConcurrency: number;
  redeployClients: number;
  redeploys: number;
  /** Each redeploy client sends one event this often. */
  redeployEventMs: number;
  scaleConnections: number;
  scaleHoldMs: number;
  scalePingMs: number;
  scaleConcurrency: number;
  /** scale-50k: connections, held this long, each sending an event once a period. */
  manyConnections: number;
  manyHoldMs: number;
  manyPingMs: number;
  manyConcurrency: number;
  /** Client processes, and destination addresses 127.0.0.1 to 127.0.0.N the connections spread over. */
  manyClientProcesses: number;
  manyAddresses: number;
}

export const FULL: Sizes = {
  latencyPings: 3000,
  latencyWarmup: 300,
  throughputClients: 20,
  throughputInFlight: 20,
  throughputMs: 4000,
  throughputWarmupMs: 500,
  fanClients: 300,
  fanEvents: 100,
  scaleOutEvents: 1000,
  connects: 2000,
  refusedConnects: 50,
  connectConcurrency: 100,
  redeployClients: 200,
  redeploys: 5,
  redeployEventMs: 100,
  scaleConnections: 10_000,
  scaleHoldMs: 30_000,
  scalePingMs: 1000,
  scaleConcurrency: 500,
  manyConnections: 50_000,
  manyHoldMs: 60_000,
  manyPingMs: 10_000,
  manyConcurrency: 1000,
  manyClientProcesses: 4,
  manyAddresses: 4,
};

export const QUICK: Sizes = {
  latencyPings: 300,
  latencyWarmup: 50,
  throughputClients: 20,
  throughputInFlight: 20,
  throughputMs: 1000,
  throughputWarmupMs: 200,
  fanClients: 50,
  fanEvents: 100,
  scaleOutEvents: 100,
  connects: 200,
  refusedConnects: 10,
  connectConcurrency: 50,
  redeployClients: 20,
  redeploys: 2,
  redeployEventMs: 100,
  scaleConnections: 500,
  scaleHoldMs: 3000,
  scalePingMs: 1000,
  scaleConcurrency: 250,
  manyConnections: 2000,
  manyHoldMs: 5000,
  manyPingMs: 1000,
  manyConcurrency: 200,
  manyClientProcesses: 2,
  manyAddresses: 2,
};

export const SCENARIOS = [
  "latency",
  "throughput",
  "clone",
  "debug",
  "hops",
  "fanout",
  "connect",
  "redeploy",
  "scale",
  "scaleout",
  "scale-50k",
] as const;
export type Scenario = (typeof SCENARIOS)[number];
/** Run only when named with --only: they take longer than the rest of a full run. */
export const ON_REQUEST: readonly Scenario[] = ["scale-50k"];
/** Scenarios that run in the last round only. */
export const LAST_ROUND_ONLY: readonly Scenario[] = ["scale", "scale-50k"];
/** Scenarios that only mean something for the package (they measure Node-RED or the package itself). */
export const PACKAGE_ONLY: readonly Scenario[] = ["clone", "debug", "hops", "redeploy", "scaleout"];

/** The Redis the scale-out scenario's two Node-RED instances share. */
export const BENCH_REDIS_URL = "redis://127.0.0.1:6379";

/** What run.ts hands the load process (as JSON in argv[2]). */
export interface LoadPlan {
  target: Target;
  /** http://127.0.0.1:<io port> */
  url: string;
  ioPort: number;
  serverPid: number;
  /** The file the server's loop monitor writes. */
  monitorFile: string;
  /** Node-RED's admin URL (package only), for the redeploy scenario. */
  adminUrl?: string;
  /** The socket.io URLs of two more Node-RED instances on one Redis (package only), for the scale-out scenario. */
  scaleOutUrls?: [string, string];
  sizes: Sizes;
  scenarios: Scenario[];
}

/** The load process prints one line per scenario starting with this, followed by JSON. */
export const RESULT_PREFIX = "RESULT ";

/** The q-quantile (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Milliseconds on the high-resolution clock. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A progress line of the runner, on stderr. */
export const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** Calls `fn` with the JSON after `prefix` of each whole line of `stream` that starts with it. */
export function prefixedLines(stream: NodeJS.ReadableStream, prefix: string, fn: (value: unknown) => void): void {
  let buffer = "";
  stream.on("data", (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith(prefix)) fn(JSON.parse(line.slice(prefix.length)));
    }
  });
}
