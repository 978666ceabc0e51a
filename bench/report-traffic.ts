// The report's rows for the message scenarios: latency, throughput, clone, hops, fan-out, scale-out.
import { median, type Sizes } from "./common";
import { EXTRA_HOPS } from "./flows";
import { ratio, type Figures, type Row } from "./report-figures";

/** Latency: round trips one at a time, and the cost of a Node-RED hop. */
export function latencyRows({ rows, med, has }: Figures, sizes: Sizes): void {
  if (!(has("raw", "latency") || has("package", "latency"))) return;
  const raw = med("raw", (r) => r.latency?.p50Us);
  const pkg = med("package", (r) => r.latency?.p50Us);
  const q = ratio(pkg, raw);
  rows.push({
    figure: `latency p50 (${sizes.latencyPings} sequential)`,
    unit: "µs",
    raw,
    pkg,
    ratio: q,
    target: "≤ 1.10 × raw",
    pass: q !== undefined && q <= 1.1,
  });
  rows.push({
    figure: "latency p99",
    unit: "µs",
    raw: med("raw", (r) => r.latency?.p99Us),
    pkg: med("package", (r) => r.latency?.p99Us),
  });
  if (has("package", "latency")) {
    const perHop = med("package", (r) => r.latency?.perHopUs);
    rows.push({
      figure: `latency p50 with ${EXTRA_HOPS} more junction hops`,
      unit: "µs",
      pkg: med("package", (r) => r.latency?.hopsP50Us),
    });
    rows.push({ figure: "Node-RED cost per hop (p50)", unit: "µs", pkg: perHop });
    floorRows(rows, ["floor: raw + 1 hop (on → emit)", "package cost beyond the floor"], raw, perHop, pkg);
  }
}

/** Throughput: round trips with many in flight. */
export function throughputRows({ rows, med, sum, has, cpuRows }: Figures, sizes: Sizes): void {
  if (!(has("raw", "throughput") || has("package", "throughput"))) return;
  const raw = med("raw", (r) => r.throughput?.perSecond);
  const pkg = med("package", (r) => r.throughput?.perSecond);
  const wrong = sum("raw", (r) => r.throughput?.wrong) + sum("package", (r) => r.throughput?.wrong);
  const q = ratio(pkg, raw);
  rows.push({
    figure: `throughput (${sizes.throughputClients} × ${sizes.throughputInFlight} in flight)`,
    unit: "round trips/s",
    raw,
    pkg,
    ratio: q,
    target: "≥ 0.9 × raw, 0 wrong",
    pass: q !== undefined && q >= 0.9 && wrong === 0,
  });
  cpuRows("throughput", "round trip", 1.15);
  rows.push({
    figure: "throughput wrong replies (all rounds)",
    raw: sum("raw", (r) => r.throughput?.wrong),
    pkg: sum("package", (r) => r.throughput?.wrong),
    target: "0",
    pass: wrong === 0,
  });
}

/**
 * A second wire from the on node, as a ratio to the single wire of the same round: to an inactive
 * debug node (clone: Node-RED deep-clones the msg), or to an active one showing the complete msg
 * (debug: the clone and the debug node's formatting of it).
 */
export function secondWireRows(
  { rows, values, med, has }: Figures,
  scenario: "clone" | "debug",
  figure: string,
  atLeast: number,
): void {
  if (!has("package", scenario)) return;
  const perRound = median(
    values("package", (r) =>
      r[scenario] && r.throughput ? r[scenario].perSecond / r.throughput.perSecond : undefined,
    ),
  );
  rows.push({
    figure,
    unit: "round trips/s",
    pkg: med("package", (r) => r[scenario]?.perSecond),
    ratio: perRound,
    target: `≥ ${atLeast} × single wire`,
    pass: Number.isFinite(perRound) && perRound >= atLeast,
  });
  const cpu = median(
    values("package", (r) =>
      r[scenario]?.serverUsPerOp && r.throughput?.serverUsPerOp
        ? r[scenario].serverUsPerOp / r.throughput.serverUsPerOp
        : undefined,
    ),
  );
  rows.push({
    figure: "  server CPU per round trip (info)",
    unit: "µs",
    pkg: med("package", (r) => r[scenario]?.serverUsPerOp),
    ratio: cpu,
    note: "ratio: to single wire",
  });
}

/** Hops: throughput through more junctions. */
export function hopsRows({ rows, values, med, has }: Figures): void {
  if (!has("package", "hops")) return;
  // Node-RED's own CPU cost of passing a msg along one more wire, from the same load as throughput.
  const perHop = median(
    values("package", (r) =>
      r.hops?.serverUsPerOp && r.throughput?.serverUsPerOp
        ? (r.hops.serverUsPerOp - r.throughput.serverUsPerOp) / EXTRA_HOPS
        : undefined,
    ),
  );
  rows.push({
    figure: `throughput with ${EXTRA_HOPS} more junction hops`,
    unit: "round trips/s",
    pkg: med("package", (r) => r.hops?.perSecond),
    ratio: median(
      values("package", (r) => (r.hops && r.throughput ? r.hops.perSecond / r.throughput.perSecond : undefined)),
    ),
    note: "ratio: to direct",
  });
  rows.push({ figure: "  Node-RED CPU per hop (info)", unit: "µs", pkg: perHop });
  floorRows(
    rows,
    ["  floor: raw CPU per round trip + 1 hop (info)", "  package CPU beyond the floor (info)"],
    med("raw", (r) => r.throughput?.serverUsPerOp),
    perHop,
    med("package", (r) => r.throughput?.serverUsPerOp),
  );
}

/**
 * Node-RED's floor: what raw Socket.IO costs plus Node-RED passing the msg along the one wire
 * on → emit, and what the package costs beyond it.
 */
function floorRows(rows: Row[], [floor, beyond]: [string, string], raw?: number, perHop?: number, pkg?: number): void {
  if (raw === undefined || pkg === undefined || perHop === undefined || !Number.isFinite(perHop)) return;
  rows.push({ figure: floor, unit: "µs", pkg: raw + perHop, ratio: (raw + perHop) / raw });
  rows.push({ figure: beyond, unit: "µs", pkg: pkg - raw - perHop });
}

/** Fan-out: one event to every client in a room. */
export function fanoutRows({ rows, med, has, cpuRows }: Figures, sizes: Sizes): void {
  if (!(has("raw", "fanout") || has("package", "fanout"))) return;
  const raw = med("raw", (r) => r.fanout?.perSecond);
  const pkg = med("package", (r) => r.fanout?.perSecond);
  const q = ratio(pkg, raw);
  rows.push({
    figure: `fan-out (${sizes.fanClients} clients × ${sizes.fanEvents} events)`,
    unit: "deliveries/s",
    raw,
    pkg,
    ratio: q,
    target: "≥ 0.9 × raw",
    pass: q !== undefined && q >= 0.9,
  });
  cpuRows("fanout", "delivery");
}

/** Scale-out: the fan-out over two instances on one Redis. */
export function scaleoutRows({ rows, values, med, has }: Figures, sizes: Sizes): void {
  if (!has("package", "scaleout")) return;
  const q = median(values("package", (r) => r.scaleout?.ratio));
  rows.push({
    figure: `scale-out (${sizes.fanClients} clients × ${sizes.scaleOutEvents} events on 2 instances, Redis pub/sub)`,
    unit: "deliveries/s",
    pkg: med("package", (r) => r.scaleout?.perSecond),
    ratio: q,
    target: "≥ 0.5 × 1 instance",
    pass: Number.isFinite(q) && q >= 0.5,
  });
  rows.push({
    figure: "  the same clients on 1 instance, in-memory (info)",
    unit: "deliveries/s",
    pkg: med("package", (r) => r.scaleout?.singlePerSecond),
    note: "ratio above: to this",
  });
}
