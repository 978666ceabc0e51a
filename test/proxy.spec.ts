// The endpoint on Node-RED's own server behind Debian's nginx with a path prefix, in both
// configurations of docs/proxy.md, and behind nginx terminating TLS: real node-red and nginx
// processes, socket.io-client through nginx.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXAMPLE_PAGES } from "../demo/start";
import { answerNodes, onTab } from "./flow-fixtures";
import { closeClients, connected, freePort, inbox, next, until } from "./helpers";
import { get } from "./http-get";
import { needsNginx, startNginx, UPGRADE_MAP, type Nginx } from "./nginx";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";
import { CLIENT_PATH, PREFIX, SETUPS, startBehindNginx, type Proxied } from "./proxy-kit";
import { selfSigned, type SelfSigned } from "./self-signed";
import { answered, refused } from "./server-kit";

/** Waits until nginx has logged a request matching `line` (a WebSocket is logged when it closes). */
const logged = (proxied: Proxied, line: RegExp, what: string): Promise<void> =>
  until(() => proxied.nginx.requests().some((l) => line.test(l)), 5000, `${what} in nginx's access log`);

describe("behind nginx with a path prefix (real node-red and nginx processes)", function () {
  this.timeout(60_000);
  needsNginx();

  for (const [name, setup] of Object.entries(SETUPS)) {
    describe(`${name}: ${setup.title}`, function () {
      let proxied: Proxied | undefined;
      before(async function () {
        proxied = await startBehindNginx(setup);
      });
      after(async function () {
        closeClients();
        await proxied?.stop();
      });
      afterEach(closeClients);

      it("a polling-only client connects through nginx and an event goes through the flow and back", async function () {
        const c = await connected(proxied!.nginx.url, { path: CLIENT_PATH, transports: ["polling"] });
        await answered(c);
        assert.equal(c.io.engine.transport.name, "polling");
        await logged(proxied!, /^200 GET \/prefix\/socket\.io\/\?EIO=4&transport=polling/, "a polling GET");
        await logged(proxied!, /^200 POST \/prefix\/socket\.io\/\?EIO=4&transport=polling.*&sid=/, "a polling POST");
      });

      it("a WebSocket-only client connects through nginx and an event goes through the flow and back", async function () {
        const c = await connected(proxied!.nginx.url, { path: CLIENT_PATH, transports: ["websocket"] });
        await answered(c);
        assert.equal(c.io.engine.transport.name, "websocket");
        c.disconnect();
        await logged(proxied!, /^101 GET \/prefix\/socket\.io\/\?EIO=4&transport=websocket/, "the WebSocket upgrade");
      });

      it("a default client starts with polling and upgrades to a WebSocket through nginx", async function () {
        const c = await connected(proxied!.nginx.url, { path: CLIENT_PATH, transports: ["polling", "websocket"] });
        if (c.io.engine.transport.name !== "websocket") await next(c.io.engine, "upgrade", 5000);
        assert.equal(c.io.engine.transport.name, "websocket");
        await answered(c);
      });

      it("a client without the prefix in its path reaches nothing through nginx", async function () {
        await refused(proxied!.nginx.url, { path: "/socket.io", transports: ["polling"] });
      });

      it("the example pages and socket.io.js are served through the prefix, and the chat works at the path the page derives", async function () {
        for (const page of EXAMPLE_PAGES) {
          const answer = await get(proxied!.base + page);
          assert.equal(answer.status, 200, page);
          assert.match(answer.body, /<script src="socket\.io\/socket\.io\.js"><\/script>/, page);
          assert.match(answer.body, /new URL\("socket\.io", location\.href\)\.pathname/, page);
        }
        const pageUrl = `${proxied!.base}/chat?room=R&name=ann`;
        // What the page's <script src> and `path` resolve to, as a browser resolves them.
        const js = await get(new URL("socket.io/socket.io.js", pageUrl).href);
        assert.equal(js.status, 200);
        assert.match(String(js.headers["content-type"]), /javascript/);
        const path = new URL("socket.io", pageUrl).pathname;
        assert.equal(path, CLIENT_PATH);
        const ann = await connected(proxied!.nginx.url, { path, query: { room: "R", name: "ann" } });
        const said = inbox(ann, "chat message");
        ann.emit("chat message", "hi through nginx");
        await until(() => said.includes("ann: hi through nginx"), 3000, "the chat message back");
        assert.doesNotMatch(proxied!.red.output(), /\[error\]/);
      });
    });
  }
});

/** A config's lines without indentation, runs of blanks and `#` comments: what nginx reads. */
const configLines = (text: string): string[] =>
  text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim().replace(/\s+/g, " "))
    .filter(Boolean);

/** Whether `doc` holds `block`'s lines one after the other (however the doc indents and comments them). */
function holdsConfig(doc: string, block: string): boolean {
  const text = configLines(doc);
  const want = configLines(block);
  return text.some((_, i) => want.every((line, j) => text[i + j] === line));
}

describe("behind nginx terminating TLS, with CORS origins left empty (same origin only)", function () {
  this.timeout(60_000);
  needsNginx();
  let tls: SelfSigned | undefined;
  let red: NodeRedProcess | undefined;
  let nginx: Nginx | undefined;
  before(async function () {
    tls = selfSigned();
    red = await startNodeRed({ port: await freePort(), settings: { telemetry: { enabled: false } } });
    const server = { id: "srv", type: "socket-io-server", listen: "nodered", path: "/socket.io", corsOrigins: "" };
    await red.deploy(onTab("same origin", [server, ...answerNodes("on", "ping", "emit", "pong")]));
    const line = "socket.io listening on Node-RED's HTTP server at /socket.io\n";
    await until(() => red!.output().includes(line), 10_000, "the listening line in the log");
    nginx = await startNginx(SETUPS.strip.location(red.port), tls);
  });
  after(async function () {
    closeClients();
    await nginx?.stop();
    await red?.stop();
    tls?.remove();
  });
  afterEach(closeClients);

  /** A client as a page of the https site would be: its Origin is the proxy's https address. */
  const fromOrigin = (origin: string, transport: "polling" | "websocket") => ({
    path: CLIENT_PATH,
    transports: [transport],
    ca: tls!.cert,
    extraHeaders: { Origin: origin },
  });

  it("a page of https://proxy/prefix/ connects over wss and over polling: X-Forwarded-Proto tells Node-RED the scheme", async function () {
    assert.match(nginx!.url, /^https:/);
    for (const transport of ["websocket", "polling"] as const) {
      const c = await connected(nginx!.url, fromOrigin(nginx!.url, transport));
      await answered(c);
      assert.equal(c.io.engine.transport.name, transport);
      assert.equal((c.io.engine as unknown as { secure: boolean }).secure, true, `${transport} over TLS`);
    }
  });

  it("the same host on http:// is another origin: Node-RED refuses its handshake", async function () {
    await refused(nginx!.url, fromOrigin(nginx!.url.replace(/^https:/, "http:"), "polling"));
    const forbidden = /^403 GET \/prefix\/socket\.io\/\?EIO=4&transport=polling/;
    assert.ok(
      nginx!.requests().some((l) => forbidden.test(l)),
      "a 403 for the handshake in nginx's access log",
    );
  });
});

describe("docs/proxy.md", function () {
  it("shows the nginx configurations the reverse-proxy tests run", function () {
    const doc = readFileSync(join(__dirname, "..", "docs", "proxy.md"), "utf8");
    assert.ok(holdsConfig(doc, UPGRADE_MAP), "the map of $connection_upgrade");
    for (const [name, setup] of Object.entries(SETUPS)) {
      assert.ok(holdsConfig(doc, setup.location(1880)), `the ${name} location block`);
    }
    assert.ok(doc.includes(`httpNodeRoot: "${PREFIX}"`), "httpNodeRoot in the keeping configuration");
    assert.ok(doc.includes(`path: "${CLIENT_PATH}"`), "the client's path");
  });
});
