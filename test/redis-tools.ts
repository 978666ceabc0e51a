import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { freePort } from "./helpers";
import { redisAnswers, START_REDIS, underCi } from "./redis-ping";

/** The shared Redis of the scale-out tests (.ci/run starts it). */
export const REDIS_PORT = 6379;
export const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;
let warned = false;

/**
 * Call inside a `describe`: before its tests, checks that the shared Redis answers (and, with
 * `binary`, that `redis-server` can be started). When it cannot: under CI the suite fails, since CI
 * must never pass without these tests; elsewhere the suite is skipped, with one loud line saying why.
 */
export function needsRedis(opts: { binary?: boolean } = {}): void {
  before(async function () {
    let missing: string | undefined;
    if (!(await redisAnswers(REDIS_PORT)))
      missing = `no Redis answers on 127.0.0.1:${REDIS_PORT} (start one: ${START_REDIS})`;
    else if (opts.binary && spawnSync("redis-server", ["--version"]).status !== 0)
      missing = "there is no redis-server binary to start private Redis servers (apt-get install redis-server)";
    if (!missing) return;
    if (underCi()) throw new Error(`the Redis scale-out tests must run under CI, but ${missing}`);
    if (!warned) {
      warned = true;
      console.log(`\n  !!!!! SKIPPING THE REDIS SCALE-OUT TESTS: ${missing}. Under CI=true they fail instead. !!!!!\n`);
    }
    this.skip();
  });
}

let prefixes = 0;
/** A Redis key prefix of its own for each test, so that no test hears another (or a parallel run). */
export function uniquePrefix(): string {
  return `t-${process.pid}-${++prefixes}`;
}

/** Removes what a test left in the shared Redis under its prefix (the Streams adapter's stream and sessions). */
export async function forgetPrefix(prefix: string, url = REDIS_URL, password?: string): Promise<void> {
  const client = createClient({ url, password, socket: { reconnectStrategy: false } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const keys = [prefix, ...(await client.keys(`${prefix}:*`))];
    await client.del(keys);
  } catch {
    // best effort: a test that stopped its Redis leaves nothing to remove
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Reads a key of a Redis (to see what an adapter stored). */
export async function redisKeys(pattern: string, url = REDIS_URL, password?: string): Promise<string[]> {
  const client = createClient({ url, password, socket: { reconnectStrategy: false } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await client.keys(pattern);
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** A redis-server of a test's own, on a free port, that the test stops (by pid) and starts again. */
export interface PrivateRedis {
  port: number;
  url: string;
  readonly pid: number | undefined;
  /** Kills the process (SIGKILL, as a crash would) and waits until it has gone. */
  stop(): Promise<void>;
  /** Stops it for good and removes its files. */
  remove(): Promise<void>;
  /** Starts it again on the same port (empty, unless it persists); resolves once it answers. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open and nothing answers, as in a network partition. */
  freeze(): void;
  /** Lets a frozen process go on (SIGCONT). */
  thaw(): void;
}

/**
 * Starts a redis-server on a free port, optionally with a password. Without `persist` it keeps
 * nothing; with it, every write goes to an append-only file (fsync always) in a temporary directory,
 * so that its data outlives a SIGKILL and a restart, as a production Redis's would.
 */
export async function startPrivateRedis(
  opts: { password?: string; port?: number; persist?: boolean } = {},
): Promise<PrivateRedis> {
  const port = opts.port ?? (await freePort());
  let proc: ChildProcess | undefined;
  const dir = opts.persist ? mkdtempSync(join(tmpdir(), "redis-")) : undefined;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no"];
  args.push(...(dir ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir] : ["--appendonly", "no"]));
  if (opts.password) args.push("--requirepass", opts.password);
  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc?.pid;
    },
    async start() {
      const child = spawn("redis-server", args, { stdio: "ignore" });
      proc = child;
      const deadline = Date.now() + 10_000;
      while (!(await redisAnswers(port, 200))) {
        if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    freeze() {
      process.kill(proc!.pid!, "SIGSTOP");
    },
    thaw() {
      process.kill(proc!.pid!, "SIGCONT");
    },
    async stop() {
      const child = proc;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      process.kill(child.pid!, "SIGKILL");
      await gone;
    },
    async remove() {
      await redis.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}
