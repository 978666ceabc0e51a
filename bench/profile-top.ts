/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): where the time goes, by self time, split between
 * this package, Node-RED, Socket.IO (with engine.io and ws), Node.js itself and the rest.
 *
 * Usage: tsx bench/profile-top.ts <file.cpuprofile> [--top N] [--skip-ms N] [--until-ms N] [--timeline]
 *   --skip-ms   leave out the first N ms (start-up, module loading)
 *   --until-ms  leave out what comes after N ms
 *   --timeline  print busy time and the package's share per second, to find a scenario's window
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function category(url: string, fn: string): string {
  if (fn === "(idle)") return "idle";
  if (fn === "(garbage collector)") return "gc";
  if (fn === "(program)" || fn === "(root)") return "v8/native";
  if (/node-red-contrib-socket-io|\/work\/[^/]+\/nodes\//.test(url)) return "package";
  if (/@node-red\/|node_modules\/node-red\//.test(url)) return "node-red";
  if (/socket\.io|engine\.io|node_modules\/ws\/|base64id|node_modules\/cors\//.test(url)) return "socket.io";
  if (url.startsWith("node:") || url === "") return "node.js";
  return "other deps";
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a));
  if (!file) {
    console.error("usage: tsx bench/profile-top.ts <file.cpuprofile> [--top N] [--skip-ms N]");
    process.exit(2);
  }
  const opt = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const top = opt("--top", 30);
  const skipUs = opt("--skip-ms", 0) * 1000;
  const untilUs = opt("--until-ms", Infinity) * 1000;
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < skipUs || t > untilUs) continue;
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + profile.timeDeltas[i]);
  }
  const byFunction = new Map<string, { us: number; cat: string }>();
  const byCategory = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const cat = category(url, functionName);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    if (cat === "idle") continue;
    busy += us;
    const where = url ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\//, "")}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"} ${where}`;
    const entry = byFunction.get(key) ?? { us: 0, cat };
    entry.us += us;
    byFunction.set(key, entry);
  }
  if (args.includes("--timeline")) {
    const seconds = new Map<number, { busy: number; pkg: number; red: number }>();
    let at = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i];
      const { functionName, url } = byId.get(profile.samples[i])!.callFrame;
      const cat = category(url, functionName);
      if (cat === "idle") continue;
      const s = seconds.get(Math.floor(at / 1e6)) ?? { busy: 0, pkg: 0, red: 0 };
      s.busy += profile.timeDeltas[i];
      if (cat === "package") s.pkg += profile.timeDeltas[i];
      if (cat === "node-red") s.red += profile.timeDeltas[i];
      seconds.set(Math.floor(at / 1e6), s);
    }
    console.log("second  busy ms  package ms  node-red ms");
    for (const [sec, s] of [...seconds].sort((a, b) => a[0] - b[0])) {
      console.log(
        `${String(sec).padStart(6)}  ${(s.busy / 1000).toFixed(0).padStart(7)}  ${(s.pkg / 1000).toFixed(0).padStart(10)}  ${(s.red / 1000).toFixed(0).padStart(11)}`,
      );
    }
    console.log();
  }
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  console.log(
    `${file}\nbusy ${(busy / 1000).toFixed(0)} ms (idle ${((byCategory.get("idle") ?? 0) / 1000).toFixed(0)} ms)\n`,
  );
  console.log("self time by category (share of busy time):");
  for (const [cat, us] of [...byCategory].filter(([c]) => c !== "idle").sort((a, b) => b[1] - a[1])) {
    console.log(`  ${cat.padEnd(12)} ${pct(us)}  ${(us / 1000).toFixed(0)} ms`);
  }
  console.log(`\ntop ${top} functions by self time:`);
  for (const [key, { us, cat }] of [...byFunction].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    console.log(`  ${pct(us)}  ${cat.padEnd(11)} ${key}`);
  }
}

if (require.main === module) main();
