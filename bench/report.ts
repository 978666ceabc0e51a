// The benchmark's report: every scenario's rows, the correctness over all rounds, and the table.
import type { Scenario, Sizes, Target } from "./common";
import { connectRows, redeployRows } from "./report-capacity";
import { allScaleRows } from "./report-scale";
import { figuresOf, format, type Row } from "./report-figures";
import { fanoutRows, hopsRows, latencyRows, scaleoutRows, secondWireRows, throughputRows } from "./report-traffic";
import type { Round } from "./results";

export function buildReport(
  rounds: Round[],
  sizes: Sizes,
): { rows: Row[]; correctness: { wrong: number; lost: number; errors: string[] } } {
  const figures = figuresOf(rounds);
  latencyRows(figures, sizes);
  throughputRows(figures, sizes);
  secondWireRows(figures, "clone", "clone: throughput with a 2nd wire to an inactive debug node", 0.9);
  secondWireRows(figures, "debug", "debug: throughput with a 2nd wire to an active debug node (complete msg)", 0.7);
  hopsRows(figures);
  fanoutRows(figures, sizes);
  scaleoutRows(figures, sizes);
  connectRows(figures, sizes);
  redeployRows(figures, sizes);
  allScaleRows(figures, sizes);

  // Correctness over every scenario and round. Events lost in a redeploy count against its own target.
  let wrong = 0;
  let lost = 0;
  const errors: string[] = [];
  for (const r of rounds) {
    for (const t of ["raw", "package"] as Target[]) {
      const o = r[t];
      if (!o) continue;
      for (const [s, e] of Object.entries(o.errors)) errors.push(`round ${r.round} ${t} ${s}: ${e}`);
      for (const [s, res] of Object.entries(o.results) as Array<[Scenario, { wrong: number; lost: number }]>) {
        wrong += res.wrong;
        if (s !== "redeploy") lost += res.lost;
      }
    }
  }
  return { rows: figures.rows, correctness: { wrong, lost, errors } };
}

/** The result column: PASS or MISS for a row with a target, blank for an info row. */
function resultOf(row: Row): string {
  if (row.pass === undefined) return "";
  return row.pass ? "PASS" : "MISS";
}

export function printTable(rows: Row[]): string {
  const head = ["figure", "unit", "raw", "package", "pkg/raw", "target", "result"];
  const digits = (row: Row, v?: number): number =>
    v !== undefined && Math.abs(v) < 100 && row.unit !== undefined && !Number.isInteger(v) ? 1 : 0;
  const body = rows.map((row) => [
    row.figure,
    row.unit ?? "",
    format(row.raw, digits(row, row.raw)),
    format(row.pkg, digits(row, row.pkg)),
    row.ratio === undefined ? "" : format(row.ratio, 2),
    row.target ?? row.note ?? "",
    resultOf(row),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (i >= 2 && i <= 4 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`,
    ...body.map(line),
  ].join("\n");
}
