/** What the runner, the load process and the report share. */

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
};

export const SCENARIOS = [
  "latency",
  "throughput",
  "clone",
  "hops",
  "fanout",
  "connect",
  "redeploy",
  "scale",
  "scaleout",
] as const;
export type Scenario = (typeof SCENARIOS)[number];
/** Scenarios that only mean something for the package (they measure Node-RED or the package itself). */
export const PACKAGE_ONLY: readonly Scenario[] = ["clone", "hops", "redeploy", "scaleout"];

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

/**
 * CPU time over a scenario's measured part: the server's (from /proc/<pid>/stat) and the load
 * process's own. A load process near 100 % means the clients, not the server, set the pace; the
 * server's CPU time per operation compares the two servers whatever the clients manage.
 */
export interface Cpu {
  serverCpuPercent: number;
  loadCpuPercent: number;
  /** Server CPU time per round trip, delivery or connection. */
  serverUsPerOp: number;
}

/** Every scenario's result carries its correctness counts. */
export interface Checked extends Partial<Cpu> {
  /** Replies that did not match a request of this client (wrong content, duplicate, out of order). */
  wrong: number;
  /** Requests that got no reply (or deliveries that never came). */
  lost: number;
}

export interface LatencyResult extends Checked {
  pings: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  /**
   * Package only: the same pings through a flow with EXTRA_HOPS more junctions, sent alternately
   * with the direct ones (so both see the same machine), and the per-hop cost this gives.
   */
  hopsP50Us?: number;
  hopsP99Us?: number;
  perHopUs?: number;
}

export interface ThroughputResult extends Checked {
  clients: number;
  inFlight: number;
  ms: number;
  roundTrips: number;
  perSecond: number;
}

export interface FanoutResult extends Checked {
  clients: number;
  events: number;
  deliveries: number;
  ms: number;
  perSecond: number;
}

/**
 * Fan-out with the same clients spread over two Node-RED instances on one Redis (pub/sub adapter),
 * and on one instance with the in-memory adapter (the package server of the round).
 */
export interface ScaleOutResult extends Checked {
  clients: number;
  events: number;
  /** Deliveries per second with every client on one instance, in-memory adapter. */
  singlePerSecond: number;
  singleMs: number;
  /** Deliveries per second with half the clients on each of two instances, through Redis. */
  perSecond: number;
  ms: number;
  /** perSecond / singlePerSecond. */
  ratio: number;
}

export interface ConnectResult extends Checked {
  connections: number;
  ms: number;
  perSecond: number;
  refused: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  kbPerConnection: number;
  heapKbPerConnection: number;
}

export interface RedeployResult extends Checked {
  clients: number;
  deploys: number;
  deployMs: number[];
  disconnects: number;
  sent: number;
  answered: number;
}

export interface ScaleResult extends Checked {
  connections: number;
  connectMs: number;
  connectPerSecond: number;
  holdMs: number;
  pingsSent: number;
  pingsAnswered: number;
  disconnects: number;
  rssBeforeKb: number;
  rssConnectedKb: number;
  rssEndKb: number;
  kbPerConnection: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  loopSamples: number;
  /** Garbage collection in the hold window: total and longest pause. */
  gcMs: number;
  gcMaxMs: number;
  /** Collections ≥ 50 ms and event-loop stalls > 250 ms, with their time from the hold window's start. */
  longPauses: { gc: Array<{ atMs: number; ms: number; kind: string }>; stalls: Array<{ atMs: number; ms: number }> };
}

export interface ScenarioResults {
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  clone?: ThroughputResult;
  /** Throughput through EXTRA_HOPS more junctions: Node-RED's CPU cost per hop. */
  hops?: ThroughputResult;
  fanout?: FanoutResult;
  connect?: ConnectResult;
  redeploy?: RedeployResult;
  scale?: ScaleResult;
  scaleout?: ScaleOutResult;
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
