/** When config nodes can share one server, and what keeps two apart. */
import { createHash } from "node:crypto";
import type { ServerSettings } from "./server-settings";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * Two config nodes can share a server only when this string is equal; a deploy that changes it
 * restarts the server. Secrets (TLS keys, the Redis password) are in it as hashes only. Settings
 * without scale-out give the same string as before scale-out existed. The Admin UI is not in it.
 */
export function fingerprint(s: ServerSettings): string {
  const tls = s.tls ? sha256(JSON.stringify(s.tls, (_k, v) => (Buffer.isBuffer(v) ? v.toString("base64") : v))) : "";
  const scaleOut = s.scaleOut && {
    ...s.scaleOut,
    password: s.scaleOut.password === undefined ? undefined : sha256(s.scaleOut.password),
  };
  // The Admin UI is applied to a running server (ServerEntry.applyAdminUi): no restart, no client lost.
  return JSON.stringify({ ...s, tls, scaleOut, adminUi: undefined });
}

/** The settings that differ between two fingerprints, for a conflict message. */
export function differences(a: string, b: string): string[] {
  const x = JSON.parse(a) as Record<string, unknown>;
  const y = JSON.parse(b) as Record<string, unknown>;
  // A key only one of them has (scale-out on one side only) is a difference too.
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter(
    (k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]),
  );
}
