// The example pages in Chromium behind Debian's nginx with a path prefix, in both configurations
// of docs/proxy.md (test/proxy-kit.ts): two chat pages load socket.io.js and connect through the
// prefix, upgrade to WebSockets, and a message goes round; the other pages connect there too.
// Run with `npm run test:browser`; needs `apt-get install -y chromium nginx`.
import { strict as assert } from "node:assert";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium";
import { until } from "../helpers";
import { needsNginx } from "../nginx";
import { SETUPS, startBehindNginx, type Proxied } from "../proxy-kit";

describe("the example pages in Chromium behind nginx with a path prefix", function () {
  this.timeout(60_000);
  needsNginx();
  let browser: Browser | undefined;
  before(async function () {
    browser = await launchChromium();
  });
  after(async function () {
    await browser?.close();
  });

  const shows = (page: Page, text: string) =>
    page.locator("#messages li", { hasText: text }).first().waitFor({ timeout: 10_000 });

  async function openChat(base: string, name: string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 640, height: 400 } });
    await page.goto(`${base}/chat?room=R&name=${name}`);
    await shows(page, `${name} joined R`);
    // Chromium starts with polling and upgrades; through nginx the upgrade must go through too.
    await page.waitForFunction('socket.connected && socket.io.engine.transport.name === "websocket"', null, {
      timeout: 10_000,
    });
    return page;
  }

  /** The other example pages: the forms to submit before they connect, and their sockets' variables. */
  const OTHER_PAGES = [
    { page: "/echo", forms: [], sockets: ["socket"] },
    { page: "/secure", forms: ["#login"], sockets: ["socket"] },
    { page: "/dm", forms: [], sockets: ["socket"] },
    { page: "/ns", forms: ["#read", "#login"], sockets: ["reader", "admin"] },
  ];

  for (const [name, setup] of Object.entries(SETUPS)) {
    describe(`${name}: ${setup.title}`, function () {
      let proxied: Proxied | undefined;
      before(async function () {
        proxied = await startBehindNginx(setup);
      });
      after(async function () {
        await proxied?.stop();
      });

      it("two chat pages at /prefix/chat connect through nginx and a message goes round, over WebSockets", async function () {
        const ann = await openChat(proxied!.base, "ann");
        const bob = await openChat(proxied!.base, "bob");
        await shows(ann, "bob joined R");
        await bob.fill("#input", "hello through nginx");
        await bob.press("#input", "Enter");
        await shows(ann, "bob: hello through nginx");
        await shows(bob, "bob: hello through nginx");
        assert.equal(await ann.evaluate<string>("socket.io.opts.path"), "/prefix/socket.io");
        await ann.close();
        await bob.close();

        // Every request went through the prefix (the page's query comes first); nginx logs a WebSocket when it closes.
        const seen = (line: RegExp): boolean => proxied!.nginx.requests().some((l) => line.test(l));
        await until(
          () => seen(/^101 GET \/prefix\/socket\.io\/\?\S*EIO=4&transport=websocket&sid=/),
          5000,
          "the upgrades",
        );
        assert.ok(seen(/^200 GET \/prefix\/chat\?room=R&name=ann /), "the page");
        assert.ok(seen(/^200 GET \/prefix\/socket\.io\/socket\.io\.js /), "socket.io.js");
        assert.ok(seen(/^200 GET \/prefix\/socket\.io\/\?\S*EIO=4&transport=polling/), "the polling handshake");
        assert.doesNotMatch(proxied!.red.output(), /\[error\]/);
      });

      it("the echo, secure, dm and ns pages connect at /prefix/socket.io through nginx, over WebSockets", async function () {
        for (const { page: path, forms, sockets } of OTHER_PAGES) {
          const page = await browser!.newPage({ viewport: { width: 640, height: 400 } });
          const errors: string[] = [];
          page.on("pageerror", (err) => errors.push(err.message));
          await page.goto(proxied!.base + path);
          for (const form of forms) await page.click(`${form} button`);
          // secure and ns connect only once their middleware flows have admitted them.
          const ready = `[${sockets.join(", ")}].every((s) => typeof s === "object" && s.connected && s.io.engine.transport.name === "websocket")`;
          await page.waitForFunction(ready, null, { timeout: 10_000 });
          const paths = await page.evaluate<string[]>(`[${sockets.join(", ")}].map((s) => s.io.opts.path)`);
          assert.deepEqual(
            paths,
            sockets.map(() => "/prefix/socket.io"),
            path,
          );
          assert.deepEqual(errors, [], path);
          await page.close();
        }
        assert.doesNotMatch(proxied!.red.output(), /\[error\]/);
      });
    });
  }
});
