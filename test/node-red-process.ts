import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { login } from "./admin-auth-kit";
import { request } from "./http-get";
import { installedPackage, matrixRedJs, MODULE, nodeBinary } from "./runtime-under-test";

/** The repository root: the package under test. */
export const PACKAGE_DIR = resolve(__dirname, "..");
/**
 * The Node-RED packages the tests can run: the current one, and the oldest release we support
 * (devDependency alias `node-red-3` = node-red 3.1.x).
 */
export type NodeRedPackage = "node-red" | "node-red-3";
/** The red.js of a Node-RED package; the version matrix can put another Node-RED in place of the default. */
const redJs = (pkg: NodeRedPackage): string =>
  (pkg === "node-red" && matrixRedJs()) || require.resolve(`${pkg}/red.js`);

export interface NodeRedProcess {
  url: string;
  port: number;
  userDir: string;
  proc: ChildProcess;
  /** Everything the runtime printed so far. */
  output(): string;
  /** Deploys flows through the admin HTTP API. */
  deploy(flows: unknown[], type?: "full" | "nodes" | "flows"): Promise<void>;
  /** GETs an admin/http path as JSON. */
  getJson<T = unknown>(path: string): Promise<T>;
  /**
   * What the runtime holds after full garbage collections, in bytes: the V8 heap plus ArrayBuffer
   * memory (Buffers live outside the heap). Measured inside the Node-RED process; start it with
   * `heapProbe: true`.
   */
  heapAfterGc(): Promise<number>;
  /** Sends SIGINT; resolves with how long the process took to exit (ms). */
  stop(): Promise<number>;
}

export interface StartOptions {
  port: number;
  /** An existing user dir; by default a new temporary one with the package linked in. */
  userDir?: string;
  /** Extra settings.js properties. */
  settings?: Record<string, unknown>;
  /** Environment variables for the runtime. */
  env?: Record<string, string>;
  /**
   * JavaScript source of an object literal merged over `settings`, for settings JSON cannot hold
   * (functions such as httpNodeMiddleware), e.g. `{ httpNodeMiddleware: (req, res, next) => next() }`.
   */
  settingsJs?: string;
  /** Runs the runtime with --expose-gc and the heap probe, so `heapAfterGc()` works. */
  heapProbe?: boolean;
  /** Which Node-RED to run; default "node-red" (4.1). */
  nodeRed?: NodeRedPackage;
  /** Node-RED on https (settings.js `https`), PEM texts; the process's own requests trust any certificate. */
  https?: { key: string; cert: string };
  /**
   * A user of the settings' `adminAuth` that deploy() and getJson() log in as (the editor's password
   * grant, scope "*"); without it they send no token.
   */
  login?: { username: string; password: string };
}

interface Answer {
  ok: boolean;
  status: number;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** One request (test/http-get.ts), answered as fetch answers: ok, status, text(), json(). */
async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const { status, body } = await request(url, init);
  return { ok: status >= 200 && status < 300, status, text: async () => body, json: async () => JSON.parse(body) };
}

const HEAP_PROBE = resolve(__dirname, "heap-probe.js");

/**
 * A fresh user dir with this package linked into its node_modules: the repository, or in the version
 * matrix the copy installed from the packed tarball.
 */
export function makeUserDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nr-socket-io-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(installedPackage() ?? PACKAGE_DIR, join(dir, "node_modules", MODULE), "dir");
  return dir;
}

/** Starts a real `node-red` process and waits until its admin API answers. */
export async function startNodeRed(opts: StartOptions): Promise<NodeRedProcess> {
  const userDir = opts.userDir ?? makeUserDir();
  const ownDir = opts.userDir === undefined;
  const settingsFile = join(userDir, "test-settings.js");
  const settings = {
    uiPort: opts.port,
    uiHost: "127.0.0.1",
    flowFile: "flows.json",
    credentialSecret: false,
    logging: { console: { level: "info", metrics: false, audit: false } },
    editorTheme: { tours: false },
    ...(opts.https ? { https: opts.https } : {}),
    ...opts.settings,
  };
  const extra = opts.settingsJs ? `, (${opts.settingsJs})` : "";
  writeFileSync(settingsFile, `module.exports = Object.assign(${JSON.stringify(settings, null, 2)}${extra});\n`);
  const nodeArgs = opts.heapProbe ? ["--expose-gc", "--require", HEAP_PROBE] : [];
  const proc = spawn(
    nodeBinary(),
    [...nodeArgs, redJs(opts.nodeRed ?? "node-red"), "--userDir", userDir, "--settings", settingsFile],
    {
      env: { ...process.env, NODE_RED_ENABLE_PROJECTS: "false", ...opts.env },
      stdio: opts.heapProbe ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = `${opts.https ? "https" : "http"}://127.0.0.1:${opts.port}`;
  const exited = new Promise<number>((res) => proc.once("exit", (code) => res(code ?? -1)));

  const request = (path: string, init?: Parameters<typeof send>[1]): Promise<Answer> => send(url + path, init);
  const deadline = Date.now() + 30_000;
  // Under adminAuth /settings wants a token; /auth/login answers anyone once the runtime is up.
  const ready = opts.login ? "/auth/login" : "/settings";
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`node-red exited early:\n${out}`);
    try {
      if ((await request(ready)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`node-red did not start within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  // The admin API answers before the flows of the start have started: a deploy made now could
  // take their "Started flows" line for its own. Wait for it (or a flow that cannot start), briefly.
  for (const end = Date.now() + 10_000; Date.now() < end;) {
    if (/\[info\] Started flows\n|Waiting for missing types/.test(out)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const auth: Record<string, string> = opts.login
    ? { authorization: `Bearer ${await login(`${url}/`, opts.login.username, "*", opts.login.password)}` }
    : {};

  return {
    url,
    port: opts.port,
    userDir,
    proc,
    output: () => out,
    async deploy(flows, type = "full") {
      const res = await request("/flows", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", "Node-RED-Deployment-Type": type },
        body: JSON.stringify(flows),
      });
      if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
    },
    async getJson<T>(path: string): Promise<T> {
      const res = await request(path, { headers: { ...auth, accept: "application/json" } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
      return (await res.json()) as T;
    },
    heapAfterGc() {
      if (!opts.heapProbe) return Promise.reject(new Error("start the runtime with heapProbe: true"));
      return new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error("the heap probe did not answer within 10 s")), 10_000);
        proc.once("message", (m: { heapUsed?: number; arrayBuffers?: number }) => {
          clearTimeout(timer);
          if (typeof m?.heapUsed === "number" && typeof m.arrayBuffers === "number") res(m.heapUsed + m.arrayBuffers);
          else rej(new Error(`the heap probe answered ${JSON.stringify(m)}`));
        });
        proc.send("heap");
      });
    },
    async stop() {
      const started = Date.now();
      if (proc.exitCode === null) proc.kill("SIGINT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
      if (ownDir) rmSync(userDir, { recursive: true, force: true });
      return Date.now() - started;
    },
  };
}
