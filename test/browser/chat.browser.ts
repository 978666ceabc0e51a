// The chat example in a real browser: Debian's Chromium driven by playwright-core.
// Run with `npm run test:browser` (not part of `npm test`); needs `apt-get install -y chromium`.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./chromium";
import type { RedWindow } from "./editor-red";
import { exampleFlows } from "../../demo/start";
import { freePort } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";

describe("the chat example in Chromium", function () {
  this.timeout(120_000);
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;

  before(async function () {
    // The demo's runtime: a real node-red with the package linked in and every example deployed.
    red = await startNodeRed({ port: await freePort(), settings: { telemetry: { enabled: false } } });
    await red.deploy(exampleFlows());
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    if (red) await red.stop();
  });

  /** A new page showing the chat in `room` as `name`, once its own join notice is shown. */
  async function openChat(room: string, name: string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 640, height: 400 } });
    await page.goto(`${red!.url}/chat?room=${room}&name=${name}`);
    await page.locator("#messages li.notice", { hasText: `${name} joined ${room}` }).waitFor({ timeout: 10_000 });
    return page;
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.fill("#input", text);
    await page.press("#input", "Enter");
  }

  const shows = (page: Page, text: string) =>
    page.locator("#messages li", { hasText: text }).waitFor({ timeout: 10_000 });
  const count = (page: Page, text: string) => page.locator("#messages li", { hasText: text }).count();

  it("deploys every example without an error in the runtime's log", function () {
    assert.doesNotMatch(red!.output(), /\[error\]/);
  });

  it("two pages chat: a message typed in one is shown in both, and a room sees only its own messages", async function () {
    const ann = await openChat("A", "ann");
    const bob = await openChat("A", "bob");
    await shows(ann, "bob joined A");

    await send(ann, "hello from ann");
    await shows(ann, "ann: hello from ann");
    await shows(bob, "ann: hello from ann");
    await send(bob, "hi ann");
    await shows(ann, "bob: hi ann");

    const cat = await openChat("B", "cat");
    await send(cat, "only for B");
    await shows(cat, "cat: only for B");
    await send(ann, "only for A");
    await shows(bob, "ann: only for A");
    await ann.waitForTimeout(300);
    assert.equal(await count(cat, "only for A"), 0);
    assert.equal(await count(cat, "hello from ann"), 0);
    assert.equal(await count(ann, "only for B"), 0);
    assert.equal(await count(bob, "only for B"), 0);
    assert.equal(await count(ann, "cat joined B"), 0);

    await ann.screenshot({ path: join(ARTIFACTS, "chat-room-A.png") });
    await cat.screenshot({ path: join(ARTIFACTS, "chat-room-B.png") });
    await cat.close();
    await bob.close();
    await shows(ann, "bob left");
    await ann.close();
  });

  it("shows the chat example's flow in the editor, with its clients counted", async function () {
    const chats = [await openChat("lobby", "ann"), await openChat("lobby", "bob")];
    const page = await browser!.newPage({ viewport: { width: 1400, height: 480 } });
    await page.goto(`${red!.url}/`);
    // The first tab is the chat example; wait until its nodes are drawn.
    await page.locator("#red-ui-workspace-chart .red-ui-flow-node").nth(10).waitFor({ timeout: 30_000 });
    // The flow only: no palette, no sidebar, no notifications.
    await page.evaluate(() => {
      const RED = (window as unknown as RedWindow).RED;
      RED.menu.setSelected("menu-item-palette", false);
      RED.menu.setSelected("menu-item-sidebar", false);
    });
    await page.addStyleTag({ content: ".red-ui-notification { display: none !important; }" });
    await page.waitForTimeout(500);
    const tab = await page.locator("#red-ui-workspace-tabs li.red-ui-tab.active").textContent();
    assert.match(String(tab), /chat room/);
    await page
      .locator("#red-ui-workspace-chart .red-ui-flow-node-status-label", { hasText: "2 clients" })
      .first()
      .waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, "editor.png") });
    for (const chat of chats) await chat.close();
  });
});
