/**
 * `npm start`: a local Node-RED with this package and its example flows.
 *
 * The user dir is `.demo/` (git-ignored). The examples are deployed only while `.demo/flows.json`
 * does not exist, so what you change in the editor survives restarts; delete the file to get the
 * examples back. `PORT` picks the port (default 1880). Ctrl+C stops Node-RED and waits for it.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
const USER_DIR = join(ROOT, ".demo");
const EXAMPLES = join(ROOT, "examples");

/** The pages the examples serve, by example. */
export const EXAMPLE_PAGES = ["/chat", "/echo", "/secure", "/dm", "/ns"];

/**
 * Every example flow, merged into one flows file. The examples with a page share one server config node
 * (same id, same settings, as the editor merges it on import): it is kept once; the device example has
 * a server config node of its own. Any other id found twice, or the shared node with different
 * settings in two files, is an error.
 */
export function exampleFlows(): Array<Record<string, unknown>> {
  const nodes = new Map<string, { file: string; node: Record<string, unknown> }>();
  const files = readdirSync(EXAMPLES)
    .filter((file) => file.endsWith(".json"))
    .sort();
  for (const file of files) {
    for (const node of JSON.parse(readFileSync(join(EXAMPLES, file), "utf8")) as Array<Record<string, unknown>>) {
      const id = String(node.id);
      const seen = nodes.get(id);
      if (!seen) nodes.set(id, { file, node });
      else if (node.z !== undefined || JSON.stringify(seen.node) !== JSON.stringify(node)) {
        throw new Error(
          `examples/${file}: node ${id} is also in examples/${seen.file}, with other settings or on a tab`,
        );
      }
    }
  }
  return [...nodes.values()].map(({ node }) => node);
}

/** Compiles src/ into nodes/ (incremental: quick when nothing changed). */
function build(): void {
  const tsc = require.resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-b"], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) throw new Error("the build (tsc -b) failed");
}

/** Creates the user dir: the package linked into its node_modules, a settings file, the examples. */
function prepareUserDir(): string {
  const modules = join(USER_DIR, "node_modules");
  mkdirSync(modules, { recursive: true });
  const link = join(modules, "node-red-contrib-socket-io");
  if (!existsSync(link) && !isSymlink(link)) symlinkSync(ROOT, link, "dir");
  const settings = join(USER_DIR, "settings.js");
  if (!existsSync(settings)) {
    const body = {
      uiHost: "127.0.0.1",
      flowFile: "flows.json",
      credentialSecret: false,
      editorTheme: { tours: false },
      telemetry: { enabled: false },
    };
    writeFileSync(settings, `module.exports = ${JSON.stringify(body, null, 2)};\n`);
  }
  const flows = join(USER_DIR, "flows.json");
  if (!existsSync(flows)) {
    writeFileSync(flows, JSON.stringify(exampleFlows(), null, 2) + "\n");
    console.log("Deployed the example flows into .demo/flows.json");
  } else {
    console.log("Keeping your flows in .demo/flows.json (delete it to get the examples back)");
  }
  return settings;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Resolves once Node-RED answers HTTP on the port. */
async function waitUntilServing(url: string, running: () => boolean): Promise<boolean> {
  while (running()) {
    try {
      if ((await fetch(`${url}/settings`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT || 1880);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`PORT must be a port number, not "${process.env.PORT}"`);
  build();
  const settings = prepareUserDir();
  const red = spawn(
    process.execPath,
    [require.resolve("node-red/red.js"), "--userDir", USER_DIR, "--settings", settings, "--port", String(port)],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_RED_ENABLE_PROJECTS: "false" },
      stdio: "inherit",
    },
  );
  red.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping Node-RED...");
    red.kill("SIGINT");
    setTimeout(() => red.kill("SIGKILL"), 15_000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const url = `http://localhost:${port}`;
  if (await waitUntilServing(`http://127.0.0.1:${port}`, () => red.exitCode === null && red.signalCode === null)) {
    console.log(`\nNode-RED editor: ${url}/`);
    console.log(`Chat:            ${url}/chat  (open it in two tabs; ?room=NAME picks a room)`);
    console.log(
      `Other examples:  ${EXAMPLE_PAGES.slice(1)
        .map((page) => url + page)
        .join("  ")}`,
    );
    console.log(`Devices:         ${url}/devices/socket.io  (ESP32 and Python clients: docs/devices.md)`);
    console.log("Stop with Ctrl+C.\n");
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
