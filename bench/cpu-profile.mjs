/*
 * Preloaded into a benchmarked server process by `run.ts --profile` (`--import`): records a V8 CPU profile of the
 * whole process and writes it to $BENCH_CPU_PROF_DIR/<pid>.cpuprofile when the process exits.
 * (`node --cpu-prof` does the same, but Node.js refuses it in NODE_OPTIONS, which is how the
 * Node-RED process gets its preloads.)
 */
import fs from "node:fs";
import inspector from "node:inspector";
import path from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
// Only in the server itself, not in a child it spawns with the same environment (Node-RED runs npm).
const main = process.env.BENCH_MAIN;
if (dir && (!main || (process.argv[1] || "").endsWith(main))) {
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 250 });
  session.post("Profiler.start");
  // The in-process session answers synchronously, so this works inside "exit".
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
