// A user drags a new socket.io emit node from the palette, wires it after a socket.io on node and
// deploys: with its default Target, the emit answers the client that sent the event, not everyone.
// Run with `npm run test:browser`; needs `apt-get install -y chromium`.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./chromium";
import type { RedWindow } from "./editor-red";
import { connected, freePort, until } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";

describe("a new emit node wired after an on node (Chromium)", function () {
  this.timeout(120_000);
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;

  before(async function () {
    red = await startNodeRed({ port: await freePort(), settings: { telemetry: { enabled: false } } });
    // What the user has so far: a server on Node-RED's port and an on node for "ping".
    await red.deploy([
      { id: "t1", type: "tab", label: "reply", disabled: false, info: "" },
      { id: "srv", type: "socket-io-server", name: "", listen: "nodered", path: "/socket.io", serveClient: false },
      {
        id: "on-ping",
        type: "socket-io-on",
        z: "t1",
        x: 160,
        y: 120,
        server: "srv",
        namespace: "/",
        listenFor: "event",
        event: "ping",
        privateRooms: false,
        wires: [[]],
      },
    ]);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    if (red) await red.stop();
  });

  /** The centre of an element's box, for mouse moves. */
  async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
    const box = await page.locator(selector).first().boundingBox();
    assert.ok(box, `${selector} is on screen`);
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  }

  it("its default Target answers the sender in msg.socket, and its label says so", async function () {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`${red!.url}/`);
    const canvas = "#red-ui-workspace-chart";
    await page
      .locator(`${canvas} .red-ui-flow-node-status-label`, { hasText: "0 clients" })
      .waitFor({ timeout: 30_000 });

    // Drag "socket.io emit" from the palette onto the canvas, right of the on node.
    const paletteEmit = page.locator('.red-ui-palette-node[data-palette-type="socket-io-emit"]');
    await paletteEmit.scrollIntoViewIfNeeded();
    const from = await centre(page, '.red-ui-palette-node[data-palette-type="socket-io-emit"]');
    const onNode = await centre(page, `${canvas} g.red-ui-flow-node-group[id$="on-ping"] rect.red-ui-flow-node`);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(onNode.x + 150, onNode.y + 20, { steps: 12 });
    await page.mouse.move(onNode.x + 260, onNode.y, { steps: 12 });
    await page.mouse.up();
    const emitId = await page.evaluate(() => {
      const RED = (window as unknown as RedWindow).RED;
      const found: string[] = [];
      RED.nodes.eachNode((n) => {
        if (n.type === "socket-io-emit") found.push(n.id);
      });
      return found;
    });
    assert.equal(emitId.length, 1, "the drop added one emit node");
    const emitNode = `${canvas} g.red-ui-flow-node-group[id$="${emitId[0]}"] rect.red-ui-flow-node`;

    // Open it, pick the server, leave Target as it is, type the event name and click Done.
    await page.locator(emitNode).dblclick();
    await page.locator("#node-input-target").waitFor({ state: "visible", timeout: 10_000 });
    assert.equal(await page.inputValue("#node-input-target"), "reply", "a new emit node's Target is the sender");
    await page.selectOption("#node-input-server", "srv");
    // Event is a typedInput: the user types into its visible field.
    await page.locator(".socket-io-emit-event-row input.red-ui-typedInput-input").first().fill("pong");
    await page.click("#node-dialog-ok");
    await page.locator(`${canvas} .red-ui-flow-node-label`, { hasText: "pong → sender" }).waitFor({ timeout: 5000 });

    // Wire the on node's output to the emit node's input, then deploy.
    const out = await centre(page, `${canvas} g.red-ui-flow-node-group[id$="on-ping"] .red-ui-flow-port-output`);
    const inPort = await centre(page, `${canvas} g.red-ui-flow-node-group[id$="${emitId[0]}"] .red-ui-flow-port-input`);
    await page.mouse.move(out.x, out.y);
    await page.mouse.down();
    await page.mouse.move(inPort.x, inPort.y, { steps: 15 });
    await page.mouse.up();
    const wired = await page.evaluate(
      () => (window as unknown as RedWindow).RED.nodes.node("on-ping").wires?.length ?? 0,
    );
    const links = await page.evaluate(
      (id) =>
        (window as unknown as RedWindow).RED.nodes.filterLinks({ source: { id: "on-ping" }, target: { id } }).length,
      emitId[0],
    );
    assert.equal(links, 1, `the on node is wired to the emit node (wires: ${wired})`);
    await page.click("#red-ui-header-button-deploy");
    await page.locator(".red-ui-notification", { hasText: /Successfully deployed/i }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator(".red-ui-notification", { hasText: "not properly configured" }).count(), 0);
    await page.screenshot({ path: join(ARTIFACTS, "new-emit.png") });

    // a pings, b pings, a pings again: a must get its own two pongs and nothing of b's.
    const a = await connected(red!.url, { transports: ["websocket"] });
    const b = await connected(red!.url, { transports: ["websocket"] });
    const got = { a: [] as unknown[], b: [] as unknown[] };
    a.on("pong", (p: unknown) => got.a.push(p));
    b.on("pong", (p: unknown) => got.b.push(p));
    try {
      a.emit("ping", "a1");
      await until(() => got.a.length >= 1, 5000, "a's first pong");
      b.emit("ping", "b1");
      await until(() => got.b.length >= 1, 5000, "b's pong");
      a.emit("ping", "a2");
      await until(() => got.a.includes("a2"), 5000, "a's second pong");
      assert.deepEqual(got.a, ["a1", "a2"]);
      assert.deepEqual(got.b, ["b1"]);
    } finally {
      a.close();
      b.close();
    }
    assert.deepEqual(pageErrors, []);
  });
});
