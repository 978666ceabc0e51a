import type { SecureContextOptions } from "node:tls";
import type { ServerOptions } from "socket.io";
import { adminUiSettings, type AdminUiSettings } from "./admin-ui-settings";
import { originAllowed } from "./origin-check";
import { Term } from "./problem";
import { flag, integer, parseOptionsJson, SettingsError, textOr } from "./setting-fields";

// Whether two config nodes can share a server: tests import it with the parser.
export { differences, fingerprint } from "./server-fingerprint";
// Whether a request's Origin passes the CORS setting (tests import it with the parser).
export { originAllowed };

/** The parsers a server can speak, as the Parser setting names them. */
export const PARSER_KINDS = ["json", "msgpack"] as const;
export type ParserKind = (typeof PARSER_KINDS)[number];

/** The Parser setting: blank (flows saved before it existed) is JSON. */
function parserKind(raw: unknown): ParserKind {
  const kind = raw === undefined || raw === null || raw === "" ? "json" : String(raw);
  if (!(PARSER_KINDS as readonly string[]).includes(kind))
    throw new SettingsError("parser", { parser: kind, choices: PARSER_KINDS.map((k) => new Term(`parser.${k}`)) });
  return kind as ParserKind;
}

/** A socket-io-server config node's settings, checked and normalised. */
export interface ServerSettings {
  /** "port": a server of its own; "nodered": Node-RED's own HTTP(S) server. */
  listen: "port" | "nodered";
  /** Used when listen is "port". */
  port: number;
  /** @default "/socket.io" */
  path: string;
  /**
   * "*" for any origin, else the allowed origins (which may include "null" and "file://", the origins
   * some devices and local pages send); an empty list allows the same origin only.
   */
  corsOrigins: "*" | string[];
  /** @default true */
  serveClient: boolean;
  /**
   * Accept Socket.IO v2 clients (Engine.IO protocol 3), Socket.IO's `allowEIO3`. @default false (also for
   * flows saved before it existed)
   */
  allowEIO3: boolean;
  /**
   * The wire format: Socket.IO's default JSON parser, or socket.io-msgpack-parser for clients that use
   * it. @default "json" (also for flows saved before it existed)
   */
  parser: ParserKind;
  /** @default 25000 */
  pingInterval: number;
  /** @default 20000 */
  pingTimeout: number;
  /** @default 1000000 */
  maxHttpBufferSize: number;
  /** Connection-state recovery. @default false */
  recovery: boolean;
  /** @default 120000 */
  recoveryDuration: number;
  /**
   * Recovered connections skip the middleware flow (Socket.IO's `skipMiddlewares`). Off: a recovered
   * connection goes through the middleware like any other, with `msg.recovered` true. @default false
   */
  recoverySkipMiddleware: boolean;
  /** Events per second one socket may send; 0 turns the limit off. @default 0 */
  eventRate: number;
  /** How many events above the rate a socket may send at once. @default eventRate */
  eventBurst: number;
  /** How long a connection may stay without joining a namespace before it is closed (ms). @default 45000 */
  connectTimeout: number;
  /**
   * On Node-RED's own server: run Node-RED's `httpNodeAuth` and `httpNodeMiddleware` for the Socket.IO
   * endpoint (polling requests and WebSocket upgrades). @default false (flows saved before it existed)
   */
  httpNodeSecurity: boolean;
  /** TLS options from a tls-config node, for an own port. */
  tls?: SecureContextOptions;
  /** Advanced Socket.IO options, merged last. */
  options: Record<string, unknown>;
  /** Scale-out across instances through Redis; undefined for the in-memory adapter (the default). */
  scaleOut?: ScaleOutSettings;
  /** The Socket.IO Admin UI's login; undefined when it is off (the default). Applied without a restart. */
  adminUi?: AdminUiSettings;
}

/** Which Socket.IO adapter a server uses: in memory, Redis pub/sub, or Redis Streams. */
export type AdapterKind = "memory" | "redis" | "redis-streams";
export const ADAPTER_KINDS: readonly AdapterKind[] = ["memory", "redis", "redis-streams"];

/** How a server reaches the other instances: a Redis adapter and its connection. */
export interface ScaleOutSettings {
  adapter: "redis" | "redis-streams";
  /** redis:// or rediss://, host, port and database; never credentials. @default "redis://127.0.0.1:6379" */
  url: string;
  /** Separates applications that share one Redis (channel, stream and key names). @default "socket.io" */
  prefix: string;
  /** From the config node's credentials, never from the flow file. */
  username?: string;
  password?: string;
}

/** The credentials of a socket-io-server config node (Node-RED keeps them out of the flow file). */
export interface ServerCredentials {
  redisUsername?: string;
  redisPassword?: string;
  adminUiUsername?: string;
  adminUiPassword?: string;
}

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
export const DEFAULT_REDIS_PREFIX = "socket.io";

/** Origins that are not scheme://host: a sandboxed or local page sends "null", some apps "file://". */
export const LITERAL_ORIGINS: readonly string[] = ["null", "file://"];

function origins(raw: unknown): "*" | string[] {
  const text = raw === undefined || raw === null ? "*" : String(raw).trim();
  if (text === "*") return "*";
  const list = text
    .split(",")
    .map((o) => o.trim())
    .map((o) => (/^file:\/*$/i.test(o) ? "file://" : o.replace(/\/+$/, "")))
    .filter(Boolean);
  if (list.includes("*")) return "*";
  for (const origin of list) {
    if (LITERAL_ORIGINS.includes(origin)) continue;
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(origin)) {
      throw new SettingsError("origin", { origin });
    }
  }
  return list;
}

/** Checks a Redis URL: redis:// or rediss://, a host, an optional port and database, no credentials. */
export function parseRedisUrl(raw: unknown): string {
  const text = textOr(raw, DEFAULT_REDIS_URL);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError("redisUrl", { url: text, example: DEFAULT_REDIS_URL });
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new SettingsError("redisScheme", { url: text });
  if (url.username || url.password) throw new SettingsError("redisCredentials");
  if (!url.hostname) throw new SettingsError("redisHost", { url: text });
  if (!/^\/?(\d+)?$/.test(url.pathname) || url.search || url.hash) {
    throw new SettingsError("redisDatabase", { url: text, example: `${DEFAULT_REDIS_URL}/0` });
  }
  return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
}

function scaleOut(raw: Record<string, unknown>, credentials: ServerCredentials): ScaleOutSettings | undefined {
  const adapter =
    raw.adapter === undefined || raw.adapter === null || raw.adapter === "" ? "memory" : String(raw.adapter);
  if (!(ADAPTER_KINDS as readonly string[]).includes(adapter)) {
    throw new SettingsError("adapter", { adapter, choices: ADAPTER_KINDS.map((kind) => new Term(`adapter.${kind}`)) });
  }
  if (adapter === "memory") return undefined;
  const prefix = textOr(raw.redisPrefix, DEFAULT_REDIS_PREFIX);
  if (/[\s#*?[\]]/.test(prefix)) {
    throw new SettingsError("redisPrefix", { prefix });
  }
  const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  return {
    adapter: adapter as ScaleOutSettings["adapter"],
    url: parseRedisUrl(raw.redisUrl),
    prefix,
    username: text(credentials.redisUsername),
    password: text(credentials.redisPassword),
  };
}

/** The per-socket event limit: blank or 0 rate is off; a blank burst is the rate. */
function eventLimit(raw: Record<string, unknown>): { eventRate: number; eventBurst: number } {
  const eventRate = integer(raw.eventRate, "eventRate", 0, 0);
  const eventBurst = eventRate === 0 ? 0 : integer(raw.eventBurst, "eventBurst", eventRate, 1);
  return { eventRate, eventBurst };
}

/**
 * Checks a config node's raw properties and fills in defaults.
 * @param credentials the config node's credentials (Redis, Admin UI)
 * @throws SettingsError naming the setting and how to fix it
 */
export function parseServerSettings(
  raw: Record<string, unknown>,
  tls?: SecureContextOptions,
  credentials: ServerCredentials = {},
): ServerSettings {
  const listen = raw.listen === "nodered" ? "nodered" : "port";
  const path = raw.path === undefined || raw.path === "" ? "/socket.io" : String(raw.path).trim();
  if (!/^\/[^\s?#]*$/.test(path) || path.length < 2) {
    throw new SettingsError("path", { path });
  }
  return {
    listen,
    port: listen === "port" ? integer(raw.port, "port", undefined, 1, 65535) : 0,
    path: path.replace(/\/+$/, ""),
    corsOrigins: origins(raw.corsOrigins),
    serveClient: flag(raw.serveClient, true),
    allowEIO3: flag(raw.allowEIO3, false),
    parser: parserKind(raw.parser),
    pingInterval: integer(raw.pingInterval, "pingInterval", 25000, 1),
    pingTimeout: integer(raw.pingTimeout, "pingTimeout", 20000, 1),
    maxHttpBufferSize: integer(raw.maxHttpBufferSize, "maxHttpBufferSize", 1_000_000, 1),
    recovery: flag(raw.recovery, false),
    recoveryDuration: integer(raw.recoveryDuration, "recoveryDuration", 120_000, 1),
    recoverySkipMiddleware: flag(raw.recoverySkipMiddleware, false),
    ...eventLimit(raw),
    connectTimeout: integer(raw.connectTimeout, "connectTimeout", 45_000, 1),
    httpNodeSecurity: listen === "nodered" && flag(raw.httpNodeSecurity, false),
    tls: listen === "port" ? tls : undefined,
    options: parseOptionsJson(raw.options),
    scaleOut: scaleOut(raw, credentials),
    adminUi: adminUiSettings(raw, credentials),
  };
}

/** Socket.IO server options for these settings; the advanced options are merged last. */
export function socketIoOptions(s: ServerSettings): Partial<ServerOptions> {
  const base: Partial<ServerOptions> = {
    path: s.path,
    serveClient: s.serveClient,
    allowEIO3: s.allowEIO3,
    pingInterval: s.pingInterval,
    pingTimeout: s.pingTimeout,
    maxHttpBufferSize: s.maxHttpBufferSize,
    connectTimeout: s.connectTimeout,
    allowRequest: (req, callback) => {
      if (originAllowed(s.corsOrigins, req)) callback(null, true);
      // Protocol, not words: engine.io answers the client with it.
      else callback("origin not allowed", false);
    },
  };
  if (s.corsOrigins === "*") base.cors = { origin: "*" };
  else if (s.corsOrigins.length > 0) base.cors = { origin: s.corsOrigins, credentials: true };
  if (s.recovery)
    base.connectionStateRecovery = {
      maxDisconnectionDuration: s.recoveryDuration,
      skipMiddlewares: s.recoverySkipMiddleware,
    };
  return { ...base, ...s.options };
}
