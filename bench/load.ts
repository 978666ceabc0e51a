/**
 * The load process: Socket.IO clients over loopback against one server (raw or package), in a
 * process of its own so that the clients do not share an event loop with the server.
 *
 * Usage: node --require tsx/cjs bench/load.ts '<LoadPlan as JSON>'
 * Runs the plan's scenarios in order and prints one `RESULT {...}` line per scenario.
 * Every loop is bounded in count and time; the process exits by itself.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { io, type Socket } from "socket.io-client";
import {
  quantile,
  RESULT_PREFIX,
  sleep,
  type ConnectResult,
  type Cpu,
  type FanoutResult,
  type LatencyResult,
  type LoadPlan,
  type RedeployResult,
  type Scenario,
  type ScaleOutResult,
  type ScaleResult,
  type ThroughputResult,
} from "./common";
import { EVENTS, EXTRA_HOPS, NAMESPACES, packageFlows, REFUSAL, TOKEN } from "./flows";

const plan = JSON.parse(process.argv[2] ?? "{}") as LoadPlan;
const sizes = plan.sizes;
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** What the server's loop monitor last wrote (bench/loop-monitor.js). */
interface MonitorReport {
  pid: number;
  seq: number;
  rssKb: number;
  heapUsedKb: number;
  window?: {
    ms: number;
    samples: number;
    p50: number;
    p99: number;
    max: number;
    mean: number;
    gc: { count: number; ms: number; maxMs: number; long: Array<{ atMs: number; ms: number; kind: string }> };
    stalls: Array<{ atMs: number; ms: number }>;
  };
}

function readMonitor(): MonitorReport | undefined {
  try {
    return JSON.parse(readFileSync(plan.monitorFile, "utf8")) as MonitorReport;
  } catch {
    return undefined;
  }
}

/**
 * Ends the server's current measuring window: the monitor reports it, collects garbage (unless
 * `collect` is false), reads the memory and starts the next window. Resolves with that report.
 */
async function mark(collect = true): Promise<MonitorReport> {
  const before = readMonitor();
  writeFileSync(`${plan.monitorFile}.cmd`, collect ? "gc" : "nogc");
  // SIGWINCH: neither Node-RED nor Node.js acts on it (Node-RED exits on SIGUSR2). Signal only a process
  // whose monitor answers, or nothing would come back.
  if (!before || before.pid !== plan.serverPid) throw new Error(`no loop monitor in server process ${plan.serverPid}`);
  process.kill(plan.serverPid, "SIGWINCH");
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = readMonitor();
    if (r && r.seq > before.seq) return r;
    if (Date.now() > deadline) throw new Error("the loop monitor did not answer within 15 s");
    await sleep(20);
  }
}

/** CPU time used so far, in ms: the server's (clock ticks of 10 ms) and this process's. */
function cpuNow(): { server: number; load: number; at: number } {
  const stat = readFileSync(`/proc/${plan.serverPid}/stat`, "utf8");
  // Fields after "(comm)": state is the 3rd field of the line, utime the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const own = process.cpuUsage();
  return { server: ticks * 10, load: (own.user + own.system) / 1000, at: now() };
}

function cpuSince(start: ReturnType<typeof cpuNow>, ops: number): Cpu {
  const end = cpuNow();
  const ms = end.at - start.at;
  const pct = (x: number): number => Math.round((x / ms) * 1000) / 10;
  return {
    serverCpuPercent: pct(end.server - start.server),
    loadCpuPercent: pct(end.load - start.load),
    serverUsPerOp: ops > 0 ? Math.round((((end.server - start.server) * 1000) / ops) * 10) / 10 : NaN,
  };
}

function open(namespace: string, auth?: Record<string, unknown>, base = plan.url): Socket {
  return io(base + namespace, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
    ...(auth ? { auth } : {}),
  });
}

/** An error's message, with the transport's own error that socket.io-client keeps behind "websocket error". */
function messageOf(err: unknown): string {
  const e = err as Error & { description?: { message?: string; error?: { message?: string } } | string };
  const d = e.description;
  const detail = typeof d === "string" ? d : (d?.error?.message ?? d?.message);
  return detail ? `${e.message}: ${detail}` : e.message;
}

/** Resolves once the socket is connected; rejects with the connect_error. */
function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    const ok = (): void => {
      socket.off("connect_error", fail);
      resolve();
    };
    const fail = (err: Error): void => {
      socket.off("connect", ok);
      reject(err);
    };
    socket.once("connect", ok);
    socket.once("connect_error", fail);
  });
}

/** Opens `n` connections with at most `concurrency` attempts in flight. */
async function connectMany(
  n: number,
  concurrency: number,
  make: (i: number) => Socket,
): Promise<{ sockets: Socket[]; failed: number; firstError?: string }> {
  const sockets: Socket[] = [];
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const socket = make(next++);
      try {
        await connected(socket);
        sockets.push(socket);
      } catch (err) {
        failed++;
        firstError ??= messageOf(err);
        socket.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { sockets, failed, firstError };
}

/** Closes every socket and gives the server a moment to see them go. */
async function closeAll(sockets: Socket[]): Promise<void> {
  for (const s of sockets) s.disconnect();
  await sleep(Math.min(2000, 200 + sockets.length / 10));
}

/** Resolves when `check` holds, or false after `ms`. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

interface Request {
  c: number;
  n: number;
}

const isRequest = (p: unknown): p is Request =>
  typeof p === "object" && p !== null && typeof (p as Request).c === "number" && typeof (p as Request).n === "number";

/** A client that sends one request at a time and times each round trip. */
async function pinger(
  namespace: string,
): Promise<{ ping(n: number): Promise<number | "wrong" | "lost">; close(): Promise<void> }> {
  const socket = open(namespace);
  await connected(socket);
  let waiting: ((p: unknown) => void) | undefined;
  let stray = 0;
  socket.on(EVENTS.reply, (p: unknown) => {
    const w = waiting;
    waiting = undefined;
    if (w) w(p);
    else stray++;
  });
  return {
    async ping(n) {
      const t0 = process.hrtime.bigint();
      const reply = await new Promise<unknown>((resolve) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          resolve(undefined);
        }, 5000);
        waiting = (p) => {
          clearTimeout(timer);
          resolve(p);
        };
        socket.emit(EVENTS.request, { c: 0, n });
      });
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      if (reply === undefined) return "lost";
      if (stray > 0 || !isRequest(reply) || reply.c !== 0 || reply.n !== n) return "wrong";
      return us;
    },
    close: () => closeAll([socket]),
  };
}

/**
 * 1 client, sequential emit → flow → reply. On the package the pings alternate with pings through
 * a flow with EXTRA_HOPS more junctions: both then see the same machine, and their difference is
 * Node-RED's own cost per hop.
 */
async function latency(): Promise<LatencyResult> {
  const direct = await pinger(NAMESPACES.echo);
  const hops = plan.target === "package" ? await pinger(NAMESPACES.hops) : undefined;
  let wrong = 0;
  let lost = 0;
  const samples: number[] = [];
  const hopSamples: number[] = [];
  const total = sizes.latencyWarmup + sizes.latencyPings;
  let cpu0 = cpuNow();
  for (let i = 0; i < total && lost < 3; i++) {
    if (i === sizes.latencyWarmup) cpu0 = cpuNow();
    const us = await direct.ping(i);
    if (us === "lost") lost++;
    else if (us === "wrong") wrong++;
    else if (i >= sizes.latencyWarmup) samples.push(us);
    if (!hops) continue;
    const hopUs = await hops.ping(i);
    if (hopUs === "lost") lost++;
    else if (hopUs === "wrong") wrong++;
    else if (i >= sizes.latencyWarmup) hopSamples.push(hopUs);
  }
  const cpu = cpuSince(cpu0, samples.length + hopSamples.length);
  await direct.close();
  await hops?.close();
  samples.sort((a, b) => a - b);
  hopSamples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const r = (x: number): number => Math.round(x * 10) / 10;
  const p50 = quantile(samples, 0.5);
  const extra = hops
    ? {
        hopsP50Us: r(quantile(hopSamples, 0.5)),
        hopsP99Us: r(quantile(hopSamples, 0.99)),
        perHopUs: r((quantile(hopSamples, 0.5) - p50) / EXTRA_HOPS),
      }
    : {};
  return {
    pings: samples.length,
    p50Us: r(p50),
    p90Us: r(quantile(samples, 0.9)),
    p99Us: r(quantile(samples, 0.99)),
    meanUs: r(mean),
    ...extra,
    ...cpu,
    wrong,
    lost,
  };
}

/** Clients keep a fixed number of requests in flight; each reply must answer one of them. */
async function throughput(namespace: string): Promise<ThroughputResult> {
  const { sockets, failed, firstError } = await connectMany(sizes.throughputClients, sizes.throughputClients, () =>
    open(namespace),
  );
  if (failed > 0) throw new Error(`${failed} clients could not connect: ${firstError}`);
  let sending = true;
  let done = 0;
  let wrong = 0;
  const pending = sockets.map(() => new Set<number>());
  sockets.forEach((socket, c) => {
    let next = 0;
    const send = (): void => {
      const n = next++;
      pending[c].add(n);
      socket.emit(EVENTS.request, { c, n });
    };
    socket.on(EVENTS.reply, (p: unknown) => {
      if (!isRequest(p) || p.c !== c || !pending[c].delete(p.n)) {
        wrong++;
        return;
      }
      done++;
      if (sending) send();
    });
    for (let k = 0; k < sizes.throughputInFlight; k++) send();
  });
  await sleep(sizes.throughputWarmupMs);
  const t0 = now();
  const cpu0 = cpuNow();
  const done0 = done;
  await sleep(sizes.throughputMs);
  const ms = now() - t0;
  const roundTrips = done - done0;
  const cpu = cpuSince(cpu0, roundTrips);
  sending = false;
  await until(() => pending.every((p) => p.size === 0), 5000);
  const lost = pending.reduce((a, p) => a + p.size, 0);
  await closeAll(sockets);
  return {
    clients: sockets.length,
    inFlight: sizes.throughputInFlight,
    ms: Math.round(ms),
    roundTrips,
    perSecond: Math.round((roundTrips / ms) * 1000),
    ...cpu,
    wrong,
    lost,
  };
}

/** Clients in one room; one of them triggers events that the server broadcasts to the room. */
async function fanout(): Promise<FanoutResult> {
  return fanoutOver([plan.url], true);
}

/**
 * Fan-out with the clients spread over the servers at `urls` in turn; the first client (on the first
 * server) triggers the events. `measureCpu`: the CPU of the plan's server (one server only).
 */
async function fanoutOver(urls: string[], measureCpu: boolean, events = sizes.fanEvents): Promise<FanoutResult> {
  let joined = 0;
  let wrong = 0;
  let trigger: Socket | undefined;
  const { sockets, failed, firstError } = await connectMany(sizes.fanClients, 100, (i) => {
    const s = open(NAMESPACES.fan, undefined, urls[i % urls.length]);
    if (i === 0) trigger = s;
    s.once(EVENTS.joined, (id: unknown) => {
      if (id !== s.id) wrong++;
      joined++;
    });
    return s;
  });
  if (failed > 0) throw new Error(`${failed} clients could not connect: ${firstError}`);
  if (!(await until(() => joined === sockets.length, 20_000)))
    throw new Error(`only ${joined} of ${sockets.length} clients joined the room`);
  const total = sockets.length * events;
  const expected = sockets.map(() => 0);
  let deliveries = 0;
  let last = 0;
  sockets.forEach((socket, c) => {
    socket.on(EVENTS.fanned, (p: unknown) => {
      if (!isRequest(p) || p.n !== expected[c]) {
        wrong++;
        return;
      }
      expected[c]++;
      deliveries++;
      if (deliveries === total) last = now();
    });
  });
  const t0 = now();
  const cpu0 = measureCpu ? cpuNow() : undefined;
  for (let n = 0; n < events; n++) trigger!.emit(EVENTS.trigger, { c: -1, n });
  await until(() => deliveries === total, 30_000);
  const ms = (last || now()) - t0;
  const cpu = cpu0 ? cpuSince(cpu0, deliveries) : {};
  await closeAll(sockets);
  return {
    clients: sockets.length,
    events,
    deliveries,
    ms: Math.round(ms),
    perSecond: Math.round((deliveries / ms) * 1000),
    ...cpu,
    wrong,
    lost: total - deliveries,
  };
}

/**
 * The same fan-out on one instance with the in-memory adapter (the plan's server), then with the
 * clients spread over two instances on one Redis: the trigger reaches the second instance's clients
 * through Redis pub/sub.
 */
async function scaleout(): Promise<ScaleOutResult> {
  if (!plan.scaleOutUrls) throw new Error("scale-out needs the URLs of two instances on one Redis");
  // Each side once unmeasured first: the two instances are new, and the package server is warm only
  // when scenarios ran before this one. Neither is then measured with cold code.
  const events = sizes.scaleOutEvents;
  const warmUp = [await fanoutOver([plan.url], false, events), await fanoutOver(plan.scaleOutUrls, false, events)];
  const single = await fanoutOver([plan.url], false, events);
  await sleep(200);
  const two = await fanoutOver(plan.scaleOutUrls, false, events);
  const checked = [...warmUp, single, two];
  return {
    clients: two.clients,
    events: two.events,
    singlePerSecond: single.perSecond,
    singleMs: single.ms,
    perSecond: two.perSecond,
    ms: two.ms,
    ratio: Math.round((two.perSecond / single.perSecond) * 100) / 100,
    wrong: checked.reduce((n, r) => n + r.wrong, 0),
    lost: checked.reduce((n, r) => n + r.lost, 0),
  };
}

/** Connections through the middleware: the right token is admitted, a wrong one refused. */
async function connect(): Promise<ConnectResult> {
  const before = await mark();
  const t0 = now();
  const cpu0 = cpuNow();
  const { sockets, failed } = await connectMany(sizes.connects, sizes.connectConcurrency, () =>
    open(NAMESPACES.auth, { token: TOKEN }),
  );
  const ms = now() - t0;
  const cpu = cpuSince(cpu0, sockets.length);
  const after = await mark();
  let wrong = failed;
  let refused = 0;
  const attempts = Array.from({ length: sizes.refusedConnects }, async () => {
    const s = open(NAMESPACES.auth, { token: "wrong" });
    try {
      await connected(s);
      wrong++;
    } catch (err) {
      if ((err as Error).message === REFUSAL) refused++;
      else wrong++;
    } finally {
      s.close();
    }
  });
  await Promise.all(attempts);
  await closeAll(sockets);
  const n = sockets.length;
  return {
    connections: n,
    ms: Math.round(ms),
    perSecond: Math.round((n / ms) * 1000),
    refused,
    rssBeforeKb: before.rssKb,
    rssAfterKb: after.rssKb,
    kbPerConnection: Math.round(((after.rssKb - before.rssKb) / n) * 100) / 100,
    heapKbPerConnection: Math.round(((after.heapUsedKb - before.heapUsedKb) / n) * 100) / 100,
    ...cpu,
    wrong,
    lost: 0,
  };
}

async function deploy(revision: number): Promise<number> {
  if (!plan.adminUrl) throw new Error("redeploy needs Node-RED's admin URL");
  const t0 = now();
  const res = await fetch(`${plan.adminUrl}/flows`, {
    method: "POST",
    headers: { "content-type": "application/json", "Node-RED-Deployment-Type": "full" },
    body: JSON.stringify(packageFlows(plan.ioPort, revision)),
  });
  if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  return Math.round(now() - t0);
}

/**
 * Each socket sends a numbered request once a period (the sockets spread over it) and expects the
 * reply to it: counts what was sent, answered, wrong, lost, and the disconnects on the way.
 */
class PeriodicRequests {
  sent = 0;
  answered = 0;
  wrong = 0;
  disconnects = 0;
  private running = true;
  private closing = false;
  private readonly pending: Array<Set<number>>;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly sockets: Socket[],
    periodMs: number,
  ) {
    this.pending = sockets.map(() => new Set<number>());
    sockets.forEach((socket, c) => {
      let next = 0;
      socket.on("disconnect", () => {
        if (!this.closing) this.disconnects++;
      });
      socket.on(EVENTS.reply, (p: unknown) => {
        if (!isRequest(p) || p.c !== c || !this.pending[c].delete(p.n)) this.wrong++;
        else this.answered++;
      });
      const send = (): void => {
        if (!this.running) return;
        const n = next++;
        this.pending[c].add(n);
        this.sent++;
        socket.emit(EVENTS.request, { c, n });
      };
      this.timers.push(setTimeout(() => this.timers.push(setInterval(send, periodMs)), Math.random() * periodMs));
    });
  }

  /** Stops sending, waits up to `ms` for the replies still due and closes the sockets; returns how many never came. */
  async finish(ms: number): Promise<number> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    await until(() => this.pending.every((p) => p.size === 0), ms);
    const lost = this.pending.reduce((a, p) => a + p.size, 0);
    this.closing = true;
    await closeAll(this.sockets);
    return lost;
  }
}

/** Clients keep sending while the flows are deployed again and again. */
async function redeploy(): Promise<RedeployResult> {
  const { sockets, failed, firstError } = await connectMany(sizes.redeployClients, 100, () => open(NAMESPACES.echo));
  if (failed > 0) throw new Error(`${failed} clients could not connect: ${firstError}`);
  const requests = new PeriodicRequests(sockets, sizes.redeployEventMs);
  await sleep(500);
  const deployMs: number[] = [];
  for (let i = 1; i <= sizes.redeploys; i++) {
    deployMs.push(await deploy(i));
    await sleep(300);
  }
  await sleep(500);
  const lost = await requests.finish(5000);
  const { disconnects, sent, answered, wrong } = requests;
  return { clients: sockets.length, deploys: deployMs.length, deployMs, disconnects, sent, answered, wrong, lost };
}

/** Many connections held open, each pinging through the flow once a period. */
async function scale(): Promise<ScaleResult> {
  const before = await mark();
  const t0 = now();
  const { sockets, failed, firstError } = await connectMany(sizes.scaleConnections, sizes.scaleConcurrency, () =>
    open(NAMESPACES.echo),
  );
  const connectMs = now() - t0;
  if (failed > 0) console.error(`scale: ${failed} connections failed (${firstError})`);
  const requests = new PeriodicRequests(sockets, sizes.scalePingMs);
  // The connect storm's window ends once every client pings; memory is read after a collection.
  await sleep(sizes.scalePingMs);
  const connectedReport = await mark();
  // The collection paused the loop and left a backlog of pings: the hold window starts after it.
  await sleep(Math.min(3000, sizes.scaleHoldMs / 5));
  await mark(false);
  const h0 = now();
  const cpu0 = cpuNow();
  const sent0 = requests.sent;
  await sleep(sizes.scaleHoldMs);
  const cpu = cpuSince(cpu0, requests.sent - sent0);
  const end = await mark(false);
  const holdMs = now() - h0;
  const lost = await requests.finish(10_000);
  const { disconnects, sent, answered, wrong } = requests;
  const w = end.window!;
  return {
    connections: sockets.length,
    connectMs: Math.round(connectMs),
    connectPerSecond: Math.round((sockets.length / connectMs) * 1000),
    holdMs: Math.round(holdMs),
    pingsSent: sent,
    pingsAnswered: answered,
    disconnects,
    rssBeforeKb: before.rssKb,
    rssConnectedKb: connectedReport.rssKb,
    rssEndKb: end.rssKb,
    kbPerConnection: Math.round(((connectedReport.rssKb - before.rssKb) / Math.max(1, sockets.length)) * 100) / 100,
    loopP50Ms: w.p50,
    loopP99Ms: w.p99,
    loopMaxMs: w.max,
    loopSamples: w.samples,
    gcMs: w.gc.ms,
    gcMaxMs: w.gc.maxMs,
    longPauses: { gc: w.gc.long, stalls: w.stalls },
    ...cpu,
    wrong,
    lost: lost + failed,
  };
}

const RUN: Record<Scenario, () => Promise<unknown>> = {
  latency,
  throughput: () => throughput(NAMESPACES.echo),
  clone: () => throughput(NAMESPACES.clone),
  hops: () => throughput(NAMESPACES.hops),
  fanout,
  connect,
  redeploy,
  scale,
  scaleout,
};

async function main(): Promise<void> {
  for (const scenario of plan.scenarios) {
    const started = Date.now();
    try {
      const result = await RUN[scenario]();
      console.log(RESULT_PREFIX + JSON.stringify({ scenario, result, ms: Date.now() - started }));
    } catch (err) {
      console.log(RESULT_PREFIX + JSON.stringify({ scenario, error: messageOf(err), ms: Date.now() - started }));
    }
    // Let the server settle between scenarios.
    await sleep(200);
  }
}

// A hard stop: no scenario may hang the benchmark.
setTimeout(() => {
  console.error("load: giving up after 4 minutes");
  process.exit(3);
}, 240_000).unref();

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
