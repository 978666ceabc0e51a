// The load process's message scenarios: round trips one at a time and many in flight, and fan-out
// to clients on one instance or spread over two.
import { now, quantile, sleep } from "./common";
import { EVENTS, EXTRA_HOPS, NAMESPACES } from "./flows";
import type { Socket } from "socket.io-client";
import { closeAll, connectMany, isRequest, open, pinger, until } from "./load-clients";
import type { LoadContext } from "./load-probe";
import type { FanoutResult, LatencyResult, ScaleOutResult, ThroughputResult } from "./results";

/**
 * 1 client, sequential emit → flow → reply. On the package the pings alternate with pings through
 * a flow with EXTRA_HOPS more junctions: both then see the same machine, and their difference is
 * Node-RED's own cost per hop.
 */
export async function latency({ plan, sizes, probe }: LoadContext): Promise<LatencyResult> {
  const direct = await pinger(plan.url, NAMESPACES.echo);
  const hops = plan.target === "package" ? await pinger(plan.url, NAMESPACES.hops) : undefined;
  let wrong = 0;
  let lost = 0;
  const samples: number[] = [];
  const hopSamples: number[] = [];
  const total = sizes.latencyWarmup + sizes.latencyPings;
  let cpu0 = probe.cpuNow();
  for (let i = 0; i < total && lost < 3; i++) {
    if (i === sizes.latencyWarmup) cpu0 = probe.cpuNow();
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
  const cpu = probe.cpuSince(cpu0, samples.length + hopSamples.length);
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
export async function throughput({ plan, sizes, probe }: LoadContext, namespace: string): Promise<ThroughputResult> {
  const { sockets, failed, firstError } = await connectMany(sizes.throughputClients, sizes.throughputClients, () =>
    open(plan.url, namespace),
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
  const cpu0 = probe.cpuNow();
  const done0 = done;
  await sleep(sizes.throughputMs);
  const ms = now() - t0;
  const roundTrips = done - done0;
  const cpu = probe.cpuSince(cpu0, roundTrips);
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
export async function fanout(ctx: LoadContext): Promise<FanoutResult> {
  return fanoutOver(ctx, [ctx.plan.url], true);
}

/**
 * Fan-out with the clients spread over the servers at `urls` in turn; the first client (on the first
 * server) triggers the events. `measureCpu`: the CPU of the plan's server (one server only).
 */
async function fanoutOver(
  { sizes, probe }: LoadContext,
  urls: string[],
  measureCpu: boolean,
  events = sizes.fanEvents,
): Promise<FanoutResult> {
  let joined = 0;
  let wrong = 0;
  let trigger: Socket | undefined;
  const { sockets, failed, firstError } = await connectMany(sizes.fanClients, 100, (i) => {
    const s = open(urls[i % urls.length], NAMESPACES.fan);
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
  const cpu0 = measureCpu ? probe.cpuNow() : undefined;
  for (let n = 0; n < events; n++) trigger!.emit(EVENTS.trigger, { c: -1, n });
  await until(() => deliveries === total, 30_000);
  const ms = (last || now()) - t0;
  const cpu = cpu0 ? probe.cpuSince(cpu0, deliveries) : {};
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
export async function scaleout(ctx: LoadContext): Promise<ScaleOutResult> {
  const { plan, sizes } = ctx;
  if (!plan.scaleOutUrls) throw new Error("scale-out needs the URLs of two instances on one Redis");
  // Each side once unmeasured first: the two instances are new, and the package server is warm only
  // when scenarios ran before this one. Neither is then measured with cold code.
  const events = sizes.scaleOutEvents;
  const warmUp = [
    await fanoutOver(ctx, [plan.url], false, events),
    await fanoutOver(ctx, plan.scaleOutUrls, false, events),
  ];
  const single = await fanoutOver(ctx, [plan.url], false, events);
  await sleep(200);
  const two = await fanoutOver(ctx, plan.scaleOutUrls, false, events);
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
