import type { IncomingMessage } from "node:http";

// Two small parsers written here rather than taken from basic-auth and cookie-parser: the flow
// library scores a package down past 6 dependencies, and both formats are a few lines.

/** The user and password of a `Basic` Authorization header (RFC 7617), or undefined. */
export function basicCredentials(req: IncomingMessage): { name: string; pass: string } | undefined {
  const match = /^ *basic +([A-Za-z0-9._~+/-]+=*) *$/i.exec(req.headers.authorization ?? "");
  if (!match) return undefined;
  const text = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon === -1 ? undefined : { name: text.slice(0, colon), pass: text.slice(colon + 1) };
}

/**
 * Middleware that sets `req.cookies` from the Cookie header, as cookie-parser (without a secret)
 * does for Node-RED's http in routes before `httpNodeMiddleware` runs: values URI-decoded where
 * they can be, the first of repeated names kept.
 */
export function parseCookies(
  req: IncomingMessage & { cookies?: Record<string, string> },
  _res: unknown,
  next: () => void,
): void {
  const cookies: Record<string, string> = Object.create(null);
  for (const raw of (req.headers.cookie ?? "").split(";")) {
    const part = raw.trim();
    const eq = part.indexOf("=");
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length > 1) value = value.slice(1, -1);
    if (name in cookies) continue;
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  req.cookies = cookies;
  next();
}
