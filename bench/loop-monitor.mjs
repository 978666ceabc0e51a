/*
 * Preloaded into a benchmarked server process (`node --import <its file URL>`, or through
 * NODE_OPTIONS for Node-RED). Measures the event-loop delay inside that process and writes it, with
 * the process's memory, as JSON to the file named by BENCH_LOOP_FILE: once a second, and at once on
 * SIGWINCH (a signal nobody else in the process acts on: Node-RED exits on SIGUSR2).
 *
 * A window runs from one SIGWINCH to the next. On SIGWINCH the monitor reports the window that ends,
 * then runs a full garbage collection (unless <file>.cmd says "nogc"), reads the memory, and starts
 * the next window. The load process sends the signal at the start and end of what it measures and
 * waits for `seq` to change. (PerformanceObserver is a global of Node.js.)
 */
import fs from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

const file = process.env.BENCH_LOOP_FILE;
// Only in the server itself, not in a child it spawns with the same environment (Node-RED runs npm).
const main = process.env.BENCH_MAIN;
if (file && (!main || (process.argv[1] || "").endsWith(main))) {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  const ms = (ns) => Math.round(ns / 1e4) / 100;

  // Each sample is the time between two ticks of a 1 ms timer: a figure includes that 1 ms.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let seq = 0;
  let windowStart = Date.now();
  let window = undefined;

  // Where long pauses come from: garbage collections, and stalls with their time in the window.
  const GC_KINDS = { 1: "scavenge", 2: "mark-compact", 4: "incremental", 8: "weak-callbacks" };
  let gcs = { count: 0, ms: 0, maxMs: 0, long: [] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs.count++;
      gcs.ms += e.duration;
      gcs.maxMs = Math.max(gcs.maxMs, e.duration);
      if (e.duration >= 50 && gcs.long.length < 20)
        gcs.long.push({
          atMs: Math.round(e.startTime + performance.timeOrigin - windowStart),
          ms: Math.round(e.duration),
          kind: GC_KINDS[e.detail?.kind] ?? String(e.detail?.kind),
        });
    }
  }).observe({ entryTypes: ["gc"] });
  let stalls = [];
  let lastTick = Date.now();
  setInterval(() => {
    const t = Date.now();
    if (t - lastTick > 250 && stalls.length < 20) stalls.push({ atMs: lastTick - windowStart, ms: t - lastTick - 50 });
    lastTick = t;
  }, 50).unref();

  const rssKb = () => {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) : Math.round(process.memoryUsage().rss / 1024);
  };
  const stats = () => ({
    ms: Date.now() - windowStart,
    samples: delay.count,
    p50: ms(delay.percentile(50)),
    p99: ms(delay.percentile(99)),
    max: ms(delay.max),
    mean: ms(delay.mean),
    gc: { count: gcs.count, ms: Math.round(gcs.ms), maxMs: Math.round(gcs.maxMs), long: [...gcs.long] },
    stalls: [...stalls],
  });
  const write = (current) => {
    const report = {
      pid: process.pid,
      seq,
      at: Date.now(),
      rssKb: rssKb(),
      heapUsedKb: Math.round(process.memoryUsage().heapUsed / 1024),
      // The window that the last SIGWINCH ended, and the one running now.
      window,
      current,
    };
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(report));
    fs.renameSync(tmp, file);
  };

  setInterval(() => write(stats()), 1000).unref();
  process.on("SIGWINCH", () => {
    window = stats();
    // "nogc" in <file>.cmd: start the next window without collecting (a collection with thousands of
    // connections pauses the loop, and the backlog it leaves would land in the next window).
    let command = "";
    try {
      command = fs.readFileSync(`${file}.cmd`, "utf8").trim();
    } catch {
      // no command: collect
    }
    if (command !== "nogc") {
      gc();
      gc();
    }
    // The timer sample that spans the collection lands after it: start the new window once it has.
    setTimeout(() => {
      seq++;
      delay.reset();
      gcs = { count: 0, ms: 0, maxMs: 0, long: [] };
      stalls = [];
      lastTick = Date.now();
      windowStart = Date.now();
      write(undefined);
    }, 30);
  });
  write(undefined);
}
