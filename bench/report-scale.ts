// The report's rows for the scenarios that hold many connections: scale (10,000) and scale-50k.
import type { Sizes } from "./common";
import { ratio, type Figures, type Get } from "./report-figures";
import type { ScaleResult } from "./results";

interface ScaleTargets {
  label: string;
  connections: number;
  holdMs: number;
  /** The event-loop delay p99 must stay below this, in ms. */
  p99Below: number;
  /** ... and within this multiple of raw's, when set. */
  p99TimesRaw?: number;
  /** KB per connection within this multiple of raw's, when set. */
  kbTimesRaw?: number;
  /** The server's RSS within this multiple of raw's plus Node-RED's idle RSS, when set. */
  rssTimesRawAndIdle?: number;
}

/**
 * Scale: many connections held open. Node-RED's idle RSS is the package server's RSS before the
 * connections (Node-RED with the package and its flows loaded, no client) less the raw server's.
 */
export function scaleRows({ rows, med, has }: Figures, scenario: "scale" | "scale-50k", t: ScaleTargets): void {
  if (!(has("raw", scenario) || has("package", scenario))) return;
  const get =
    (f: (s: ScaleResult) => number | undefined): Get =>
    (r) => {
      const s = r[scenario];
      return s ? f(s) : undefined;
    };
  const both = (f: (s: ScaleResult) => number | undefined): { raw?: number; pkg?: number } => ({
    raw: med("raw", get(f)),
    pkg: med("package", get(f)),
  });
  const conns = both((s) => s.connections);
  rows.push({
    figure: `${t.label}: connections held ${t.holdMs / 1000} s`,
    ...conns,
    target: `${t.connections}`,
    pass: conns.pkg === t.connections && (conns.raw === undefined || conns.raw === t.connections),
  });
  const p99 = both((s) => s.loopP99Ms);
  const p99Ratio = ratio(p99.pkg, p99.raw);
  rows.push({
    figure: `${t.label}: event-loop delay p99`,
    unit: "ms",
    ...p99,
    ratio: p99Ratio,
    target: `< ${t.p99Below} ms${t.p99TimesRaw ? `, ≤ ${t.p99TimesRaw} × raw` : ""}`,
    pass:
      p99.pkg !== undefined &&
      p99.pkg < t.p99Below &&
      (t.p99TimesRaw === undefined || (p99Ratio !== undefined && p99Ratio <= t.p99TimesRaw)),
  });
  rows.push({ figure: `${t.label}: event-loop delay max`, unit: "ms", ...both((s) => s.loopMaxMs) });
  const mb = (kb?: number): number | undefined => (kb === undefined ? undefined : kb / 1024);
  const rss = both((s) => s.rssEndKb);
  const idle = both((s) => s.rssBeforeKb);
  const nodeRedIdle = idle.pkg !== undefined && idle.raw !== undefined ? idle.pkg - idle.raw : undefined;
  const rssLimit =
    t.rssTimesRawAndIdle && rss.raw !== undefined && nodeRedIdle !== undefined
      ? t.rssTimesRawAndIdle * (rss.raw + nodeRedIdle)
      : undefined;
  rows.push({
    figure: `${t.label}: server RSS`,
    unit: "MB",
    raw: mb(rss.raw),
    pkg: mb(rss.pkg),
    ratio: ratio(rss.pkg, rss.raw),
    ...(t.rssTimesRawAndIdle
      ? {
          target: `≤ ${t.rssTimesRawAndIdle} × (raw + idle)${rssLimit ? ` = ${Math.round(rssLimit / 1024)} MB` : ""}`,
          pass: rss.pkg !== undefined && rssLimit !== undefined && rss.pkg <= rssLimit,
        }
      : {}),
  });
  rows.push({
    figure: `  server RSS before the connections (info)`,
    unit: "MB",
    raw: mb(idle.raw),
    pkg: mb(idle.pkg),
    note: `Node-RED idle: ${nodeRedIdle === undefined ? "—" : Math.round(nodeRedIdle / 1024)} MB`,
  });
  const kb = both((s) => s.kbPerConnection);
  const kbRatio = ratio(kb.pkg, kb.raw);
  rows.push({
    figure: `${t.label}: server KB per connection`,
    unit: "KB",
    ...kb,
    ratio: kbRatio,
    ...(t.kbTimesRaw
      ? { target: `≤ ${t.kbTimesRaw} × raw`, pass: kbRatio !== undefined && kbRatio <= t.kbTimesRaw }
      : {}),
  });
  const rate = both((s) => s.connectPerSecond);
  rows.push({ figure: `${t.label}: connect rate`, unit: "connections/s", ...rate, ratio: ratio(rate.pkg, rate.raw) });
  const cpu = both((s) => s.serverCpuPercent);
  rows.push({ figure: `${t.label}: server CPU while holding`, unit: "%", ...cpu, ratio: ratio(cpu.pkg, cpu.raw) });
  rows.push({ figure: `${t.label}: events answered`, ...both((s) => s.pingsAnswered) });
  rows.push({
    figure: `${t.label}: disconnects`,
    ...both((s) => s.disconnects),
    target: "0",
    pass: both((s) => s.disconnects).pkg === 0,
  });
}

/** The two scale scenarios with their targets. */
export function allScaleRows(figures: Figures, sizes: Sizes): void {
  scaleRows(figures, "scale", {
    label: "scale",
    connections: sizes.scaleConnections,
    holdMs: sizes.scaleHoldMs,
    p99Below: 25,
    p99TimesRaw: 2,
    rssTimesRawAndIdle: 1.1,
  });
  scaleRows(figures, "scale-50k", {
    label: `scale-50k (${sizes.manyConnections})`,
    connections: sizes.manyConnections,
    holdMs: sizes.manyHoldMs,
    p99Below: 50,
    kbTimesRaw: 1.1,
  });
}
