// The report's rows for the connection scenarios: connect and redeploy.
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
    target: "≥ 0.9 × raw",
    pass: q !== undefined && q >= 0.9,
  });
  cpuRows("connect", "connection", 1.1);
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
