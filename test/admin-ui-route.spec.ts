// One feature's cases (the Admin UI page behind adminAuth: tokens, cookie, files, prefill), hence over 250 lines.
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { adminAuthSettings, login, request, revoke, type Reply } from "./admin-auth-kit";
import { PACKAGE_DIR, startNodeRed, type NodeRedProcess } from "./node-red-process";
import { freePort } from "./ports";
import { installedPackage } from "./runtime-under-test";
import { selfSigned, type SelfSigned } from "./self-signed";

// Until the server node registers the routes itself, a test-only node file in the user dir's nodes/
// folder registers them with two servers: "srv1" on Node-RED's server, "srv2" on a port of its own.
const TARGETS = {
  srv1: { listen: "nodered", path: "/api/socket.io", namespace: "/socket-io-admin", parser: "msgpack" },
  srv2: { listen: "port", port: 4567, tls: true, path: "/socket.io", namespace: "/socket-io-admin", parser: "json" },
};

/** A user dir without the package, with the test node file that registers the routes. */
function routeUserDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nr-admin-ui-"));
  const route = join(installedPackage() ?? PACKAGE_DIR, "nodes", "lib", "admin-ui-route.js");
  mkdirSync(join(dir, "nodes"));
  writeFileSync(
    join(dir, "nodes", "admin-ui-test.js"),
    `const { registerAdminUiRoutes } = require(${JSON.stringify(route)});
const targets = ${JSON.stringify(TARGETS)};
module.exports = function (RED) {
  registerAdminUiRoutes(RED, (id) => targets[id]);
  registerAdminUiRoutes(RED, () => undefined); // a second call changes nothing
};
`,
  );
  writeFileSync(join(dir, "nodes", "admin-ui-test.html"), "");
  return dir;
}

/** The name=value part of the reply's cookie, for a Cookie header. */
function cookieOf(reply: Reply): string {
  const set = reply.headers["set-cookie"];
  assert.ok(set && set.length === 1, `one Set-Cookie, got ${JSON.stringify(set)}`);
  return set[0]!.split(";")[0]!;
}

/** The page's script and stylesheet files, as it links them (relative to the page). */
function linkedFiles(html: string): string[] {
  const files = [...html.matchAll(/(?:src|href)="((?:js|css)\/[^"]+)"/g)].map((m) => m[1]!);
  assert.ok(files.some((f) => f.endsWith(".js")) && files.some((f) => f.endsWith(".css")), html);
  return [...new Set(files)];
}

/** The inline script that prefills the UI's settings. */
function prefillOf(html: string): string {
  const script = [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].find((m) => m[1]!.includes("localStorage"));
  assert.ok(script, "the page has the prefill script");
  return script[1]!;
}

/** Runs the prefill script as the page at `href` would, on a localStorage holding `stored`. */
function runPrefill(script: string, href: string, stored: Record<string, string> = {}): Record<string, string> {
  const url = new URL(href);
  const items = new Map(Object.entries(stored));
  const localStorage = {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, String(v)),
    removeItem: (k: string) => void items.delete(k),
  };
  const location = { protocol: url.protocol, host: url.host, hostname: url.hostname, pathname: url.pathname };
  runInNewContext(script, { window: { location, localStorage } });
  return Object.fromEntries(items);
}

describe("the Admin UI under Node-RED's admin root", function () {
  this.timeout(60_000);

  describe("with adminAuth", () => {
    let red: NodeRedProcess;
    let userDir: string;
    let admin: string; // the admin root, e.g. http://127.0.0.1:1880/
    let adminToken: string;
    let cookie: string;
    let page: Reply;

    before(async () => {
      userDir = routeUserDir();
      red = await startNodeRed({
        port: await freePort(),
        userDir,
        settings: adminAuthSettings(),
      });
      admin = `${red.url}/`;
      adminToken = await login(admin, "admin");
      const session = await request(`${admin}socket-io-admin/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}` },
      });
      cookie = cookieOf(session);
      page = await request(`${admin}socket-io-admin/srv1/`, { headers: { cookie } });
    });

    after(async () => {
      await red?.stop();
      rmSync(userDir, { recursive: true, force: true });
    });

    it("refuses the page, its files and the session without a token", async () => {
      assert.equal((await request(`${admin}socket-io-admin/srv1/`)).status, 401);
      for (const file of linkedFiles(page.body)) {
        assert.equal((await request(`${admin}socket-io-admin/srv1/${file}`)).status, 401, file);
      }
      assert.equal((await request(`${admin}socket-io-admin/session`, { method: "POST" })).status, 401);
      const forged = { cookie: "socket-io-admin-token=forged" };
      assert.equal((await request(`${admin}socket-io-admin/srv1/`, { headers: forged })).status, 401);
    });

    it("refuses a user who may only read", async () => {
      const reader = await login(admin, "reader", "read");
      const authorization = `Bearer ${reader}`;
      const session = await request(`${admin}socket-io-admin/session`, { method: "POST", headers: { authorization } });
      assert.equal(session.status, 401);
      assert.equal(session.headers["set-cookie"], undefined);
      assert.equal((await request(`${admin}socket-io-admin/srv1/`, { headers: { authorization } })).status, 401);
      const readerCookie = { cookie: `socket-io-admin-token=${encodeURIComponent(reader)}` };
      assert.equal((await request(`${admin}socket-io-admin/srv1/`, { headers: readerCookie })).status, 401);
    });

    it("turns the editor's token into an HttpOnly, SameSite=Strict cookie for the UI's folder", async () => {
      const session = await request(`${admin}socket-io-admin/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.equal(session.status, 204);
      const attributes = session.headers["set-cookie"]![0]!.split(";").map((a) => a.trim().toLowerCase());
      assert.equal(attributes[0], `socket-io-admin-token=${encodeURIComponent(adminToken)}`.toLowerCase());
      assert.ok(attributes.includes("httponly"), String(attributes));
      assert.ok(attributes.includes("samesite=strict"), String(attributes));
      // No Path: the browser scopes the cookie to the folder it posted to, <admin root>socket-io-admin,
      // as the browser sees it (with the prefix of a proxy that strips one); no Secure over http.
      assert.ok(!attributes.some((a) => a.startsWith("path=") || a === "secure"), String(attributes));
    });

    it("serves the page and its files with the cookie, nothing from the internet", async () => {
      assert.equal(page.status, 200);
      assert.match(String(page.headers["content-type"]), /^text\/html/);
      assert.equal(page.headers["cache-control"], "no-store");
      // and a policy that lets it load only its own files and the prefill, whatever it links
      const policy = String(page.headers["content-security-policy"]);
      const nonce = /<script nonce="([^"]+)">/.exec(page.body)?.[1];
      assert.ok(nonce && policy.includes(`script-src 'self' 'nonce-${nonce}'`), policy);
      assert.ok(policy.includes("default-src 'self'"), policy);
      assert.ok(!/googleapis|jsdelivr|https?:\/\//.test(page.body.replace(prefillOf(page.body), "")), page.body);
      for (const file of linkedFiles(page.body)) {
        const res = await request(`${admin}socket-io-admin/srv1/${file}`, { headers: { cookie } });
        assert.equal(res.status, 200, file);
        assert.match(String(res.headers["content-type"]), file.endsWith(".js") ? /javascript/ : /^text\/css/, file);
        assert.ok(res.body.length > 100, file);
      }
      // the editor's own header works as well as the cookie
      const authorization = `Bearer ${adminToken}`;
      assert.equal((await request(`${admin}socket-io-admin/srv2/`, { headers: { authorization } })).status, 200);
    });

    it("prefills the UI with the server of the page", () => {
      const stored = runPrefill(prefillOf(page.body), `${admin}socket-io-admin/srv1/`);
      assert.deepEqual(stored, {
        server_url: red.url,
        path: "/api/socket.io",
        namespace: "/socket-io-admin",
        ws_only: "false",
        parser: "msgpack",
      });
    });

    it("answers 404 for a server it does not know, but only to a user who may open the UI", async () => {
      assert.equal((await request(`${admin}socket-io-admin/nope/`, { headers: { cookie } })).status, 404);
      assert.equal((await request(`${admin}socket-io-admin/nope/`)).status, 401);
    });

    it("refuses paths out of the UI's folder", async () => {
      for (const path of [
        "..%2f..%2fpackage.json",
        "js%2f..%2f..%2f..%2fpackage.json",
        "%2e%2e/%2e%2e/package.json",
        "..%2f..%2f..%2f..%2f..%2fpackage.json",
        "js/..%2findex.html",
        "js/",
        "js",
      ]) {
        const res = await request(`${admin}socket-io-admin/srv1/${path}`, { headers: { cookie } });
        assert.equal(res.status, 404, path);
      }
    });

    it("redirects the bare address of a page to its folder", async () => {
      const res = await request(`${admin}socket-io-admin/srv1`, { headers: { cookie } });
      assert.equal(res.status, 302);
      assert.equal(
        new URL(String(res.headers.location), `${admin}socket-io-admin/srv1`).href,
        `${admin}socket-io-admin/srv1/`,
      );
    });

    it("refuses the cookie once the editor has logged out", async () => {
      const token = await login(admin, "admin");
      const session = await request(`${admin}socket-io-admin/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      const own = cookieOf(session);
      assert.equal((await request(`${admin}socket-io-admin/srv1/`, { headers: { cookie: own } })).status, 200);
      await revoke(admin, token);
      assert.equal((await request(`${admin}socket-io-admin/srv1/`, { headers: { cookie: own } })).status, 401);
    });
  });

  describe("without adminAuth", () => {
    let red: NodeRedProcess;
    let userDir: string;

    before(async () => {
      userDir = routeUserDir();
      red = await startNodeRed({ port: await freePort(), userDir });
    });

    after(async () => {
      await red?.stop();
      rmSync(userDir, { recursive: true, force: true });
    });

    it("opens the page and its files to anyone, as the editor is", async () => {
      const page = await request(`${red.url}/socket-io-admin/srv2/`);
      assert.equal(page.status, 200);
      for (const file of linkedFiles(page.body)) {
        assert.equal((await request(`${red.url}/socket-io-admin/srv2/${file}`)).status, 200, file);
      }
      const session = await request(`${red.url}/socket-io-admin/session`, { method: "POST" });
      assert.equal(session.status, 204);
      assert.equal(session.headers["set-cookie"], undefined);
      assert.equal((await request(`${red.url}/socket-io-admin/nope/`)).status, 404);
      assert.equal((await request(`${red.url}/socket-io-admin/srv2/..%2f..%2fpackage.json`)).status, 404);
    });

    it("prefills a server on a port of its own: the page's host, that port, WebSocket only", async () => {
      const page = await request(`${red.url}/socket-io-admin/srv2/`);
      const stored = runPrefill(prefillOf(page.body), `${red.url}/socket-io-admin/srv2/`);
      assert.deepEqual(stored, {
        server_url: "https://127.0.0.1:4567",
        path: "/socket.io",
        namespace: "/socket-io-admin",
        ws_only: "true",
        parser: "default",
      });
    });

    it("prefills behind a proxy that strips a prefix, and keeps the UI's session only for the same server", async () => {
      const srv1 = prefillOf((await request(`${red.url}/socket-io-admin/srv1/`)).body);
      const srv2 = prefillOf((await request(`${red.url}/socket-io-admin/srv2/`)).body);
      const proxied = "https://example.com/prefix/socket-io-admin/srv1/";
      const first = runPrefill(srv1, proxied, { session_id: "s1", dark_theme: "true" });
      assert.equal(first.server_url, "https://example.com");
      assert.equal(first.path, "/prefix/api/socket.io");
      assert.equal(first.session_id, undefined, "a session of some other server is dropped");
      assert.equal(first.dark_theme, "true", "the UI's own preferences stay");
      const again = runPrefill(srv1, proxied, { ...first, session_id: "s1" });
      assert.equal(again.session_id, "s1", "the same server keeps its session");
      const other = runPrefill(srv2, "https://example.com/prefix/socket-io-admin/srv2/", again);
      assert.equal(other.session_id, undefined);
      assert.equal(other.server_url, "https://example.com:4567");
    });
  });

  describe("with adminAuth on https", () => {
    let red: NodeRedProcess;
    let userDir: string;
    let tls: SelfSigned;

    before(async () => {
      userDir = routeUserDir();
      tls = selfSigned();
      const { key, cert } = tls;
      red = await startNodeRed({
        port: await freePort(),
        userDir,
        https: { key, cert },
        settings: adminAuthSettings(),
      });
    });

    after(async () => {
      await red?.stop();
      rmSync(userDir, { recursive: true, force: true });
      tls?.remove();
    });

    it("marks the cookie Secure, and the page opens with it", async () => {
      const token = await login(`${red.url}/`, "admin");
      const session = await request(`${red.url}/socket-io-admin/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(session.status, 204);
      const attributes = session.headers["set-cookie"]![0]!.split(";").map((a) => a.trim().toLowerCase());
      assert.ok(attributes.includes("secure"), String(attributes));
      const page = await request(`${red.url}/socket-io-admin/srv1/`, { headers: { cookie: cookieOf(session) } });
      assert.equal(page.status, 200);
      assert.equal(runPrefill(prefillOf(page.body), `${red.url}/socket-io-admin/srv1/`).server_url, red.url);
    });
  });
});
