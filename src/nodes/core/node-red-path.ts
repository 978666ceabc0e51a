/**
 * Where an endpoint on Node-RED's own server lives: its Path under `httpNodeRoot`, as core
 * websocket listeners, http-in nodes and Dashboard 2 place theirs. A root that is unset, "/" or
 * false (HTTP nodes turned off) leaves the Path as it is, so flows of a Node-RED without
 * `httpNodeRoot` keep their endpoint.
 * @example underHttpNodeRoot("/api/", "/socket.io") // "/api/socket.io"
 */
export function underHttpNodeRoot(root: unknown, path: string): string {
  if (typeof root !== "string") return path;
  const base = root.trim().replace(/\/+$/, "");
  if (!base) return path;
  return (base.startsWith("/") ? base : `/${base}`) + path;
}
