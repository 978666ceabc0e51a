// The load process's connection scenarios: connects through a middleware, redeploys under traffic,
// and many connections held open.
import { now, sleep, type LoadPlan } from "./common";
import { NAMESPACES, packageFlows, REFUSAL, TOKEN } from "./flows";
import { closeAll, connected, connectMany, open, PeriodicRequests } from "./load-clients";
import type { LoadContext, MonitorReport } from "./load-probe";
import type { ConnectResult, Cpu, RedeployResult, ScaleResult } from "./results";

/** Connections through the middleware: the right token is admitted, a wrong one refused. */
export async function connect({ plan, sizes, probe }: LoadContext): Promise<ConnectResult> {
  const before = await probe.mark();
  const t0 = now();
  const cpu0 = probe.cpuNow();
  const { sockets, failed } = await connectMany(sizes.connects, sizes.connectConcurrency, () =>
    open(plan.url, NAMESPACES.auth, { token: TOKEN }),
  );
  const ms = now() - t0;
  const cpu = probe.cpuSince(cpu0, sockets.length);
  const after = await probe.mark();
  let wrong = failed;
  let refused = 0;
  const attempts = Array.from({ length: sizes.refusedConnects }, async () => {
    const s = open(plan.url, NAMESPACES.auth, { token: "wrong" });
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

async function deploy(plan: LoadPlan, revision: number): Promise<number> {
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

/** Clients keep sending while the flows are deployed again and again. */
export async function redeploy({ plan, sizes }: LoadContext): Promise<RedeployResult> {
  const { sockets, failed, firstError } = await connectMany(sizes.redeployClients, 100, () =>
    open(plan.url, NAMESPACES.echo),
  );
  if (failed > 0) throw new Error(`${failed} clients could not connect: ${firstError}`);
  const requests = new PeriodicRequests(sockets, sizes.redeployEventMs);
  await sleep(500);
  const deployMs: number[] = [];
  for (let i = 1; i <= sizes.redeploys; i++) {
    deployMs.push(await deploy(plan, i));
    await sleep(300);
  }
  await sleep(500);
  const lost = await requests.finish(5000);
  const { disconnects, sent, answered, wrong } = requests;
  return { clients: sockets.length, deploys: deployMs.length, deployMs, disconnects, sent, answered, wrong, lost };
}

/** Many connections held open, each pinging through the flow once a period. */
export async function scale({ plan, sizes, probe }: LoadContext): Promise<ScaleResult> {
  const before = await probe.mark();
  const t0 = now();
  const { sockets, failed, firstError } = await connectMany(sizes.scaleConnections, sizes.scaleConcurrency, () =>
    open(plan.url, NAMESPACES.echo),
  );
  const connectMs = now() - t0;
  if (failed > 0) console.error(`scale: ${failed} connections failed (${firstError})`);
  const requests = new PeriodicRequests(sockets, sizes.scalePingMs);
  // The connect storm's window ends once every client pings; memory is read after a collection.
  await sleep(sizes.scalePingMs);
  const connectedReport = await probe.mark();
  // The collection paused the loop and left a backlog of pings: the hold window starts after it.
  await sleep(Math.min(3000, sizes.scaleHoldMs / 5));
  await probe.mark(false);
  const h0 = now();
  const cpu0 = probe.cpuNow();
  const sent0 = requests.sent;
  await sleep(sizes.scaleHoldMs);
  const cpu = probe.cpuSince(cpu0, requests.sent - sent0);
  const end = await probe.mark(false);
  const holdMs = now() - h0;
  const lost = await requests.finish(10_000);
  const { disconnects, sent, answered, wrong } = requests;
  return scaleResult({
    connections: sockets.length,
    connectMs,
    holdMs,
    counts: { sent, answered, wrong, lost: lost + failed, disconnects },
    before,
    connected: connectedReport,
    end,
    cpu,
  });
}

/** What a scale scenario measured, as its result: counts, memory, the hold window's loop and CPU. */
export function scaleResult(m: {
  connections: number;
  connectMs: number;
  holdMs: number;
  counts: { sent: number; answered: number; wrong: number; lost: number; disconnects: number };
  before: MonitorReport;
  connected: MonitorReport;
  end: MonitorReport;
  cpu: Cpu;
}): ScaleResult {
  const w = m.end.window!;
  return {
    connections: m.connections,
    connectMs: Math.round(m.connectMs),
    connectPerSecond: Math.round((m.connections / m.connectMs) * 1000),
    holdMs: Math.round(m.holdMs),
    pingsSent: m.counts.sent,
    pingsAnswered: m.counts.answered,
    disconnects: m.counts.disconnects,
    rssBeforeKb: m.before.rssKb,
    rssConnectedKb: m.connected.rssKb,
    rssEndKb: m.end.rssKb,
    kbPerConnection: Math.round(((m.connected.rssKb - m.before.rssKb) / Math.max(1, m.connections)) * 100) / 100,
    loopP50Ms: w.p50,
    loopP99Ms: w.p99,
    loopMaxMs: w.max,
    loopSamples: w.samples,
    gcMs: w.gc.ms,
    gcMaxMs: w.gc.maxMs,
    longPauses: { gc: w.gc.long, stalls: w.stalls },
    ...m.cpu,
    wrong: m.counts.wrong,
    lost: m.counts.lost,
  };
}
