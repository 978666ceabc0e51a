// What a user sees of msg.socket in the editor's Debug sidebar, with a Debug node showing the complete
// msg: the id, namespace, rooms and the handshake's address, query and auth, and where the headers
// are; the header values themselves are left out (a Debug node formats every value, for every msg).
// Run with `npm run test:browser`; needs `apt-get install -y chromium`.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./chromium";
import { debugNode } from "../flow-fixtures";
import { connected, freePort } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";

describe("msg.socket in the Debug sidebar (Chromium)", function () {
  this.timeout(120_000);
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;

  before(async function () {
    red = await startNodeRed({ port: await freePort(), settings: { telemetry: { enabled: false } } });
    await red.deploy([
      { id: "t1", type: "tab", label: "debug", disabled: false, info: "" },
      { id: "srv", type: "socket-io-server", name: "", listen: "nodered", path: "/socket.io", serveClient: false },
      {
        id: "on-hello",
        type: "socket-io-on",
        z: "t1",
        x: 160,
        y: 120,
        server: "srv",
        namespace: "/",
        listenFor: "event",
        event: "hello",
        privateRooms: false,
        wires: [["show"]],
      },
      debugNode("show", "true", { z: "t1", x: 400, y: 120 }),
    ]);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    if (red) await red.stop();
  });

  /** Expands the property `key` of an expanded object in a debug message; returns its row. */
  async function expand(within: Locator, key: string): Promise<Locator> {
    // The visible key: a collapsed object also holds a hidden preview of its keys.
    const name = within.locator(".red-ui-debug-msg-object-key:visible", { hasText: new RegExp(`^${key}$`) }).first();
    await name.click();
    return name.locator("xpath=ancestor::*[contains(@class, 'red-ui-debug-msg-element')][1]");
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `debug-sidebar-${name}.png`) });
  }

  it("shows the id, namespace, rooms, the handshake's address, query and auth, and where the headers are", async function () {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    try {
      await page.goto(`${red!.url}/`);
      await page
        .locator("#red-ui-workspace-chart .red-ui-flow-node-status-label", { hasText: "0 clients" })
        .waitFor({ timeout: 30_000 });
      // The Debug tab, as its sidebar button opens it.
      await page.evaluate(() =>
        (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show("debug"),
      );

      const client = await connected(red!.url, {
        transports: ["websocket"],
        query: { device: "d1" },
        auth: { user: "ann" },
        extraHeaders: { "x-probe": "header-value-7" },
      });
      try {
        client.emit("hello", "hi");
        const message = page.locator(".red-ui-debug-msg").first();
        await message.waitFor({ timeout: 10_000 });
        // The complete msg, collapsed: expand it, then msg.socket, then its handshake.
        await message.locator(".red-ui-debug-msg-object-header, .red-ui-debug-msg-expandable").first().click();
        const socket = await expand(message, "socket");
        await expand(socket, "handshake");
        await expand(socket, "query");
        await expand(socket, "auth");
        await expand(socket, "rooms");
        await shot(page, "socket");
        const text = await socket.innerText();

        assert.ok(text.includes(client.id!), `the socket's id is shown:\n${text}`);
        for (const shown of ["namespace", "rooms", "address", "127.0.0.1", "device", "d1", "user", "ann"])
          assert.ok(text.includes(shown), `"${shown}" is shown:\n${text}`);
        assert.ok(text.includes("msg.socket.handshake.headers"), `where the headers are is shown:\n${text}`);
        assert.ok(!text.includes("header-value-7"), `no header value is shown:\n${text}`);
        assert.ok((await message.innerText()).includes("hi"), "the payload is shown");
        assert.deepEqual(pageErrors, []);
      } finally {
        client.close();
      }
    } catch (err) {
      await shot(page, "failed");
      throw err;
    } finally {
      await page.close();
    }
  });
});
