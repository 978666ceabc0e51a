/**
 * The load process: Socket.IO clients over loopback against one server (raw or package), in a
 * process of its own so that the clients do not share an event loop with the server.
 *
 * Usage: node --require tsx/cjs bench/load.ts '<LoadPlan as JSON>'
 * Runs the plan's scenarios in order and prints one `RESULT {...}` line per scenario.
 * Every loop is bounded in count and time; the process exits by itself.
 */
import { RESULT_PREFIX, sleep, type LoadPlan, type Scenario } from "./common";
import { NAMESPACES } from "./flows";
import { connect, redeploy, scale } from "./load-capacity";
import { messageOf } from "./load-clients";
import { scaleMany } from "./load-many";
import { ServerProbe, type LoadContext } from "./load-probe";
import { fanout, latency, scaleout, throughput } from "./load-traffic";

const plan = JSON.parse(process.argv[2] ?? "{}") as LoadPlan;
const ctx: LoadContext = { plan, sizes: plan.sizes, probe: new ServerProbe(plan) };

const RUN: Record<Scenario, (ctx: LoadContext) => Promise<unknown>> = {
  latency,
  throughput: (ctx) => throughput(ctx, NAMESPACES.echo),
  clone: (ctx) => throughput(ctx, NAMESPACES.clone),
  debug: (ctx) => throughput(ctx, NAMESPACES.debug),
  hops: (ctx) => throughput(ctx, NAMESPACES.hops),
  fanout,
  connect,
  redeploy,
  scale,
  scaleout,
  "scale-50k": scaleMany,
};

async function main(): Promise<void> {
  for (const scenario of plan.scenarios) {
    const started = Date.now();
    try {
      const result = await RUN[scenario](ctx);
      console.log(RESULT_PREFIX + JSON.stringify({ scenario, result, ms: Date.now() - started }));
    } catch (err) {
      console.log(RESULT_PREFIX + JSON.stringify({ scenario, error: messageOf(err), ms: Date.now() - started }));
    }
    // Let the server settle between scenarios.
    await sleep(200);
  }
}

// A hard stop: no scenario may hang the benchmark (scale-50k holds its connections for minutes).
const hardStopMs = 240_000 + (plan.scenarios.includes("scale-50k") ? plan.sizes.manyHoldMs + 240_000 : 0);
setTimeout(() => {
  console.error(`load: giving up after ${hardStopMs / 1000} s`);
  process.exit(3);
}, hardStopMs).unref();

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
