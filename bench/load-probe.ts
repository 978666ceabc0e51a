// The server under load as the load process measures it: its loop monitor's reports and its CPU time.
import { readFileSync, writeFileSync } from "node:fs";
import { now, sleep, type LoadPlan, type Sizes } from "./common";
import type { Cpu } from "./results";

/** What the server's loop monitor last wrote (bench/loop-monitor.mjs). */
export interface MonitorReport {
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

/** CPU time used so far, in ms: the server's and the load process's, at `at` (ms). */
export interface CpuSample {
  server: number;
  load: number;
  at: number;
}

export class ServerProbe {
  constructor(private readonly plan: Pick<LoadPlan, "monitorFile" | "serverPid">) {}

  private read(): MonitorReport | undefined {
    try {
      return JSON.parse(readFileSync(this.plan.monitorFile, "utf8")) as MonitorReport;
    } catch {
      return undefined;
    }
  }

  /**
   * Ends the server's current measuring window: the monitor reports it, collects garbage (unless
   * `collect` is false), reads the memory and starts the next window. Resolves with that report.
   */
  async mark(collect = true): Promise<MonitorReport> {
    const { monitorFile, serverPid } = this.plan;
    const before = this.read();
    writeFileSync(`${monitorFile}.cmd`, collect ? "gc" : "nogc");
    // SIGWINCH: neither Node-RED nor Node.js acts on it (Node-RED exits on SIGUSR2). Signal only a process
    // whose monitor answers, or nothing would come back.
    if (!before || before.pid !== serverPid) throw new Error(`no loop monitor in server process ${serverPid}`);
    process.kill(serverPid, "SIGWINCH");
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = this.read();
      if (r && r.seq > before.seq) return r;
      if (Date.now() > deadline) throw new Error("the loop monitor did not answer within 15 s");
      await sleep(20);
    }
  }

  /** CPU time used so far: the server's (clock ticks of 10 ms, from /proc) and this process's. */
  cpuNow(): CpuSample {
    const stat = readFileSync(`/proc/${this.plan.serverPid}/stat`, "utf8");
    // Fields after "(comm)": state is the 3rd field of the line, utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const own = process.cpuUsage();
    return { server: ticks * 10, load: (own.user + own.system) / 1000, at: now() };
  }

  /** The CPU figures from `start` until now, over `ops` operations. */
  cpuSince(start: CpuSample, ops: number): Cpu {
    const end = this.cpuNow();
    const ms = end.at - start.at;
    const pct = (x: number): number => Math.round((x / ms) * 1000) / 10;
    return {
      serverCpuPercent: pct(end.server - start.server),
      loadCpuPercent: pct(end.load - start.load),
      serverUsPerOp: ops > 0 ? Math.round((((end.server - start.server) * 1000) / ops) * 10) / 10 : NaN,
    };
  }
}

/** What every scenario of the load process gets: the plan, its sizes and the probe on the server. */
export interface LoadContext {
  plan: LoadPlan;
  sizes: Sizes;
  probe: ServerProbe;
}
