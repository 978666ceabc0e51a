/**
 * Raw Engine.IO v4 polling for the security suite: a handshake, then POSTs and GETs with its sid, as
 * an attacker would send them (no client library between). Every target is on 127.0.0.1.
 */

export const SEPARATOR = "\x1e";

/** What one request got: its HTTP status and body, or status -1 and the network error. */
export interface Answer {
  status: number;
  body: string;
}

export interface PollingSession {
  sid: string;
  /** POSTs an encoded payload (packets joined with SEPARATOR). */
  post(body: string): Promise<Answer>;
  /** A poll: resolves with what the server sends, or status 0 when nothing came within `ms`. */
  get(ms?: number): Promise<Answer>;
}

async function answer(request: Promise<Response>): Promise<Answer> {
  try {
    const res = await request;
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === "TimeoutError" || e.name === "AbortError") return { status: 0, body: "" };
    return { status: -1, body: e.cause?.code ?? e.message };
  }
}

/** Opens a polling session at `port`: the handshake GET, whose open packet names the sid. */
export async function pollingSession(port: number, path = "/socket.io"): Promise<PollingSession> {
  const base = `http://127.0.0.1:${port}${path}/?EIO=4&transport=polling`;
  const open = await answer(fetch(base, { signal: AbortSignal.timeout(5000) }));
  if (open.status !== 200 || !open.body.startsWith("0{"))
    throw new Error(`polling handshake answered ${open.status} ${open.body}`);
  const sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
  const url = `${base}&sid=${encodeURIComponent(sid)}`;
  return {
    sid,
    post: (body) =>
      answer(
        fetch(url, {
          method: "POST",
          body,
          headers: { "content-type": "text/plain;charset=UTF-8" },
          signal: AbortSignal.timeout(10_000),
        }),
      ),
    get: (ms = 5000) => answer(fetch(url, { signal: AbortSignal.timeout(ms) })),
  };
}

/** `count` packets made by `packet`, as one polling payload. */
export function payload(count: number, packet: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => packet(i)).join(SEPARATOR);
}

/**
 * Whether the server has closed the session: a poll gets the close packet "1" (the server had a
 * poll to answer) or "Session ID unknown" (it had closed already).
 */
export async function sessionClosed(session: PollingSession, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const poll = await session.get(Math.max(1, end - Date.now()));
    if (poll.status === 400 || poll.body.split(SEPARATOR).includes("1")) return true;
    if (poll.status !== 200) return false;
  }
  return false;
}
