import type { Node, NodeAPI, NodeStatus } from "node-red";
import { ADMIN_NAMESPACE } from "../core/admin-ui-settings";
import type { NamespaceHub } from "../core/namespace-hub";
import { underHttpNodeRoot } from "../core/node-red-path";
import { kindOf } from "../core/problem";
import type { RedisState } from "../core/redis-adapter-link";
import type { ServerEntry } from "../core/server-entry";
import { failed, fitPath, ok, waiting, type StatusThrottle } from "./node-status";
import { failureOf, SHARED, statusText, type Failure } from "./wording";

/** What a socket-io-server config node offers its flow nodes. */
export interface ServerConfigNode extends Node {
  /** The shared Socket.IO server, unless the settings were refused. */
  entry?: ServerEntry;
  /** Why there is no server, worded, with the short status its flow nodes show. */
  failure?: Failure;
  /**
   * When the settings clash with a server already running on the same port: that server. Its
   * clients reach the namespaces this config node's middleware was meant to guard.
   */
  occupied?: ServerEntry;
}

/**
 * Finds a flow node's server and keeps the node's status in line with it. `listening` runs each
 * time the server is (again) up, and, for a server that scales out, each time its Redis state
 * changes while it is up. Returns the server, or undefined after saying what is wrong.
 */
export function linkServer(
  RED: NodeAPI,
  node: Node,
  serverId: string | undefined,
  status: StatusThrottle,
  listening: (entry: ServerEntry) => void,
): { entry?: ServerEntry; unlink: () => void } {
  const config = serverId ? (RED.nodes.getNode(serverId) as ServerConfigNode | null) : null;
  if (!config) {
    status.now(failed(statusText(RED, "noServer")));
    node.error(RED._(`${SHARED}.errors.noServer`));
    return { unlink: () => undefined };
  }
  const entry = config.entry;
  if (!entry) {
    // The server node has logged why; its flow nodes show what kind of trouble it is.
    status.now(failed(statusText(RED, config.failure?.status ?? "error")));
    return { unlink: () => undefined };
  }
  const unwatch = entry.watchState((state, error) => {
    if (state === "listening") listening(entry);
    else if (state === "starting") status.now(waiting(statusText(RED, "starting")));
    else if (state === "error") status.now(failed(statusText(RED, failureOf(error, "error").status)));
  });
  const unwatchRedis = entry.redis?.watch(() => {
    if (entry.state === "listening") listening(entry);
  });
  return {
    entry,
    unlink: () => {
      unwatch();
      unwatchRedis?.();
    },
  };
}

/** The status text (its key under `status` in the server node's catalog) of each Redis state. */
const REDIS_STATUS: Record<RedisState, string> = {
  connected: "redis",
  connecting: "redisConnecting",
  unreachable: "redisUnreachable",
};

/**
 * The status of a flow node of a running server: `clients` (the local client count, as text) when
 * given, and for a server that scales out its Redis state: a green dot while the other instances are
 * reached, a yellow ring while Redis is being connected or is unreachable (the reason is in the log).
 */
export function serverStatus(RED: NodeAPI, entry: ServerEntry, clients?: string): NodeStatus {
  const redis = entry.redis;
  const key = redis && REDIS_STATUS[redis.state];
  const word = (count: string | undefined): string => {
    if (count === undefined) return key ? RED._(`${SHARED}.status.${key}`) : "";
    return key ? RED._(`${SHARED}.status.${key}Clients`, { clients: count }) : count;
  };
  let text = word(clients);
  // Under an httpNodeRoot, clients connect elsewhere than the Path the dialog shows: the count says where.
  const endpoint = atNodeRoot(RED, entry);
  if (clients !== undefined && endpoint)
    text = fitPath(endpoint, (path) => word(RED._(`${SHARED}.status.clientsAt`, { path, clients })), text);
  if (!redis) return text ? ok(text) : {};
  return redis.state === "connected" ? ok(text) : waiting(text);
}

/** The full path of a server on Node-RED's own server when an httpNodeRoot moves it, else undefined. */
function atNodeRoot(RED: NodeAPI, entry: ServerEntry): string | undefined {
  const moved = entry.settings.listen === "nodered" && underHttpNodeRoot(RED.settings.httpNodeRoot, "") !== "";
  return moved ? entry.settings.path : undefined;
}

/** Checks a namespace setting: "/" or "/name", but not the Admin UI's. */
export function checkNamespace(value: unknown): string | undefined {
  const ns = value === undefined || value === null || value === "" ? "/" : String(value).trim();
  return /^\/[^\s]*$/.test(ns) && ns !== ADMIN_NAMESPACE ? ns : undefined;
}

/**
 * The namespace a msg acts on: the node's Namespace setting, else msg.namespace, else "/". Only a
 * namespace some node of the server is configured with exists. `type` is the node type whose i18n
 * keys (`errors.namespaceType`, `errors.unknownNamespace`) word the errors.
 * @throws when msg.namespace is not a string, or names no configured namespace
 */
export function namespaceFor(
  RED: NodeAPI,
  type: string,
  entry: ServerEntry,
  setting: string | undefined,
  fromMsg: unknown,
): NamespaceHub {
  const name = setting ?? (fromMsg === undefined ? "/" : fromMsg);
  if (typeof name !== "string") throw new Error(RED._(`${type}.errors.namespaceType`, { kind: String(kindOf(name)) }));
  const hub = entry.namespace(name);
  if (!hub) throw new Error(RED._(`${type}.errors.unknownNamespace`, { namespace: name }));
  return hub;
}
