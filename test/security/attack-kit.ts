// Clients for the security suite: a canary that measures how late a well-behaved client's answers
// come while an attack runs, and raw Engine.IO connections. Every loop in here is bounded in count and
// time; every target is on 127.0.0.1. The attacked flows and their Node-RED: attack-flow.ts.
import WebSocket from "ws";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";

export interface CanaryReport {
  /** Answers received. */
  count: number;
  /** Questions that had no answer when the canary stopped (each counted as a 10 s delay in p99). */
  unanswered: number;
  /** Round-trip times, ms. */
  p50: number;
  p99: number;
  max: number;
}

export interface Canary {
  stop(): Promise<CanaryReport>;
}

const canaries = new Set<ClientSocket>();

/** Closes every canary still running (afterEach: a test that failed midway never stopped its canary). */
export function closeCanaries(): void {
  for (const socket of canaries) socket.disconnect();
  canaries.clear();
}

/**
 * A socket.io client that asks every 100 ms and measures each answer's round trip. Start it before
 * the attack and stop it after; an answer that never came counts as 10 s.
 */
export async function startCanary(url: string, path = "/socket.io"): Promise<Canary> {
  const socket: ClientSocket = ioClient(url, {
    path,
    transports: ["websocket"],
    reconnection: true,
    forceNew: true,
    timeout: 5000,
  });
  canaries.add(socket);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the canary did not connect within 5 s")), 5000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const times: number[] = [];
  let asked = 0;
  const timer = setInterval(() => {
    const sent = performance.now();
    asked++;
    socket.emit("canary", asked, () => times.push(performance.now() - sent));
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      // Answers to the last questions may still be on their way.
      const until = Date.now() + 2000;
      while (times.length < asked && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      socket.disconnect();
      const unanswered = asked - times.length;
      const all = [...times, ...new Array<number>(unanswered).fill(10_000)].sort((a, b) => a - b);
      const rankAt = (q: number): number => all[Math.min(all.length - 1, Math.floor(q * all.length))] ?? 0;
      return { count: times.length, unanswered, p50: rankAt(0.5), p99: rankAt(0.99), max: all[all.length - 1] ?? 0 };
    },
  };
}

/** A raw Engine.IO v4 WebSocket connection, opened (the server's "0{...}" open packet received). */
export interface RawConnection {
  ws: WebSocket;
  /** Text frames received so far. */
  frames: string[];
  /** Resolves with the close code once the server closes the connection. */
  closed: Promise<number>;
  isOpen(): boolean;
  send(frame: string | Buffer): void;
  close(): void;
}

const opened = new Set<WebSocket>();

/** Opens a raw WebSocket to Engine.IO at `port` (no Socket.IO client in between). Answers pings. */
export function rawWebSocket(
  port: number,
  path = "/socket.io",
  headers: Record<string, string> = {},
): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}/?EIO=4&transport=websocket`, {
      headers,
      maxPayload: 64 * 1024 * 1024,
    });
    opened.add(ws);
    const frames: string[] = [];
    const closed = new Promise<number>((res) => ws.once("close", (code) => res(code)));
    const timer = setTimeout(() => reject(new Error("no Engine.IO open packet within 5 s")), 5000);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text === "2") ws.send("3");
      frames.push(text);
      if (text.startsWith("0{")) {
        clearTimeout(timer);
        resolve({
          ws,
          frames,
          closed,
          isOpen: () => ws.readyState === WebSocket.OPEN,
          send: (frame) => {
            if (ws.readyState === WebSocket.OPEN) ws.send(frame);
          },
          close: () => ws.terminate(),
        });
      }
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`handshake answered ${res.statusCode}`));
    });
  });
}

/** Terminates every raw connection the kit opened (afterEach). */
export function closeRawConnections(): void {
  for (const ws of opened) ws.terminate();
  opened.clear();
  closeCanaries();
}

/** Sends `count` frames in batches, yielding between batches so the test's own timers still run. */
export async function sendMany(
  conn: RawConnection,
  count: number,
  frame: (i: number) => string | Buffer,
  batch = 500,
): Promise<number> {
  let sent = 0;
  while (sent < count && conn.isOpen()) {
    const n = Math.min(batch, count - sent);
    for (let i = 0; i < n; i++) conn.send(frame(sent + i));
    sent += n;
    // Wait for the socket to drain a little: the flood is bounded by what the loopback takes.
    while (conn.isOpen() && conn.ws.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setImmediate(r));
  }
  return sent;
}
