import { randomBytes } from "node:crypto";
import { createReadStream, readdirSync, readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import type { Request, Response, NextFunction } from "express";
import type { NodeAPI } from "node-red";
import { parseCookies } from "../core/http-request-parts";

// The Socket.IO Admin UI (the built app shipped in @socket.io/admin-ui) served under Node-RED's
// httpAdminRoot, so Node-RED's adminAuth protects it as it protects the editor, and the browser
// fetches nothing from the internet.
//
// The editor opens it so, with no token in a URL: the window is opened synchronously in the click
// handler (a popup blocker allows only that), then the editor's own ajax, which sends the editor's
// token as `Authorization: Bearer`, asks for the session cookie, and the window is sent to the UI:
//
//   const win = window.open("", "_blank");
//   $.post("socket-io-admin/session").then(
//     () => (win.location.href = "socket-io-admin/" + encodeURIComponent(node.id) + "/"),
//     () => win.close(),
//   );

/** Where the UI of one server connects, for the prefill: the config node's settings. */
export interface AdminUiTarget {
  /** "nodered": the page's own origin; "port": same host as the page, this port */
  listen: "nodered" | "port";
  port?: number;
  tls?: boolean;
  /** the full path clients connect to, e.g. "/socket.io" or "/api/socket.io" */
  path: string;
  namespace: string; // "/socket-io-admin"
  parser: "json" | "msgpack";
}

/** What the routes ask of a user under adminAuth: the right to change the server's settings. */
const PERMISSION = "socket-io-server.write";
/** The HttpOnly cookie that carries the editor's token to the UI's page and assets. */
const COOKIE = "socket-io-admin-token";
/** The UI's page and its assets: `/socket-io-admin/<id>` and `/socket-io-admin/<id>/<file>`. */
const PAGE_ROUTE = /^\/socket-io-admin\/([^/]+)(\/.*)?$/;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** The built UI: each file by its path relative to ui/dist, and index.html without internet links. */
interface UiFiles {
  files: Map<string, string>;
  index: string;
}

let uiFiles: UiFiles | undefined;

/** Every file under `dir`, by its posix path relative to it. */
function listFiles(dir: string, rel = "", into = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) listFiles(dir, name, into);
    else if (entry.isFile()) into.set(name, join(dir, name));
  }
  return into;
}

/**
 * index.html without what it loads from elsewhere (the Roboto font from Google Fonts, the Material
 * Design icons from jsDelivr): the UI runs without them, on the system font and without icon glyphs.
 */
export function withoutRemoteLinks(html: string): string {
  return html
    .replace(/<link\b[^>]*\bhref=["']?(?:https?:)?\/\/[^>]*>/gi, "")
    .replace(/<script\b[^>]*\bsrc=["']?(?:https?:)?\/\/[^>]*>\s*<\/script>/gi, "");
}

/** The built UI, read once: the folder is part of an installed dependency and does not change. */
function ui(): UiFiles {
  if (!uiFiles) {
    const dir = join(dirname(require.resolve("@socket.io/admin-ui/package.json")), "ui", "dist");
    const files = listFiles(dir);
    files.delete("index.html");
    uiFiles = { files, index: withoutRemoteLinks(readFileSync(join(dir, "index.html"), "utf8")) };
  }
  return uiFiles;
}

/**
 * The inline script that sets the localStorage keys the UI reads on load, so it connects to this
 * server at once. Runs in the browser: the URL comes from the page's own location, so it holds
 * behind a proxy. For "nodered" the part of the page's path in front of `page` (the path Node-RED
 * saw, so a prefix a proxy stripped) goes in front of the server's path too. The stored session is
 * dropped when the UI was last used for another server (localStorage is shared by the origin).
 */
function prefillScript(target: AdminUiTarget, page: string, nonce: string): string {
  const config = {
    listen: target.listen,
    port: target.port,
    scheme: target.tls ? "https:" : "http:",
    page,
    path: target.path,
    namespace: target.namespace,
    parser: target.parser === "msgpack" ? "msgpack" : "default",
  };
  const json = JSON.stringify(config).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `<script nonce="${nonce}">(function (c) {
  var l = window.location, url, path = c.path;
  if (c.listen === "port") {
    url = c.scheme + "//" + l.hostname + ":" + c.port;
  } else {
    url = l.protocol + "//" + l.host;
    var at = l.pathname.length - c.page.length;
    if (at > 0 && l.pathname.slice(at) === c.page) path = l.pathname.slice(0, at) + path;
  }
  var keys = { server_url: url, path: path, namespace: c.namespace, ws_only: c.listen === "port" ? "true" : "false", parser: c.parser };
  try {
    var s = window.localStorage, same = true;
    for (var k in keys) if (s.getItem(k) !== keys[k]) same = false;
    if (!same) s.removeItem("session_id");
    for (var k2 in keys) s.setItem(k2, keys[k2]);
  } catch (e) {}
})(${json});</script>`;
}

/**
 * The page's Content-Security-Policy: its own files and the prefill only, so nothing is fetched
 * from elsewhere and a script smuggled into what the UI shows (socket data) cannot run in the
 * editor's origin. The UI connects to its server anywhere (a server on a port of its own).
 */
function pagePolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self' http: https: ws: wss:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
  ].join("; ");
}

/** The cookie's value as a Bearer header when the request has no credentials of its own. */
function cookieToAuthorization(req: Request, res: Response, next: NextFunction): void {
  if (!req.headers.authorization && !(req.query as Record<string, unknown>).access_token) {
    parseCookies(req, res, () => undefined);
    const token = (req as Request & { cookies: Record<string, string> }).cookies[COOKIE];
    if (token) req.headers.authorization = `Bearer ${token}`;
  }
  next();
}

/**
 * Keeps the editor's token (its Authorization header) in an HttpOnly, SameSite=Strict cookie. The
 * cookie has no Path attribute, so the browser scopes it to the folder of the URL it posted to, as
 * the browser sees it: `<httpAdminRoot>socket-io-admin`, with any prefix of a proxy in front.
 */
function startSession(req: Request, res: Response): void {
  const bearer = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? "");
  if (bearer) {
    const secure = req.secure ? "; Secure" : "";
    res.setHeader("Set-Cookie", `${COOKIE}=${encodeURIComponent(bearer[1]!)}; HttpOnly; SameSite=Strict${secure}`);
  }
  res.setHeader("Cache-Control", "no-store");
  res.status(204).end();
}

/** The UI's page or one of its files, for the server `lookup` knows. */
function servePage(req: Request, res: Response, lookup: (id: string) => AdminUiTarget | undefined): void {
  const params = req.params as unknown as Record<string, string | undefined>;
  const id = params[0]!;
  const rest = params[1];
  const target = lookup(id);
  if (!target) {
    res.status(404).end();
    return;
  }
  if (rest === undefined) {
    // The UI's files are relative to the page: its URL must end with a slash.
    res.redirect(`${encodeURIComponent(id)}/`);
    return;
  }
  const rel = rest.slice(1) || "index.html";
  const { files, index } = ui();
  const file = files.get(rel);
  if (rel !== "index.html" && !file) {
    res.status(404).end();
    return;
  }
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Content-Type", TYPES[extname(rel)] ?? "application/octet-stream");
  if (rel === "index.html") {
    const nonce = randomBytes(16).toString("base64");
    res.setHeader("Content-Security-Policy", pagePolicy(nonce));
    res.setHeader("X-Frame-Options", "SAMEORIGIN");
    const page = req.originalUrl.split("?")[0]!;
    res.end(index.replace(/<head>/i, (head) => head + prefillScript(target, page, nonce)));
    return;
  }
  createReadStream(file!)
    .on("error", () => (res.headersSent ? res.destroy() : res.status(404).end()))
    .pipe(res);
}

const registered = new WeakSet<object>();

/**
 * Registers once per RED (WeakSet) the routes on RED.httpAdmin:
 *  GET  /socket-io-admin/:id/  and its assets /socket-io-admin/:id/<file>  (the UI for the server config node :id, 404 when lookup(id) is undefined i.e. no such node or its Admin UI is off)
 *  POST /socket-io-admin/session  (sets the HttpOnly SameSite=Strict cookie from the Authorization header, Secure over https, so the token never goes in a URL; 204)
 * All behind RED.auth.needsPermission("socket-io-server.write"), the page and assets with the cookie
 * copied into Authorization when there is no header. A later call for the same RED keeps the first
 * `lookup`.
 * @param lookup the Admin UI target of a server config node by its id, undefined when it has none
 * @example registerAdminUiRoutes(RED, (id) => adminTargets.get(id))
 */
export function registerAdminUiRoutes(RED: NodeAPI, lookup: (id: string) => AdminUiTarget | undefined): void {
  if (registered.has(RED) || !RED.httpAdmin) return;
  registered.add(RED);
  const permission = RED.auth.needsPermission(PERMISSION);
  RED.httpAdmin.post("/socket-io-admin/session", permission, startSession);
  RED.httpAdmin.get(PAGE_ROUTE, cookieToAuthorization, permission, (req, res) => servePage(req, res, lookup));
}
