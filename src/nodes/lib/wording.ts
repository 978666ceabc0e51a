import type { Node, NodeAPI } from "node-red";
import type { Logger } from "../core/logger";
import { codeWording, Problem, Term, useWording, wordCode, type WordValue, type WordValues } from "../core/problem";

/** Strings every node type shares, and the core's words, live in the server node's catalog. */
export const SHARED = "node-red-contrib-socket-io/socket-io-server:socket-io-server";

function filled(value: WordValue): string | number {
  if (value instanceof Term) return value.toString();
  if (Array.isArray(value)) return value.map(filled).join(", ");
  return value as string | number;
}

/**
 * Words the core from the locale files from now on: every Problem's message, every Term, every
 * line a core Logger gets. A code the catalog lacks (an older translation) still shows with its
 * values. Each node module calls it with its RED; all of them share Node-RED's one i18n.
 */
export function useCatalog(RED: NodeAPI): void {
  useWording((path: string, values: WordValues) => {
    const key = `${SHARED}.${path}`;
    const args = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, filled(v)]));
    const text = RED._(key, args);
    // i18next answers a missing key with the key, without its namespace.
    return text === key || text === key.slice(key.indexOf(":") + 1) ? codeWording(path, values) : text;
  });
}

/** A node's log for the core: the core's codes worded from the catalog, as plain lines. */
export function nodeLogger(node: Node): Logger {
  return {
    warn: (code, values) => node.warn(wordCode(code, values)),
    error: (code, values) => node.error(wordCode(code, values)),
    log: (code, values) => node.log(wordCode(code, values)),
  };
}

/**
 * Short status texts (keys of `status` in the server node's catalog) for the codes of core Problems;
 * the first entry whose code or group (the part before the dot) matches wins.
 */
const STATUS_OF_CODE: ReadonlyArray<[string, string]> = [
  ["setting", "badSetting"],
  ["server.conflictPort", "conflict"],
  ["server.conflictNodeRed", "conflict"],
  ["server.portInUse", "portInUse"],
  ["server.portDenied", "portDenied"],
  ["server.noNodeRedServer", "noHttpServer"],
  ["redis.unreachable", "redisUnreachable"],
  ["redis.unreachableBecause", "redisUnreachable"],
  ["emit.clientAckTimeout", "timedOut"],
  ["emit.clientsAckTimeout", "timedOut"],
  ["emit.instancesAckTimeout", "timedOut"],
];

/** What went wrong, worded: the full text for the log and the Catch node, and a short status. */
export interface Failure {
  /** The whole sentence. */
  text: string;
  /** Key of the short status text under `status` in the server node's catalog, e.g. "badSetting". */
  status: string;
}

/**
 * The words for an error: a core Problem's message (already worded from the catalog) with the
 * status its code has, or `status` for any other error (the node layer words its own).
 */
export function failureOf(err: unknown, status = "failed"): Failure {
  const text = err instanceof Error ? err.message : String(err);
  if (!(err instanceof Problem)) return { text, status };
  const group = err.code.slice(0, err.code.indexOf("."));
  const found = STATUS_OF_CODE.find(([code]) => code === err.code || code === group);
  return { text, status: found ? found[1] : status };
}

/** A short status text of the server node's catalog, by its key under `status` ("badSetting"). */
export function statusText(RED: NodeAPI, status: string): string {
  return RED._(`${SHARED}.status.${status}`);
}
