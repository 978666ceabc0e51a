import type { ManagerOptions, Socket as ClientSocket, SocketOptions } from "socket.io-client";
import {
  ackWait,
  catchNode,
  EDITOR_DEFAULTS,
  emitNode,
  functionNode,
  onNode,
  roomNode,
  type FlowNode,
  type Props,
} from "./flow-fixtures";
import { client, freePort, whenConnected } from "./helpers";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";
import { waitListening } from "./ports";
import { StatusWatcher } from "./status-watcher";

/**
 * What the scale-out tests run on each real Node-RED instance: the same flow everywhere, as a user
 * would deploy it behind a load balancer. An instance differs only by its environment: INSTANCE (its
 * name) and IO_PORT (the socket.io server's port, `${IO_PORT}` in the config node).
 *
 * Clients: "join" (msg.payload: a room) sets socket.data.instance, joins and acknowledges; "echo" is
 * answered to the sender; "shout" is broadcast to everyone but the sender.
 * HTTP (JSON body in msg.payload): POST /emit/rooms {event, room, except?, ...} and /emit/all {event, ...}
 * emit the body; /room/{join,leave,disconnect,list} {inRoom, room?} act on all sockets in rooms;
 * /instances {event, payload} sends an instance event and answers with the other instances' answers.
 * An instance event "whoami" is answered with "<INSTANCE>:<payload>". Errors answer 500 {error}.
 */
export function scaleOutFlow(opts: {
  adapter: string;
  redisUrl: string;
  prefix: string;
  recovery?: boolean;
  password?: string;
}): FlowNode[] {
  const z = "scale";
  let y = 0;
  const placed = (n: FlowNode): FlowNode => ({ z, x: 200, y: (y += 40), wires: [], ...n });
  const emit = (id: string, target: string, extra: Props = {}): FlowNode =>
    placed(emitNode(id, target, "", { ...EDITOR_DEFAULTS.emit(), ...extra }));
  const on = (id: string, listenFor: string, event: string, wires: string[]): FlowNode =>
    placed(onNode(id, listenFor, wires, { ...EDITOR_DEFAULTS.on(), event }));
  const httpIn = (id: string, url: string, wires: string[]): FlowNode =>
    placed({ id, type: "http in", url, method: "post", upload: false, swaggerDoc: "", wires: [wires] });
  const fn = (id: string, func: string, wires: string[]): FlowNode =>
    placed(functionNode(id, func, wires, EDITOR_DEFAULTS.function()));
  const room = (action: string): FlowNode[] => [
    httpIn(`http-room-${action}`, `/room/${action}`, [`room-${action}`]),
    placed(
      roomNode(`room-${action}`, action, "payload.room", ["respond"], {
        roomsType: "msg",
        target: "room",
        server: "srv",
        namespace: "/",
        inRooms: "payload.inRoom",
        inRoomsType: "msg",
        close: false,
      }),
    ),
  ];
  return [
    { id: z, type: "tab", label: "scale-out", disabled: false, info: "" },
    {
      id: "srv",
      type: "socket-io-server",
      name: "",
      listen: "port",
      port: "${IO_PORT}",
      path: "/socket.io",
      corsOrigins: "*",
      serveClient: false,
      recovery: opts.recovery === true,
      recoveryDuration: 60000,
      adapter: opts.adapter,
      redisUrl: opts.redisUrl,
      redisPrefix: opts.prefix,
      // How the editor sends credentials; Node-RED keeps them out of flows.json.
      ...(opts.password ? { credentials: { redisPassword: opts.password } } : {}),
    },
    on("on-join", "event", "join", ["set-data"]),
    fn("set-data", 'msg.socket.data = { instance: env.get("INSTANCE") };\nreturn msg;', ["join"]),
    placed({
      id: "join",
      type: "socket-io-room",
      target: "socket",
      action: "join",
      rooms: "payload",
      roomsType: "msg",
      wires: [["joined"]],
    }),
    emit("joined", "ack"),
    on("on-echo", "event", "echo", ["echo"]),
    emit("echo", "socket", { event: "echo" }),
    on("on-shout", "event", "shout", ["shout"]),
    emit("shout", "broadcast", { event: "news" }),
    httpIn("http-emit-rooms", "/emit/rooms", ["emit-rooms", "respond"]),
    emit("emit-rooms", "rooms", {
      event: "payload.event",
      eventType: "msg",
      rooms: "payload.room",
      roomsType: "msg",
      except: "payload.except",
      exceptType: "msg",
    }),
    httpIn("http-emit-all", "/emit/all", ["emit-all", "respond"]),
    emit("emit-all", "all", { event: "payload.event", eventType: "msg" }),
    httpIn("http-instances", "/instances", ["instance-args"]),
    fn("instance-args", "msg.event = msg.payload.event;\nmsg.payload = msg.payload.payload;\nreturn msg;", [
      "instances",
    ]),
    emit("instances", "instances", { ...ackWait(1000, "respond"), outputs: 1 }),
    on("on-whoami", "instance", "whoami", ["whoami"]),
    fn("whoami", 'msg.payload = env.get("INSTANCE") + ":" + msg.payload;\nreturn msg;', ["whoami-reply"]),
    emit("whoami-reply", "ack"),
    ...room("join"),
    ...room("leave"),
    ...room("disconnect"),
    ...room("list"),
    placed(catchNode("failed")),
    fn("failed", "msg.statusCode = 500;\nmsg.payload = { error: msg.error.message };\nreturn msg;", ["respond"]),
    placed({ id: "respond", type: "http response", statusCode: "", headers: {} }),
  ];
}

/** What the flow answers a request with when it failed: 500 {error}. */
export interface FlowError {
  error: string;
}

/** One real Node-RED with the package, its socket.io port, and a watcher on its node statuses. */
export interface Instance {
  name: string;
  red: NodeRedProcess;
  ioPort: number;
  ioUrl: string;
  statuses: StatusWatcher;
  /** POSTs JSON to an http-in path of the flow; resolves with the status and the JSON answer. */
  post<T = unknown>(path: string, body: unknown): Promise<{ status: number; body: T }>;
}

export async function startInstance(name: string): Promise<Instance> {
  const ioPort = await freePort();
  const red = await startNodeRed({ port: await freePort(), env: { INSTANCE: name, IO_PORT: String(ioPort) } });
  return {
    name,
    red,
    ioPort,
    ioUrl: `http://127.0.0.1:${ioPort}`,
    statuses: await StatusWatcher.of(red),
    async post(path, body) {
      const res = await fetch(red.url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
  };
}

/** Stops the instances a suite started (and their status watchers). */
export async function stopInstances(instances: Array<Instance | undefined>): Promise<void> {
  await Promise.all(
    instances.map(async (i) => {
      if (!i) return;
      i.statuses.close();
      await i.red.stop();
    }),
  );
}

/**
 * Deploys the flow to every instance and waits until each one's new server (each deploy of the tests
 * changes its settings, so it restarts: its on node shows "starting" first) serves socket.io and
 * reaches Redis: a green "… · redis" status.
 */
export async function deployEverywhere(instances: Instance[], flow: unknown[]): Promise<void> {
  for (const i of instances) i.statuses.forget();
  await Promise.all(instances.map((i) => i.red.deploy(flow)));
  const ready = (i: Instance) => (text: string) =>
    i.statuses.history("on-join").includes("starting") &&
    / · redis$/.test(text) &&
    i.statuses.status("on-join")?.fill === "green";
  await Promise.all(
    instances.map((i) => i.statuses.waitFor("on-join", ready(i), 10_000, `${i.name}'s new server to reach Redis`)),
  );
  await Promise.all(instances.map((i) => waitListening(i.ioPort)));
}

/** A Node-RED process that ended, or printed what would have ended it. */
export function crashesOf(i: Instance): string[] {
  const problems: string[] = [];
  if (i.red.proc.exitCode !== null || i.red.proc.signalCode !== null)
    problems.push(`${i.name} exited (${i.red.proc.exitCode ?? i.red.proc.signalCode})`);
  for (const line of i.red.output().split("\n"))
    if (/Uncaught Exception|unhandledRejection|UnhandledPromiseRejection/i.test(line))
      problems.push(`${i.name}: ${line}`);
  return problems;
}

/** Socket.IO clients a test opens; closes them all. */
export class Clients {
  private readonly open = new Set<ClientSocket>();

  /** A connected client; with `rooms`, it has joined them through the flow. Records every "news" payload. */
  async connect(
    url: string,
    rooms: string[] = [],
    opts: Partial<ManagerOptions & SocketOptions> = {},
  ): Promise<ClientSocket & { news: unknown[] }> {
    const socket = client(url, opts) as ClientSocket & { news: unknown[] };
    this.open.add(socket);
    // Listening before the connection: a recovered session's missed events arrive with it.
    socket.news = [];
    socket.on("news", (payload: unknown) => socket.news.push(payload));
    await whenConnected(socket, 5000);
    for (const room of rooms) await socket.timeout(3000).emitWithAck("join", room);
    return socket;
  }

  closeAll(): void {
    for (const socket of this.open) socket.disconnect();
    this.open.clear();
  }
}
