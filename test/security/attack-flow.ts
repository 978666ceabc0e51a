// The attacked flows of the security suite, in a real Node-RED: the fragments they share (the nodes
// that answer the canary, counters a test reads over HTTP) and the runtime's log lines.
import { ackNode, at, functionNode, onEvent, serverConfig, type FlowNode, type Props } from "../flow-fixtures";
import { until } from "../helpers";
import { startNodeRed, type NodeRedProcess, type StartOptions } from "../node-red-process";
import { freePort } from "../ports";

/** An attack flow: tab "tab" labelled `label` and server "srv" on `ioPort` with `server` settings, then `nodes`. */
export const attackFlow = (label: string, ioPort: number, server: Props, nodes: FlowNode[]): FlowNode[] => [
  { id: "tab", type: "tab", label },
  serverConfig(ioPort, server),
  ...nodes,
];

/**
 * A real Node-RED (options as startNodeRed's, its port chosen here) with `flow(ioPort)` deployed, once
 * its Socket.IO server on `ioPort` listens.
 */
export async function nodeRedWith(
  flow: (ioPort: number) => FlowNode[],
  opts: Omit<StartOptions, "port"> = {},
): Promise<{ nr: NodeRedProcess; ioPort: number }> {
  const ioPort = await freePort();
  const nr = await startNodeRed({ ...opts, port: await freePort() });
  try {
    await nr.deploy(flow(ioPort));
    await until(() => nr.output().includes(`listening on port ${ioPort}`), 5000, "the Socket.IO server to listen");
  } catch (err) {
    await nr.stop();
    throw err;
  }
  return { nr, ioPort };
}

/** An on node "on" for client event `event` at (100, 100) of tab "tab", wired to `wires`. */
export const eventNode = (event: string, wires: string[], extra: Props = {}): FlowNode =>
  at("tab", 100, 100, onEvent("on", event, wires, extra));

/** An emit node at (x, y) of tab `z` that answers the acknowledgement, as the editor saves one. */
export const ackAt = (id: string, z: string, x: number, y: number, extra: Props = {}): FlowNode =>
  at(z, x, y, ackNode(id, { namespace: "/", event: "", ...extra }));

/**
 * The on node of flows that only need "/" served: client event "ev", saved with a setting the node no
 * longer reads (eventType) and without listenFor, which it then takes as "event".
 */
export const legacyEvNode = (server: string, wires: string[]): FlowNode =>
  at("tab", 100, 100, {
    id: "on",
    type: "socket-io-on",
    server,
    namespace: "/",
    eventType: "client",
    event: "ev",
    wires: [wires],
  });

/** The nodes that answer the canary: an on node for "canary" wired to an emit node replying to the ack. */
export function canaryNodes(server = "srv", z = "tab", namespace = "/"): FlowNode[] {
  return [
    at(z, 100, 300, onEvent("canary-on", "canary", ["canary-ack"], { server, namespace })),
    ackAt("canary-ack", z, 300, 300, { server, namespace }),
  ];
}

/**
 * Counts what reaches a point of a flow in a real Node-RED process: `countingFunction(name)` adds one
 * to global context `name` per msg; `counterEndpoint()` serves GET /counts with every count as JSON.
 */
export function countingFunction(id: string, name: string, then: string, z = "tab", wires: string[] = []): FlowNode {
  const func = `global.set(${JSON.stringify(name)}, (global.get(${JSON.stringify(name)}) || 0) + 1);\n${then}`;
  return at(z, 300, 100, functionNode(id, func, wires));
}

export function counterEndpoint(z = "tab"): FlowNode[] {
  const read = `msg.payload = {}; for (const k of global.keys()) msg.payload[k] = global.get(k); return msg;`;
  return [
    { id: "counts-in", type: "http in", z, x: 100, y: 500, url: "/counts", method: "get", wires: [["counts-read"]] },
    at(z, 300, 500, functionNode("counts-read", read, ["counts-out"])),
    { id: "counts-out", type: "http response", z, x: 500, y: 500, statusCode: "", headers: {}, wires: [] },
  ];
}

/** The counts `counterEndpoint` serves (and whatever else the flow put in global context, as `T` says). */
export async function counts<T = Record<string, number>>(adminUrl: string): Promise<T> {
  const res = await fetch(`${adminUrl}/counts`);
  if (!res.ok) throw new Error(`GET /counts: ${res.status}`);
  return (await res.json()) as T;
}

/** The counts, once `ready` holds for them or `ms` have passed (the caller asserts on what came). */
export async function countsWhen<T = Record<string, number>>(
  adminUrl: string,
  ready: (c: T) => boolean,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = await counts<T>(adminUrl);
    if (ready(c) || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The lines of a Node-RED log at a level ("warn", "error") that match `pattern`. */
export function logLines(output: string, level: string, pattern: RegExp = /./): string[] {
  return output.split("\n").filter((line) => line.includes(`[${level}]`) && pattern.test(line));
}
