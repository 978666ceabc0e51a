// The version matrix (`npm run test:matrix`, run by .ci/run): the package on the Node and Node-RED
// versions users run, besides `npm test` on the machine's Node 20 with Node-RED 4.1. Node binaries
// and Node-RED 5 come from the npm registry (.ci/matrix/package.json); Node-RED 4.1 and 3.1 are the
// root devDependencies. The tarball is packed once; on each combination it is installed into a fresh
// user dir as the palette manager installs it (npm running on that combination's Node), then the
// runtime checks (runtime.matrix.ts) and the editor checks of the browser suite run against it.
// Every line is prefixed with the combination's name, and a failed combination is named at the end.
//
//   npm run test:matrix                       every combination
//   npm run test:matrix -- --only "Node 24"   the combinations whose name contains the text
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pack, installLikePalette } from "../package-tools";
import { PACKAGE_DIR } from "../node-red-process";
import { RUNTIME_ENV } from "../runtime-under-test";

const MATRIX_DIR = join(PACKAGE_DIR, ".ci", "matrix");
const matrixModule = (name: string): string => join(MATRIX_DIR, "node_modules", name);
const rootModule = (name: string): string => join(PACKAGE_DIR, "node_modules", name);

interface Combination {
  /** "Node-RED 5.0 on Node 24": runtime.matrix.ts checks the log against it. */
  name: string;
  node: string;
  nodeRed: string;
}

const COMBINATIONS: Combination[] = [
  { name: "Node-RED 5.0 on Node 22", node: matrixModule("node-22"), nodeRed: matrixModule("node-red-5") },
  { name: "Node-RED 5.0 on Node 24", node: matrixModule("node-24"), nodeRed: matrixModule("node-red-5") },
  { name: "Node-RED 4.1 on Node 22", node: matrixModule("node-22"), nodeRed: rootModule("node-red") },
  { name: "Node-RED 3.1 on Node 18", node: matrixModule("node-18"), nodeRed: rootModule("node-red-3") },
];

/** The editor checks of test/browser/editor.browser.ts the matrix runs: the examples, every dialog, the help. */
const EDITOR_CHECKS = "Import > Examples|every example imported|the help of every node type";

const MOCHA = join(PACKAGE_DIR, "node_modules", "mocha", "bin", "mocha.js");

/** Runs a command with every output line prefixed by `[name] `; resolves with its exit code. */
function prefixed(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: PACKAGE_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
    const relay = (to: NodeJS.WriteStream) => {
      let rest = "";
      return (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) to.write(`[${name}] ${line}\n`);
      };
    };
    child.stdout.on("data", relay(process.stdout));
    child.stderr.on("data", relay(process.stderr));
    child.once("error", (err) => {
      process.stderr.write(`[${name}] could not run ${cmd}: ${err.message}\n`);
      resolve(-1);
    });
    child.once("close", (code) => resolve(code ?? -1));
  });
}

/** Installs .ci/matrix's Node binaries and Node-RED 5 when they are missing (.ci/run does it with npm ci). */
function ensureMatrixInstalled(): void {
  if (COMBINATIONS.every((c) => existsSync(join(c.node, "bin", "node")) && existsSync(join(c.nodeRed, "red.js"))))
    return;
  console.log("installing the matrix's Node binaries and Node-RED 5 (npm ci in .ci/matrix)");
  const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: MATRIX_DIR, stdio: "inherit" });
  if (npm.status !== 0) throw new Error("npm ci in .ci/matrix failed");
}

async function main(): Promise<number> {
  const only = process.argv.indexOf("--only");
  const wanted = only >= 0 ? process.argv[only + 1] : undefined;
  const combinations = COMBINATIONS.filter((c) => !wanted || c.name.includes(wanted));
  if (combinations.length === 0) throw new Error(`no combination's name contains "${wanted}"`);
  ensureMatrixInstalled();
  const work = mkdtempSync(join(tmpdir(), "socket-io-matrix-"));
  const results: Array<{ name: string; failed: string[]; seconds: number }> = [];
  try {
    // `npm pack` runs the prepare script, so the tarball holds a fresh build.
    const { tarball } = await pack(work);
    for (const [i, c] of combinations.entries()) {
      const started = Date.now();
      const failed: string[] = [];
      const node = join(c.node, "bin", "node");
      // npm and every node-red process of this combination run on its Node.
      const path = `${dirname(node)}:${process.env.PATH ?? ""}`;
      const userDir = join(work, `user-${i}`);
      console.log(`\n=== ${c.name}: installing ${tarball} into ${userDir} ===`);
      try {
        await installLikePalette(userDir, tarball, { ...process.env, PATH: path });
      } catch (err) {
        console.log(`[${c.name}] ${(err as Error).message}`);
        failed.push("the install");
      }
      if (failed.length === 0) {
        const env = {
          ...process.env,
          [RUNTIME_ENV.node]: node,
          [RUNTIME_ENV.nodeRed]: c.nodeRed,
          [RUNTIME_ENV.installed]: userDir,
          [RUNTIME_ENV.label]: c.name,
        };
        console.log(`=== ${c.name}: runtime checks ===`);
        if ((await prefixed(c.name, process.execPath, [MOCHA, "--exit", "test/matrix/*.matrix.ts"], env)) !== 0)
          failed.push("the runtime checks");
        console.log(`=== ${c.name}: editor checks (Chromium) ===`);
        const editorArgs = [MOCHA, "--exit", "--grep", EDITOR_CHECKS, "test/browser/editor.browser.ts"];
        if ((await prefixed(c.name, process.execPath, editorArgs, env)) !== 0) failed.push("the editor checks");
      }
      results.push({ name: c.name, failed, seconds: Math.round((Date.now() - started) / 1000) });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log("\n=== version matrix ===");
  for (const r of results)
    console.log(
      `${r.failed.length ? "FAILED" : "passed"}  ${r.name} (${r.seconds} s)${r.failed.length ? ": " + r.failed.join(", ") : ""}`,
    );
  const bad = results.filter((r) => r.failed.length);
  if (bad.length) console.log(`\nthe version matrix failed on ${bad.map((r) => r.name).join("; ")}`);
  return bad.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`the version matrix could not run: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
