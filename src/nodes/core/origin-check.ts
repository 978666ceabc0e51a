import type { IncomingMessage } from "node:http";

/** The scheme a request came in on: TLS here, or what a TLS-terminating proxy says it received. */
function schemeOf(req: IncomingMessage): string {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted) return "https";
  const forwarded = req.headers["x-forwarded-proto"];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim().toLowerCase();
  return first === "https" ? "https" : "http";
}

/**
 * Whether a request may connect, by its Origin header. Browsers apply CORS to polling only, so the
 * same check runs in `allowRequest` for WebSocket connections too. A request without an Origin
 * (a non-browser client) is allowed. With a list, only the listed origins pass: a same-origin
 * fallback would trust the Host header, which a DNS-rebinding page controls. With an empty list
 * (same origin only) the Origin must match the Host and the scheme the request came in on.
 */
export function originAllowed(allowed: "*" | string[], req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin || allowed === "*") return true;
  if (allowed.length > 0) return allowed.includes(origin);
  try {
    const url = new URL(origin);
    return url.host === req.headers.host && url.protocol === `${schemeOf(req)}:`;
  } catch {
    return false;
  }
}
