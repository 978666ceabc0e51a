// The example pages in Chromium, served by Node-RED directly and behind a reverse proxy that adds a
// path prefix: the pages find socket.io.js and the Socket.IO endpoint relative to their own address.
// Run with `npm run test:browser` (not part of `npm test`); needs `apt-get install -y chromium`.
import { strict as assert } from "node:assert";
import * as http from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium";
import { exampleFlows } from "../../demo/start";
import { freePort } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";

const PREFIX = "/prefix";

interface PrefixProxy {
  url: string;
  /** The paths the proxy forwarded, as the browser asked for them (prefix included). */
  requests: string[];
  upgrades: string[];
  close(): Promise<void>;
}

/**
 * A reverse proxy that serves the Node-RED on `port` under PREFIX, as one that publishes Node-RED at
 * https://example.com/prefix/ would: it strips the prefix, forwards HTTP requests, and pipes WebSocket
 * upgrades both ways. Anything outside the prefix gets a 404. Bounded: at most 64 connections, each
 * closed after 30 s idle, and all of them by close().
 */
async function startPrefixProxy(port: number): Promise<PrefixProxy> {
  const open = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  };
  const strip = (url: string | undefined): string | undefined =>
    url?.startsWith(PREFIX + "/") ? url.slice(PREFIX.length) : undefined;
  const requests: string[] = [];
  const upgrades: string[] = [];

  const server = http.createServer((req, res) => {
    const path = strip(req.url);
    if (path === undefined) return void res.writeHead(404).end();
    requests.push(req.url!);
    const upstream = http.request(
      { host: "127.0.0.1", port, method: req.method, path, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = strip(req.url);
    if (path === undefined) return void socket.destroy();
    upgrades.push(req.url!);
    const upstream = net.connect(port, "127.0.0.1");
    track(upstream);
    const end = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on("error", end);
    upstream.on("error", end);
    upstream.once("connect", () => {
      // The request line with the prefix stripped, the headers as the browser sent them.
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${req.method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
  });
  server.maxConnections = 64;
  server.on("connection", (socket: net.Socket) => {
    track(socket);
    socket.setTimeout(30_000, () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${own}${PREFIX}`,
    requests,
    upgrades,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

describe("the example pages in Chromium, directly and behind a proxy with a path prefix", function () {
  this.timeout(60_000);
  let red: NodeRedProcess | undefined;
  let proxy: PrefixProxy | undefined;
  let browser: Browser | undefined;

  before(async function () {
    red = await startNodeRed({ port: await freePort(), settings: { telemetry: { enabled: false } } });
    await red.deploy(exampleFlows());
    proxy = await startPrefixProxy(red.port);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await proxy?.close();
    if (red) await red.stop();
  });

  /** The transport the page's `socket` uses, once it is a WebSocket (Chromium upgrades from polling). */
  async function upgraded(page: Page): Promise<string> {
    await page.waitForFunction(
      'typeof socket === "object" && socket.connected && socket.io.engine.transport.name === "websocket"',
      null,
      { timeout: 10_000 },
    );
    return page.evaluate<string>("socket.io.engine.transport.name");
  }

  const shows = (page: Page, text: string) =>
    page.locator("li", { hasText: text }).first().waitFor({ timeout: 10_000 });

  async function openChat(base: string, name: string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 640, height: 400 } });
    await page.goto(`${base}/chat?room=R&name=${name}`);
    await shows(page, `${name} joined R`);
    return page;
  }

  /** Two chat pages at `base`: one says something, both show it, over a WebSocket each. */
  async function chatAt(base: string): Promise<void> {
    const ann = await openChat(base, "ann");
    const bob = await openChat(base, "bob");
    await shows(ann, "bob joined R");
    assert.deepEqual([await upgraded(ann), await upgraded(bob)], ["websocket", "websocket"]);
    await bob.fill("#input", "hello from bob");
    await bob.press("#input", "Enter");
    await shows(ann, "bob: hello from bob");
    await shows(bob, "bob: hello from bob");
    await ann.close();
    await bob.close();
  }

  it("chat at /chat: two pages exchange a message, over a WebSocket", async function () {
    await chatAt(red!.url);
  });

  it("chat at /prefix/chat behind the proxy: two pages exchange a message, over a WebSocket through the prefix", async function () {
    await chatAt(proxy!.url);
    assert.ok(
      proxy!.requests.includes(`${PREFIX}/socket.io/socket.io.js`),
      `socket.io.js not loaded through the prefix: ${proxy!.requests.join(" ")}`,
    );
    assert.ok(
      proxy!.requests.some((url) => url.startsWith(`${PREFIX}/socket.io/?`)),
      "no polling request through the prefix",
    );
    assert.ok(
      proxy!.upgrades.some((url) => url.startsWith(`${PREFIX}/socket.io/?`) && url.includes("transport=websocket")),
      "no WebSocket upgrade through the prefix",
    );
  });

  it("echo at /prefix/echo behind the proxy: both acknowledgements arrive, over a WebSocket", async function () {
    const page = await browser!.newPage({ viewport: { width: 640, height: 400 } });
    await page.goto(`${proxy!.url}/echo`);
    await shows(page, "connected as");
    // On connection the server asks; the page answers with the name in the form, and is thanked.
    await shows(page, "server says: Thanks, Ada!");
    assert.equal(await upgraded(page), "websocket");
    await page.fill("#text", "through the proxy");
    await page.click("#echo button");
    await shows(page, 'server answered: {"echo":"through the proxy"');
    await page.close();
  });
});
