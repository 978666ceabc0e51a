import type { Node, NodeAPI, NodeDef } from "node-red";

/**
 * The flows the tests deploy, one builder per node type. A builder sets what every test's node of
 * that type has; a test adds the rest as `extra`, spread last. A node's one output is wired to the
 * ids in `wires: string[]`. Data only (no Node-RED at run time): bench/ builds its flows here too.
 *
 * Node ids must differ from every string setting: Node-RED takes a setting that equals a node id
 * for a reference to that node.
 */

/** A node of a test flow. */
export type FlowNode = { id: string; type: string; [key: string]: unknown };
/** A node of a flow as the editor saved it (the example flows, old flows): what the tests read of it. */
export type SavedNode = FlowNode & {
  z?: string;
  name?: string;
  info?: string;
  x?: number;
  y?: number;
  wires?: string[][];
};
/** Settings a test adds to a builder's node. */
export type Props = Record<string, unknown>;

/**
 * What the editor saves for the settings a user leaves alone. Flows deployed as a user's would be
 * (bench/, the scale-out instances) carry them; the in-process specs leave most of them out.
 */
export const EDITOR_DEFAULTS = {
  /** Besides listenFor, which `onNode` sets. */
  on: (): Props => ({ event: "", privateRooms: false }),
  /** Besides event, eventType and target, which `emitNode` sets. */
  emit: (): Props => ({
    rooms: "",
    roomsType: "str",
    except: "",
    exceptType: "str",
    volatile: false,
    compress: true,
    waitAck: false,
    ackTimeout: 5000,
  }),
  /** Besides outputs, which `functionNode` sets. */
  function: (): Props => ({ timeout: 0, noerr: 0, initialize: "", finalize: "", libs: [] }),
};

/** A server config node "srv" on its own port. */
export function serverConfig(port: number, extra: Props = {}): FlowNode {
  return { id: "srv", type: "socket-io-server", listen: "port", port, path: "/socket.io", corsOrigins: "*", ...extra };
}

/** A socket-io-on node of server "srv" in "/" that listens for `listenFor` ("connection", "any", ...). */
export function onNode(id: string, listenFor: string, wires: string[], extra: Props = {}): FlowNode {
  return { id, type: "socket-io-on", server: "srv", namespace: "/", listenFor, wires: [wires], ...extra };
}

/** A socket-io-on node for one client event. */
export const onEvent = (id: string, event: string, wires: string[], extra: Props = {}): FlowNode =>
  onNode(id, "event", wires, { event, ...extra });

/** An on node as the editor saves it (blank event, private rooms off), with `extra` settings. */
export const editorOn = (id: string, listenFor: string, wires: string[], extra: Props = {}): FlowNode =>
  onNode(id, listenFor, wires, { ...EDITOR_DEFAULTS.on(), ...extra });

/** An on node for one client event, as the editor saves it. */
export const editorOnEvent = (id: string, event: string, wires: string[], extra: Props = {}): FlowNode =>
  editorOn(id, "event", wires, { event, ...extra });

/** A socket-io-emit node of server "srv" in "/" that emits `event` (a fixed name) to `target`. */
export function emitNode(id: string, target: string, event: string, extra: Props = {}): FlowNode {
  return {
    id,
    type: "socket-io-emit",
    server: "srv",
    namespace: "/",
    event,
    eventType: "str",
    target,
    wires: [],
    ...extra,
  };
}

/** An on node for client event `event` and the emit node it is wired to, which answers the sender with `reply`. */
export const answerNodes = (
  onId: string,
  event: string,
  emitId: string,
  reply: string,
  extra: Props = {},
): FlowNode[] => [onEvent(onId, event, [emitId], extra), emitNode(emitId, "socket", reply, extra)];

/** A socket-io-emit node that answers the acknowledgement in msg.ack. */
export const ackNode = (id: string, extra: Props = {}): FlowNode => ({
  id,
  type: "socket-io-emit",
  server: "srv",
  target: "ack",
  wires: [],
  ...extra,
});

/** An emit node's settings to wait `ms` for the answers and send them on to `to`. */
export const ackWait = (ms: number, to: string): Props => ({ waitAck: true, ackTimeout: ms, wires: [[to]] });

/** A socket-io-room node acting on the socket in msg.socket; `rooms` is a fixed list ("str"). */
export function roomNode(id: string, action: string, rooms: string, wires: string[], extra: Props = {}): FlowNode {
  return { id, type: "socket-io-room", action, rooms, roomsType: "str", wires: [wires], ...extra };
}

/** A socket-io-room node that makes msg.socket join the room(s) in msg.payload. */
export const joinPayloadNode = (id: string, wires: string[]): FlowNode =>
  roomNode(id, "join", "payload", wires, { roomsType: "msg" });

/** A socket-io-middleware-start node of server "srv" in "/" (10 s timeout, order 0). */
export function startNode(id: string, wires: string[], extra: Props = {}): FlowNode {
  return {
    id,
    type: "socket-io-middleware-start",
    server: "srv",
    namespace: "/",
    timeout: 10,
    order: 0,
    wires: [wires],
    ...extra,
  };
}

/** A socket-io-middleware-end node; `errMsg` is the refusal's message ("" for the default). */
export const endNode = (id: string, errMsg = "", extra: Props = {}): FlowNode => ({
  id,
  type: "socket-io-middleware-end",
  errMsg,
  wires: [],
  ...extra,
});

/** Function node bodies that decide a middleware flow's msg.payload: admit, refuse, or admit auth token "secret". */
export const DECIDE = {
  admit: "msg.payload = true; return msg;",
  refuse: "msg.payload = false; return msg;",
  tokenIsSecret: `msg.payload = msg.socket.handshake.auth.token === "secret"; return msg;`,
};

/** A Node-RED function node with one output. */
export function functionNode(id: string, func: string, wires: string[], extra: Props = {}): FlowNode {
  return { id, type: "function", func, outputs: 1, wires: [wires], ...extra };
}

/** A node of the test helper that records the msgs it receives (see `collect` in helpers.ts). */
export const helperNode = (id: string, extra: Props = {}): FlowNode => ({ id, type: "helper", ...extra });

/**
 * A Debug node as the editor saves it, to the sidebar: showing `complete` ("payload", or "true" for
 * the complete msg), active unless `extra` says otherwise.
 */
export function debugNode(id: string, complete: string, extra: Props = {}): FlowNode {
  return {
    id,
    type: "debug",
    name: "",
    active: true,
    tosidebar: true,
    console: false,
    tostatus: false,
    complete,
    targetType: complete === "true" ? "full" : "msg",
    statusVal: "",
    statusType: "auto",
    wires: [],
    ...extra,
  };
}

/** A Catch node for every node of its tab, wired to `to`. */
export const catchNode = (to: string, id = "catch"): FlowNode => ({
  id,
  type: "catch",
  scope: null,
  uncaught: false,
  wires: [[to]],
});

/** A Complete node for the nodes in `scope`, wired to `to`. */
export const completeNode = (scope: string[], to: string, id = "complete"): FlowNode => ({
  id,
  type: "complete",
  scope,
  uncaught: false,
  wires: [[to]],
});

/**
 * `nodes` on one tab, with a position and no wires unless they say otherwise: Node-RED takes a node
 * without x/y for a config node, and a Catch node sees only the errors of its own tab.
 */
export function onTab(label: string, nodes: FlowNode[], tab = "f1"): FlowNode[] {
  return [{ id: tab, type: "tab", label }, ...nodes.map((n) => ({ z: tab, x: 0, y: 0, wires: [], ...n }))];
}

/** `node` where the editor put it: on tab `z` at (x, y). */
export const at = (z: string, x: number, y: number, node: FlowNode): FlowNode => ({ ...node, z, x, y });

const slowCloseWaiters: Array<() => void> = [];

/** Resolves when a slow-close node next starts closing: a deploy has begun and is held open. */
export function slowCloseBegins(): Promise<void> {
  return new Promise((resolve) => slowCloseWaiters.push(resolve));
}

/**
 * Node type "slow-close", whose close takes `delay` ms (default 200): it holds a deploy open like a
 * node that flushes a queue.
 */
export function slowCloseNode(RED: NodeAPI): void {
  function SlowCloseNode(this: Node, def: NodeDef & { delay?: number }): void {
    RED.nodes.createNode(this, def);
    this.on("close", (_removed: boolean, done: () => void) => {
      for (const resolve of slowCloseWaiters.splice(0)) resolve();
      setTimeout(done, def.delay ?? 200);
    });
  }
  RED.nodes.registerType("slow-close", SlowCloseNode);
}
