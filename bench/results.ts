// What a scenario measures: the load process's RESULT lines, and the runner's rounds of them.
import type { Scenario, Target } from "./common";

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
  /** scale-50k: the connections per destination address, and how many client processes held them. */
  byAddress?: Record<string, number>;
  clientProcesses?: number;
}

export interface ScenarioResults {
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  clone?: ThroughputResult;
  /** Throughput with the on node also wired to an active debug node showing the complete msg. */
  debug?: ThroughputResult;
  /** Throughput through EXTRA_HOPS more junctions: Node-RED's CPU cost per hop. */
  hops?: ThroughputResult;
  fanout?: FanoutResult;
  connect?: ConnectResult;
  redeploy?: RedeployResult;
  scale?: ScaleResult;
  /** The same with 50,000 connections from several client processes (`--only scale-50k`). */
  "scale-50k"?: ScaleResult;
  scaleout?: ScaleOutResult;
}

/** What the runner collected from one load process. */
export interface LoadOutcome {
  results: ScenarioResults;
  errors: Partial<Record<Scenario, string>>;
  scenarioMs: Partial<Record<Scenario, number>>;
}

/** One round: each side's load outcome, in the order they ran. */
export interface Round {
  round: number;
  order: Target[];
  raw?: LoadOutcome;
  package?: LoadOutcome;
}
