// What the specs of scale-out in one Node-RED runtime (the test helper, a real Redis) share.
import { strict as assert } from "node:assert";
import type { NodeStatus } from "node-red";
import { cleanup, statusesOf, until } from "./helpers";
import { forgetPrefix, needsRedis, uniquePrefix, type PrivateRedis } from "./redis-tools";

/** Waits until a node's last status has this i18n key (the test helper's RED._ returns the key). */
export async function statusBecomes(id: string, key: string, ms = 5000): Promise<NodeStatus> {
  await until(
    () => String(statusesOf(id).at(-1)?.text).endsWith(key),
    ms,
    `${id} to show ${key} (last: ${JSON.stringify(statusesOf(id).at(-1))})`,
  );
  return statusesOf(id).at(-1)!;
}

/** Unhandled rejections while a test runs: a Node-RED process would have crashed on any of them. */
function watchUnhandled(): { list: unknown[]; stop(): void } {
  const list: unknown[] = [];
  const record = (reason: unknown): void => {
    list.push(reason);
  };
  process.on("unhandledRejection", record);
  return { list, stop: () => process.off("unhandledRejection", record) };
}

export interface RedisRuntime {
  /** The Redis key prefix of the running test (its keys are forgotten after it). */
  readonly prefix: string;
  /** A private Redis the test started: stopped after the test. */
  keep(redis: PrivateRedis): PrivateRedis;
}

/**
 * The hooks of a describe block that needs Redis: a key prefix per test, the test's private Redis
 * stopped after it, and no unhandled rejection (each would crash Node-RED).
 */
export function redisRuntime(): RedisRuntime {
  needsRedis({ binary: true });
  let prefix = "";
  let redis: PrivateRedis | undefined;
  let unhandled: ReturnType<typeof watchUnhandled>;

  beforeEach(function () {
    prefix = uniquePrefix();
    unhandled = watchUnhandled();
  });

  afterEach(async function () {
    await cleanup();
    await redis?.stop();
    redis = undefined;
    await forgetPrefix(prefix);
    unhandled.stop();
    assert.deepEqual(unhandled.list, [], "unhandled rejections (each would crash Node-RED)");
  });

  return {
    get prefix() {
      return prefix;
    },
    keep: (r) => (redis = r),
  };
}
