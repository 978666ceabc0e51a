import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import type { NodeAPI } from "node-red";

// Node-RED's HTTP security runs on Node-RED's own express and bcryptjs: the copies red.js uses for
// httpNodeAuth and its http in nodes use for httpNodeMiddleware, so the middleware meets the same
// express it was written for, and the package does not ship a second copy of either.

/** The package.json in `dir` when it is a node-red package's, and its version. */
function nodeRedAt(dir: string): { dir: string; version: string } | undefined {
  const file = join(dir, "package.json");
  if (!existsSync(file)) return undefined;
  const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
  return pkg.name === "node-red" ? { dir, version: String(pkg.version) } : undefined;
}

/**
 * Where the running node-red package may be, most telling first: the folder of its loaded
 * lib/red.js (whatever started it: its CLI, pm2, an embedding app), the folders above Node-RED's
 * core nodes (settings.coreNodesDir), and the node-red this package resolves (node-red-node-test-helper).
 */
function* candidates(RED: NodeAPI): Generator<string> {
  const tail = `${sep}lib${sep}red.js`;
  for (const file of Object.keys(require.cache)) if (file.endsWith(tail)) yield dirname(dirname(file));
  const core = (RED.settings as unknown as { coreNodesDir?: unknown }).coreNodesDir;
  if (typeof core === "string") for (let dir = core; dirname(dir) !== dir; dir = dirname(dir)) yield dir;
  try {
    yield dirname(require.resolve("node-red/package.json"));
  } catch {
    // none: the error names what was looked for
  }
}

/** The running node-red package's folder: the first candidate of its version, else the first found. */
function nodeRedDir(RED: NodeAPI): string {
  // node-red-node-test-helper's RED has no version(): any node-red found will do there.
  const version = typeof RED.version === "function" ? String(RED.version()) : undefined;
  let first: string | undefined;
  for (const dir of candidates(RED)) {
    const found = nodeRedAt(dir);
    if (!found) continue;
    if (found.version === version) return found.dir;
    first ??= found.dir;
  }
  if (first) return first;
  throw new Error("no node-red package found");
}

/**
 * A module of Node-RED's own dependencies, resolved from the running node-red package.
 * @throws Error naming the module and why it could not be found
 */
export function nodeRedModule<T>(RED: NodeAPI, name: string): T {
  try {
    return createRequire(join(nodeRedDir(RED), "package.json"))(name) as T;
  } catch (err) {
    throw new Error(RED._("socket-io-server.errors.nodeRedModule", { module: name, error: (err as Error).message }));
  }
}
