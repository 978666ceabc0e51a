// The figures of a report: the rows of its table, and the medians and sums over the rounds that
// fill them.
import { median, type Scenario, type Target } from "./common";
import type { Checked, Round, ScenarioResults } from "./results";

/** One figure of a round's results (undefined when the round has none). */
export type Get = (r: ScenarioResults) => number | undefined;

export interface Row {
  figure: string;
  raw?: number;
  pkg?: number;
  /** Shown in the ratio column; package/raw unless given. */
  ratio?: number;
  target?: string;
  pass?: boolean;
  unit?: string;
  /** Shown in the target column of an info row. */
  note?: string;
}

export function format(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** package / raw, when both are there and raw is not 0. */
export const ratio = (p?: number, r?: number): number | undefined =>
  p !== undefined && r !== undefined && r !== 0 ? p / r : undefined;

/** The rows a report has so far, and its figures over the rounds (each side's own). */
export interface Figures {
  rows: Row[];
  /** The finite values of a figure, one per round that has it. */
  values(t: Target, get: Get): number[];
  med(t: Target, get: Get): number | undefined;
  sum(t: Target, get: Get): number;
  /** Whether any round has the scenario's results for the side. */
  has(t: Target, s: Scenario): boolean;
  /**
   * Rows of the server's CPU time per operation, and how busy the load process was: info rows, or
   * with `atMost` a target on the CPU time's ratio package/raw.
   */
  cpuRows(s: Scenario, op: string, atMost?: number): void;
}

export function figuresOf(rounds: Round[]): Figures {
  const values = (t: Target, get: Get): number[] =>
    rounds
      .map((r) => (r[t] ? get(r[t]!.results) : undefined))
      .filter((x): x is number => x !== undefined && Number.isFinite(x));
  const med = (t: Target, get: Get): number | undefined => {
    const v = values(t, get);
    return v.length ? median(v) : undefined;
  };
  const sum = (t: Target, get: Get): number => values(t, get).reduce((a, b) => a + b, 0);
  const has = (t: Target, s: Scenario): boolean => rounds.some((r) => r[t]?.results[s] !== undefined);
  const rows: Row[] = [];
  const cpuRows = (s: Scenario, op: string, atMost?: number): void => {
    const get = (r: ScenarioResults): Checked | undefined => r[s];
    const raw = med("raw", (r) => get(r)?.serverUsPerOp);
    const pkg = med("package", (r) => get(r)?.serverUsPerOp);
    const q = ratio(pkg, raw);
    rows.push(
      atMost === undefined
        ? { figure: `  server CPU per ${op} (info)`, unit: "µs", raw, pkg, ratio: q }
        : {
            figure: `  server CPU per ${op}`,
            unit: "µs",
            raw,
            pkg,
            ratio: q,
            target: `≤ ${atMost} × raw`,
            pass: q !== undefined && q <= atMost,
          },
    );
    rows.push({
      figure: "  server / load process CPU (info)",
      unit: "%",
      raw: med("raw", (r) => get(r)?.serverCpuPercent),
      pkg: med("package", (r) => get(r)?.serverCpuPercent),
    });
    rows[rows.length - 1].note =
      `load ${format(med("raw", (r) => get(r)?.loadCpuPercent))} / ${format(med("package", (r) => get(r)?.loadCpuPercent))} %`;
  };
  return { rows, values, med, sum, has, cpuRows };
}
