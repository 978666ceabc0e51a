// The load process's clients: connecting many at once, requests that each reply must answer, closing.
import { io, type Socket } from "socket.io-client";
import { sleep } from "./common";
import { EVENTS } from "./flows";

/** A client of `namespace` at `url` (http://127.0.0.1:<port>): WebSocket only, no reconnection. */
export function open(url: string, namespace: string, auth?: Record<string, unknown>): Socket {
  return io(url + namespace, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
    ...(auth ? { auth } : {}),
  });
}

/** An error's message, with the transport's own error that socket.io-client keeps behind "websocket error". */
export function messageOf(err: unknown): string {
  const e = err as Error & { description?: { message?: string; error?: { message?: string } } | string };
  const d = e.description;
  const detail = typeof d === "string" ? d : (d?.error?.message ?? d?.message);
  return detail ? `${e.message}: ${detail}` : e.message;
}

/** Resolves once the socket is connected; rejects with the connect_error. */
export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    const ok = (): void => {
      socket.off("connect_error", fail);
      resolve();
    };
    const fail = (err: Error): void => {
      socket.off("connect", ok);
      reject(err);
    };
    socket.once("connect", ok);
    socket.once("connect_error", fail);
  });
}

/** Opens `n` connections with at most `concurrency` attempts in flight. */
export async function connectMany(
  n: number,
  concurrency: number,
  make: (i: number) => Socket,
): Promise<{ sockets: Socket[]; failed: number; firstError?: string }> {
  const sockets: Socket[] = [];
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const socket = make(next++);
      try {
        await connected(socket);
        sockets.push(socket);
      } catch (err) {
        failed++;
        firstError ??= messageOf(err);
        socket.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { sockets, failed, firstError };
}

/** Closes every socket and gives the server a moment to see them go. */
export async function closeAll(sockets: Socket[]): Promise<void> {
  for (const s of sockets) s.disconnect();
  await sleep(Math.min(2000, 200 + sockets.length / 10));
}

/** Resolves when `check` holds, or false after `ms`. */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

export interface Request {
  c: number;
  n: number;
}

export const isRequest = (p: unknown): p is Request =>
  typeof p === "object" && p !== null && typeof (p as Request).c === "number" && typeof (p as Request).n === "number";

/** A client that sends one request at a time and times each round trip. */
export async function pinger(
  url: string,
  namespace: string,
): Promise<{ ping(n: number): Promise<number | "wrong" | "lost">; close(): Promise<void> }> {
  const socket = open(url, namespace);
  await connected(socket);
  let waiting: ((p: unknown) => void) | undefined;
  let stray = 0;
  socket.on(EVENTS.reply, (p: unknown) => {
    const w = waiting;
    waiting = undefined;
    if (w) w(p);
    else stray++;
  });
  return {
    async ping(n) {
      const t0 = process.hrtime.bigint();
      const reply = await new Promise<unknown>((resolve) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          resolve(undefined);
        }, 5000);
        waiting = (p) => {
          clearTimeout(timer);
          resolve(p);
        };
        socket.emit(EVENTS.request, { c: 0, n });
      });
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      if (reply === undefined) return "lost";
      if (stray > 0 || !isRequest(reply) || reply.c !== 0 || reply.n !== n) return "wrong";
      return us;
    },
    close: () => closeAll([socket]),
  };
}

/**
 * Each socket sends a numbered request once a period (the sockets spread over it) and expects the
 * reply to it: counts what was sent, answered, wrong, lost, and the disconnects on the way.
 */
export class PeriodicRequests {
  sent = 0;
  answered = 0;
  wrong = 0;
  disconnects = 0;
  private running = true;
  private closing = false;
  private readonly pending: Array<Set<number>>;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly sockets: Socket[],
    periodMs: number,
  ) {
    this.pending = sockets.map(() => new Set<number>());
    sockets.forEach((socket, c) => {
      let next = 0;
      socket.on("disconnect", () => {
        if (!this.closing) this.disconnects++;
      });
      socket.on(EVENTS.reply, (p: unknown) => {
        if (!isRequest(p) || p.c !== c || !this.pending[c].delete(p.n)) this.wrong++;
        else this.answered++;
      });
      const send = (): void => {
        if (!this.running) return;
        const n = next++;
        this.pending[c].add(n);
        this.sent++;
        socket.emit(EVENTS.request, { c, n });
      };
      this.timers.push(setTimeout(() => this.timers.push(setInterval(send, periodMs)), Math.random() * periodMs));
    });
  }

  /** Stops sending, waits up to `ms` for the replies still due and closes the sockets; returns how many never came. */
  async finish(ms: number): Promise<number> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    await until(() => this.pending.every((p) => p.size === 0), ms);
    const lost = this.pending.reduce((a, p) => a + p.size, 0);
    this.closing = true;
    await closeAll(this.sockets);
    return lost;
  }
}
