/**
 * The Node-RED flows the package side of the benchmark deploys: the same behaviour as
 * bench/raw-server.ts, one namespace per scenario, on one server config node with its own port.
 *
 * No node id equals a string setting of another node (Node-RED would take it for a config reference).
 */

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

type FlowNode = Record<string, unknown> & { id: string; type: string };

/**
 * The package's flows for a server on `ioPort`. `revision` changes only the name of a node, so two
 * revisions are a full deploy with unchanged server settings. With `redis`, the server scales out
 * through the Redis pub/sub adapter (the scale-out scenario's instances).
 */
export function packageFlows(ioPort: number, revision = 0, redis?: { url: string; prefix: string }): FlowNode[] {
  const z = "bench-tab";
  let y = 0;
  const row = (): number => (y += 60);
  const emitTo = (
    id: string,
    namespace: string,
    event: string,
    target: string,
    extra: Record<string, unknown> = {},
  ): FlowNode => ({
    id,
    type: "socket-io-emit",
    z,
    server: "bench-srv",
    namespace,
    event,
    eventType: "str",
    target,
    rooms: "",
    roomsType: "str",
    except: "",
    exceptType: "str",
    volatile: false,
    compress: true,
    waitAck: false,
    ackTimeout: 5000,
    x: 700,
    y,
    wires: [],
    ...extra,
  });
  const on = (
    id: string,
    namespace: string,
    wires: string[],
    listen: { listenFor: string; event?: string },
    name = "",
  ): FlowNode => ({
    id,
    type: "socket-io-on",
    z,
    name,
    server: "bench-srv",
    namespace,
    listenFor: listen.listenFor,
    event: listen.event ?? "",
    privateRooms: false,
    x: 150,
    y: row(),
    wires: [wires],
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
    {
      id: "bench-srv",
      type: "socket-io-server",
      name: "bench",
      listen: "port",
      port: ioPort,
      path: "/socket.io",
      corsOrigins: "*",
      serveClient: true,
      ...(redis ? { adapter: "redis", redisUrl: redis.url, redisPrefix: redis.prefix } : {}),
    },
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
    {
      id: "bench-clone-debug",
      type: "debug",
      z,
      name: "",
      active: false,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: "payload",
      targetType: "msg",
      statusVal: "",
      statusType: "auto",
      x: 700,
      y: y + 30,
      wires: [],
    },
    // fan-out
    on("bench-fan-connect", NAMESPACES.fan, ["bench-fan-join"], { listenFor: "connection" }),
    {
      id: "bench-fan-join",
      type: "socket-io-room",
      z,
      name: "",
      action: "join",
      rooms: ROOM,
      roomsType: "str",
      x: 400,
      y,
      wires: [["bench-fan-joined"]],
    },
    emitTo("bench-fan-joined", NAMESPACES.fan, EVENTS.joined, "socket"),
    on("bench-fan-trigger", NAMESPACES.fan, ["bench-fan-out"], { listenFor: "event", event: EVENTS.trigger }),
    emitTo("bench-fan-out", NAMESPACES.fan, EVENTS.fanned, "rooms", { rooms: ROOM }),
    // connect through a middleware flow
    {
      id: "bench-auth-start",
      type: "socket-io-middleware-start",
      z,
      name: "",
      server: "bench-srv",
      namespace: NAMESPACES.auth,
      timeout: 10,
      order: 0,
      x: 150,
      y: row(),
      wires: [["bench-auth-check"]],
    },
    {
      id: "bench-auth-check",
      type: "function",
      z,
      name: "token?",
      func: `msg.payload = msg.payload && msg.payload.token === ${JSON.stringify(TOKEN)};\nreturn msg;`,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: "",
      finalize: "",
      libs: [],
      x: 400,
      y,
      wires: [["bench-auth-end"]],
    },
    { id: "bench-auth-end", type: "socket-io-middleware-end", z, name: "", errMsg: REFUSAL, x: 700, y, wires: [] },
  ];
}
