// The report's rows for the connection scenarios: connect, redeploy, scale.
import { type Sizes } from "./common";
import { ratio, type Figures } from "./report-figures";

/** Connect: connections through a middleware flow, and the memory each holds. */
export function connectRows({ rows, med, has, cpuRows }: Figures, sizes: Sizes): void {
  if (!(has("raw", "connect") || has("package", "connect"))) return;
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

/** Redeploy: full deploys while clients keep sending. */
export function redeployRows({ rows, med, sum, has }: Figures, sizes: Sizes): void {
  if (!has("package", "redeploy")) return;
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

/** Scale: many connections held open. */
export function scaleRows({ rows, med, has }: Figures, sizes: Sizes): void {
  if (!(has("raw", "scale") || has("package", "scale"))) return;
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
