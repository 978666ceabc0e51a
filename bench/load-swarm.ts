/**
 * One of the client processes of the scale-50k scenario: opens its share of the connections,
 * spread over several destination addresses in 127.0.0.0/8 (loopback has about 28,000 ephemeral
 * ports per destination address), and keeps each one sending an event through the flow once a period.
 *
 * Usage: node --require tsx/cjs bench/load-swarm.ts '<SwarmPlan as JSON>'
 * Prints `SWARM {"connected":…,"byAddress":…}` once its connections are open, then, after "finish" on stdin,
 * `SWARM {"sent":…}` with what was sent, answered, wrong, lost and disconnected, and exits. Every
 * loop is bounded in count and time; it gives up by itself after `maxMs`.
 */
import { now } from "./common";
import { connectMany, open, PeriodicRequests } from "./load-clients";

export interface SwarmPlan {
  /** http://127.0.0.N:<port>, one per destination address; connection i goes to urls[i % length]. */
  urls: string[];
  namespace: string;
  count: number;
  concurrency: number;
  pingMs: number;
  maxMs: number;
}

export const SWARM_PREFIX = "SWARM ";

/** Only 127.0.0.0/8: this load never leaves the machine. */
export function loopbackOnly(urls: string[]): void {
  for (const url of urls) {
    const host = new URL(url).hostname;
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`not a loopback address: ${url}`);
  }
}

async function main(plan: SwarmPlan): Promise<void> {
  loopbackOnly(plan.urls);
  const say = (what: unknown): void => {
    process.stdout.write(`${SWARM_PREFIX}${JSON.stringify(what)}\n`);
  };
  const t0 = now();
  const hosts = new Map<unknown, string>();
  const { sockets, failed, firstError } = await connectMany(plan.count, plan.concurrency, (i) => {
    const url = plan.urls[i % plan.urls.length];
    const socket = open(url, plan.namespace);
    hosts.set(socket, new URL(url).hostname);
    return socket;
  });
  const requests = new PeriodicRequests(sockets, plan.pingMs);
  const byAddress: Record<string, number> = {};
  for (const s of sockets) byAddress[hosts.get(s)!] = (byAddress[hosts.get(s)!] ?? 0) + 1;
  say({ connected: sockets.length, byAddress, failed, firstError, ms: Math.round(now() - t0) });
  await new Promise<void>((resolve) => {
    process.stdin.on("data", (d: Buffer) => {
      if (d.toString().includes("finish")) resolve();
    });
  });
  const lost = await requests.finish(10_000);
  const { sent, answered, wrong, disconnects } = requests;
  say({ sent, answered, wrong, lost, disconnects });
}

if (require.main === module) {
  const plan = JSON.parse(process.argv[2] ?? "{}") as SwarmPlan;
  setTimeout(() => {
    console.error(`load-swarm: giving up after ${plan.maxMs} ms`);
    process.exit(3);
  }, plan.maxMs).unref();
  main(plan).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    },
  );
}
