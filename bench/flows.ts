/**
 * The Node-RED flows the package side of the benchmark deploys: the same behaviour as
 * bench/raw-server.ts, one namespace per scenario, on one server config node with its own port.
 *
 * No node id equals a string setting of another node (Node-RED would take it for a config reference).
 */
import {
  debugNode,
  EDITOR_DEFAULTS,
  emitNode,
  endNode,
  functionNode,
  onNode,
  roomNode,
  serverConfig,
  startNode,
  type FlowNode,
  type Props,
} from "../test/flow-fixtures";

/** What clients emit and what the server answers, shared by both sides and the load process. */
export const EVENTS = {
  request: "req",
  reply: "res",
  joined: "joined",
  trigger: "trigger",
  fanned: "fanned",
} as const;

export const NAMESPACES = {
  /** latency, throughput, redeploy, scale: emit → reply to sender. */
  echo: "/",
  /** The same with three junctions between on and emit: Node-RED's per-hop cost. */
  hops: "/hops",
  /** The same with the on node also wired to an inactive debug node (Node-RED clones the msg). */
  clone: "/clone",
  /** The same with the on node also wired to an active debug node showing the complete msg. */
  debug: "/debug",
  /** Every client joins a room; a trigger event is broadcast to the room. */
  fan: "/fan",
  /** A middleware flow admits a connection when auth.token is right. */
  auth: "/auth",
} as const;

export const ROOM = "fan";
export const TOKEN = "secret";
export const REFUSAL = "unauthorized";
/** How many junctions the hops namespace puts between on and emit. */
export const EXTRA_HOPS = 3;

/**
 * The package's flows for a server on `ioPort`. `revision` changes only the name of a node, so two
 * revisions are a full deploy with unchanged server settings. With `redis`, the server scales out
 * through the Redis pub/sub adapter (the scale-out scenario's instances). Every node carries what the
 * editor saves, as a user's flow does.
 */
export function packageFlows(ioPort: number, revision = 0, redis?: { url: string; prefix: string }): FlowNode[] {
  const z = "bench-tab";
  let y = 0;
  const row = (): number => (y += 60);
  const emitTo = (id: string, namespace: string, event: string, target: string, extra: Props = {}): FlowNode =>
    emitNode(id, target, event, {
      ...EDITOR_DEFAULTS.emit(),
      z,
      server: "bench-srv",
      namespace,
      x: 700,
      y,
      ...extra,
    });
  const on = (
    id: string,
    namespace: string,
    wires: string[],
    listen: { listenFor: string; event?: string },
    name = "",
  ): FlowNode =>
    onNode(id, listen.listenFor, wires, {
      ...EDITOR_DEFAULTS.on(),
      z,
      name,
      server: "bench-srv",
      namespace,
      event: listen.event ?? "",
      x: 150,
      y: row(),
    });
  const request = { listenFor: "event", event: EVENTS.request };

  const hops: FlowNode[] = [];
  for (let i = 0; i < EXTRA_HOPS; i++) {
    hops.push({
      id: `bench-hop-${i}`,
      type: "junction",
      z,
      x: 300 + 40 * i,
      y: 0,
      wires: [[i + 1 < EXTRA_HOPS ? `bench-hop-${i + 1}` : "bench-hops-reply"]],
    });
  }

  return [
    { id: z, type: "tab", label: "benchmark", disabled: false, info: "" },
    serverConfig(ioPort, {
      id: "bench-srv",
      name: "bench",
      serveClient: true,
      ...(redis ? { adapter: "redis", redisUrl: redis.url, redisPrefix: redis.prefix } : {}),
    }),
    // latency, throughput, redeploy, scale
    on("bench-echo-on", NAMESPACES.echo, ["bench-echo-reply"], request, `requests (revision ${revision})`),
    emitTo("bench-echo-reply", NAMESPACES.echo, EVENTS.reply, "socket"),
    // Node-RED's per-hop floor
    on("bench-hops-on", NAMESPACES.hops, ["bench-hop-0"], request),
    ...hops.map((h) => ({ ...h, y })),
    emitTo("bench-hops-reply", NAMESPACES.hops, EVENTS.reply, "socket"),
    // clone: a second wire from the same output
    on("bench-clone-on", NAMESPACES.clone, ["bench-clone-reply", "bench-clone-debug"], request),
    emitTo("bench-clone-reply", NAMESPACES.clone, EVENTS.reply, "socket"),
    debugNode("bench-clone-debug", "payload", { z, active: false, x: 700, y: y + 30 }),
    // debug: the development setup, a second wire to an active debug node that shows the whole msg
    on("bench-debug-on", NAMESPACES.debug, ["bench-debug-reply", "bench-debug-show"], request),
    emitTo("bench-debug-reply", NAMESPACES.debug, EVENTS.reply, "socket"),
    debugNode("bench-debug-show", "true", { z, x: 700, y: y + 30 }),
    // fan-out
    on("bench-fan-connect", NAMESPACES.fan, ["bench-fan-join"], { listenFor: "connection" }),
    roomNode("bench-fan-join", "join", ROOM, ["bench-fan-joined"], { z, name: "", x: 400, y }),
    emitTo("bench-fan-joined", NAMESPACES.fan, EVENTS.joined, "socket"),
    on("bench-fan-trigger", NAMESPACES.fan, ["bench-fan-out"], { listenFor: "event", event: EVENTS.trigger }),
    emitTo("bench-fan-out", NAMESPACES.fan, EVENTS.fanned, "rooms", { rooms: ROOM }),
    // connect through a middleware flow
    startNode("bench-auth-start", ["bench-auth-check"], {
      z,
      name: "",
      server: "bench-srv",
      namespace: NAMESPACES.auth,
      x: 150,
      y: row(),
    }),
    functionNode(
      "bench-auth-check",
      `msg.payload = msg.payload && msg.payload.token === ${JSON.stringify(TOKEN)};\nreturn msg;`,
      ["bench-auth-end"],
      { ...EDITOR_DEFAULTS.function(), z, name: "token?", x: 400, y },
    ),
    endNode("bench-auth-end", REFUSAL, { z, name: "", x: 700, y }),
  ];
}
