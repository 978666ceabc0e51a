/**
 * What is kept of departed sockets for SocketHandle: each one's handshake without its auth, for
 * RETIRED_MS, and all of them within RETIRED_BYTES, so a disconnect flow can still read it.
 */
import type { Namespace, Socket } from "socket.io";
import type { HandshakeSnapshot } from "./handshake-snapshot";

/**
 * How long a departed socket's handshake (without its auth) stays readable, for the msgs still about
 * it: a disconnect flow reads it at once, or after an await or two (an HTTP request, a database).
 */
export const RETIRED_MS = 5000;
/**
 * What all departed sockets' handshakes may take together, estimated. Headers and URL come within
 * Node's header limit (16 KB by default) and the query is parsed from the URL: at most about 64 KB
 * each, a few hundred bytes to 2 KB in practice, so this holds every departure of the last
 * RETIRED_MS at a few hundred departures a second. Past it the oldest go first.
 */
export const RETIRED_BYTES = 4 * 1024 * 1024;

/** A departed socket's handshake, and what a flow may still reach through it. */
export interface Retired {
  snapshot: HandshakeSnapshot;
  bytes: number;
  /** `performance.now()` after which it is forgotten. */
  until: number;
  /** Its namespace: a broadcast "to everyone but this socket" still means something. */
  nsp: Namespace;
}

// In the order they departed, so the oldest (first to expire) come first.
const retired = new Map<string, Retired>();
let retiredBytes = 0;
let sweeper: NodeJS.Timeout | undefined;

// A property's slot and string header, roughly.
const ENTRY_BYTES = 64;

/**
 * The string and string-array values of headers or a query, and an estimate of their bytes (two per
 * character at most).
 */
function stringsOf(source: Record<string, unknown>): [Record<string, string | string[]>, number] {
  const copy: Record<string, string | string[]> = {};
  let bytes = 0;
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === "string") {
      copy[key] = value;
      bytes += ENTRY_BYTES + 2 * (key.length + value.length);
    } else if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      copy[key] = [...value];
      bytes += ENTRY_BYTES + 2 * key.length + value.reduce((n, v) => n + ENTRY_BYTES + 2 * v.length, 0);
    }
  }
  return [copy, bytes];
}

/** What is kept of a departed socket: the handshake without auth, copied from Socket.IO's own. */
function departedSnapshot(socket: Socket): [HandshakeSnapshot, number] {
  const h = socket.handshake;
  const [headers, headerBytes] = stringsOf(h.headers);
  const [query, queryBytes] = stringsOf(h.query);
  const snapshot = {
    headers,
    query,
    auth: {},
    address: String(h.address),
    time: String(h.time),
    issued: h.issued,
    url: String(h.url),
    secure: h.secure,
    xdomain: h.xdomain,
  };
  const bytes =
    16 * ENTRY_BYTES +
    headerBytes +
    queryBytes +
    2 * (snapshot.address.length + snapshot.time.length + snapshot.url.length);
  return [snapshot, bytes];
}

function forget(key: string): void {
  const entry = retired.get(key);
  if (!entry) return;
  retired.delete(key);
  retiredBytes -= entry.bytes;
}

/** Forgets what has expired, and what is over the byte bound (the oldest first). */
function sweep(extraBytes = 0): void {
  const now = performance.now();
  for (const [key, entry] of retired) {
    if (entry.until > now && retiredBytes + extraBytes <= RETIRED_BYTES) break;
    forget(key);
  }
  if (sweeper || retired.size === 0) return;
  const first = retired.values().next().value as Retired;
  // One timer for all of them, so that a quiet server lets go of the last departures too.
  sweeper = setTimeout(
    () => {
      sweeper = undefined;
      sweep();
    },
    Math.max(1, first.until - now),
  );
  sweeper.unref();
}

/** Keeps the handshake of a socket that has just gone under `key`, replacing what `key` held. */
export function keepRetired(key: string, socket: Socket): void {
  forget(key);
  const [snapshot, bytes] = departedSnapshot(socket);
  if (bytes > RETIRED_BYTES) return;
  sweep(bytes);
  retired.set(key, { snapshot, bytes, until: performance.now() + RETIRED_MS, nsp: socket.nsp });
  retiredBytes += bytes;
}

/** What `keepRetired` kept under `key`, while it is kept. */
export function retiredOf(key: string): Retired | undefined {
  const kept = retired.get(key);
  return kept && kept.until > performance.now() ? kept : undefined;
}

/** How many departed sockets' handshakes are kept, and their estimated bytes. */
export function retiredUsage(): { count: number; bytes: number } {
  sweep();
  return { count: retired.size, bytes: retiredBytes };
}
