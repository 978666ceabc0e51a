// The server's Admin UI setting end to end: two real Node-RED instances behind adminAuth, scaled out
// through the shared Redis, real socket.io clients, and Debian's Chromium (playwright-core) opening the
// Socket.IO Admin UI from the server's dialog in the editor. The browser may reach 127.0.0.1 only.
// Run with `npm run test:browser`; needs `apt-get install -y chromium` and the shared Redis.
// One feature's cases (the Admin UI from the editor), sharing one browser and two runtimes, hence over 250 lines.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ADMIN_NAMESPACE } from "../../src/nodes/core/admin-instrument";
import { redisAnswers, START_REDIS, underCi } from "../redis-ping";
import { forgetPrefix, uniquePrefix } from "../redis-tools";
import {
  adminUiFlow,
  attemptOf,
  connectedClient,
  editorLogin,
  onlyLoopback,
  PAGE,
  ROOM,
  startInstance,
  countRefusals,
  uiDialog,
  uiForm,
  uiLogin,
  UI_USER,
  until,
  type Instance,
  type WatchedClient,
} from "./admin-ui-kit";
import { ARTIFACTS, launchChromium } from "./chromium";
import type { RedWindow } from "./editor-red";

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `admin-ui-${name}.png`) });

describe("the Socket.IO Admin UI of a scaled-out server, opened from the editor (Chromium)", function () {
  this.timeout(30_000);
  const prefix = uniquePrefix();
  let a: Instance | undefined;
  let b: Instance | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  /** Requests of the browser to anything but 127.0.0.1, blocked. */
  let outside: string[] = [];
  let clientA: WatchedClient;
  let clientB: WatchedClient;
  /** The Admin UI's tab. */
  let ui: Page;

  before(async function () {
    this.timeout(40_000);
    if (!(await redisAnswers())) {
      if (underCi()) throw new Error(`the Admin UI test needs the shared Redis under CI (start one: ${START_REDIS})`);
      console.log(
        `\n  !!!!! SKIPPING THE ADMIN UI TEST: no Redis on 127.0.0.1:6379 (start one: ${START_REDIS}) !!!!!\n`,
      );
      this.skip();
    }
    const started = await Promise.allSettled([startInstance(prefix), startInstance(prefix), launchChromium()]);
    if (started[0].status === "fulfilled") a = started[0].value;
    if (started[1].status === "fulfilled") b = started[1].value;
    if (started[2].status === "fulfilled") browser = started[2].value;
    for (const s of started) if (s.status === "rejected") throw s.reason;
    // The deploy answers before the server has applied the Admin UI: its page answers once it has.
    for (const instance of [a!, b!])
      await until(`the Admin UI page of ${instance.url}`, async () => (await instance.status(PAGE)) === 200);
    clientA = await connectedClient(a!.url);
    clientB = await connectedClient(b!.url);
    context = await browser!.newContext({ viewport: { width: 1400, height: 900 } });
    context.setDefaultTimeout(10_000);
    outside = await onlyLoopback(context);
  });

  after(async function () {
    this.timeout(30_000);
    clientA?.socket.close();
    clientB?.socket.close();
    await browser?.close();
    await Promise.all([a?.red.stop(), b?.red.stop()]);
    await forgetPrefix(prefix);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      const title = this.currentTest.title.replace(/\W+/g, "-").slice(0, 50);
      for (const [i, page] of context?.pages().entries() ?? []) await shot(page, `failed-${title}-${i}`);
      console.log(`Node-RED A's log:\n${a?.red.output()}\nNode-RED B's log:\n${b?.red.output()}`);
    }
  });

  /** Fails when the browser tried to reach anything but 127.0.0.1. */
  const nothingOutside = (): void => assert.deepEqual(outside, [], "requests to hosts other than 127.0.0.1 (blocked)");
  /** The UI's connection status in its header (the header has a second, hidden copy of it). */
  const uiStatus = (state: "connected" | "disconnected") =>
    ui
      .locator("header")
      .getByText(new RegExp(`^\\s*${state}\\s*$`, "i"))
      .filter({ visible: true })
      .first();

  /** Visible text `text` in the UI (its pages keep hidden copies of some parts). */
  const shown = (text: string | RegExp) => ui.getByText(text, { exact: true }).filter({ visible: true }).first();

  it("Open the Admin UI on the server's Admin UI tab opens the UI filled in for this server; a wrong password gets Invalid credentials, the right one connects", async function () {
    const editor = await context.newPage();
    await editorLogin(editor, a!.url, "srv");
    // Ticked without both credentials, a server is invalid in the editor (no dialog open: as saved).
    // A plain loop: a named function inside evaluate() would need the bundler's __name helper.
    const validity = await editor.evaluate(() => {
      const RED = (window as unknown as RedWindow).RED;
      const server = RED.nodes.node("srv");
      const cases: Array<Record<string, unknown>> = [
        {},
        { adminUiUsername: "sio" },
        { adminUiUsername: "sio", has_adminUiPassword: true },
      ];
      return cases.map((credentials) => {
        const n = { ...server, id: "probe", adminUi: true, credentials };
        RED.editor.validateNode(n);
        return n.valid;
      });
    });
    assert.deepEqual(validity, [false, false, true], "invalid without both credentials");
    // What double-clicking the server in a node's dialog does: the config node's own dialog.
    await editor.evaluate(() => (window as unknown as RedWindow).RED.editor.editConfig("", "socket-io-server", "srv"));
    await editor.locator('a[href="#socket-io-server-tab-adminui"]').click();
    assert.equal(await editor.locator("#node-config-input-adminUi").isChecked(), true, "the Admin UI box");
    assert.equal(await editor.locator("#node-config-input-adminUiUsername").inputValue(), UI_USER.username);
    await editor.locator("#socket-io-server-open-admin-ui").waitFor({ state: "visible" });
    await shot(editor, "1-editor-tab");
    const [opened] = await Promise.all([
      context.waitForEvent("page", { timeout: 10_000 }),
      editor.click("#socket-io-server-open-admin-ui"),
    ]);
    ui = opened;
    const refusals = countRefusals(ui);
    await ui.waitForURL(`${a!.url}${PAGE}`, { timeout: 10_000 });
    await uiDialog(ui).getByLabel("Username").waitFor({ timeout: 10_000 });
    assert.equal((await uiForm(ui))["Server URL"], a!.url, "the Server URL of the UI's login");
    await uiDialog(ui).getByText("Advanced options").click();
    await uiDialog(ui).getByLabel("Admin namespace").waitFor({ state: "visible" });
    const form = await uiForm(ui);
    assert.deepEqual(
      [form["Admin namespace"], form.Path, form["WebSocket only?"]],
      [ADMIN_NAMESPACE, "/socket.io", "false"],
      `the advanced options of the UI's login: ${JSON.stringify(form)}`,
    );
    await shot(ui, "2-login-prefilled");

    // The UI tried the saved server at once, without credentials: count the refusals from here on.
    await until("the UI's first connection attempt", () => refusals.count > 0, 5000);
    const before = refusals.count;
    await uiLogin(ui, UI_USER.username, "wrong-password");
    await until("a refusal of the wrong password", () => refusals.count > before, 10_000);
    await uiDialog(ui).getByText("Invalid credentials").waitFor({ state: "visible", timeout: 5000 });
    assert.equal(await uiStatus("disconnected").isVisible(), true, "the UI's status after the wrong password");
    await shot(ui, "3-invalid-credentials");

    await uiLogin(ui, UI_USER.username, UI_USER.password);
    await uiStatus("connected").waitFor({ timeout: 10_000 });
    await uiDialog(ui).waitFor({ state: "hidden", timeout: 5000 });
    await editor.close();
    nothingOutside();
  });

  it("the UI shows the sockets of both instances in room lobby and both servers, and the events clients of both instances send", async function () {
    assert.ok(ui, "the UI is open (the test before)");
    await ui.goto(`${a!.url}${PAGE}#/n/%2F/rooms/${ROOM}`);
    for (const [name, c] of [
      ["A", clientA],
      ["B", clientB],
    ] as const)
      await shown(c.socket.id!)
        .waitFor({ timeout: 10_000 })
        .catch(() => assert.fail(`the room ${ROOM} in the UI does not list the socket of the client on ${name}`));
    await shot(ui, "4-room-lobby");
    await ui.goto(`${a!.url}${PAGE}#/sockets`);
    await shown("Select namespace").waitFor({ timeout: 5000 });
    for (const c of [clientA, clientB]) await shown(c.socket.id!).waitFor({ timeout: 5000 });
    await shot(ui, "5-sockets");
    await ui.goto(`${a!.url}${PAGE}#/servers`);
    for (const instance of [a!, b!])
      await shown(new RegExp(`pid ${instance.red.proc.pid}\\b`)).waitFor({ timeout: 10_000 });
    await shot(ui, "6-servers");

    // Events the UI saw since it connected, whichever page it showed then.
    const stamp = Date.now();
    const sent = [
      { client: clientA, marker: `hello-from-A-${stamp}` },
      { client: clientB, marker: `hello-from-B-${stamp}` },
    ];
    for (const { client, marker } of sent) client.socket.emit("hello", { marker });
    await ui.goto(`${a!.url}${PAGE}#/events`);
    for (const { client, marker } of sent) {
      const row = ui
        .locator("tr", { hasText: client.socket.id! })
        .filter({ hasText: "Event received" })
        .filter({ hasText: "hello" })
        .filter({ visible: true })
        .first();
      await row.waitFor({ timeout: 10_000 });
      await row.locator("button").click();
      await ui.getByText(marker).filter({ visible: true }).first().waitFor({ timeout: 5000 });
    }
    await shot(ui, "7-events");
    nothingOutside();
  });

  it("a browser that has not logged in to the editor gets 401 for the UI's page", async function () {
    const stranger = await browser!.newContext();
    try {
      const away = await onlyLoopback(stranger);
      const page = await stranger.newPage();
      const res = await page.goto(`${a!.url}${PAGE}`);
      assert.equal(res?.status(), 401, "the page for a browser without the editor's login");
      assert.deepEqual(away, [], "requests to hosts other than 127.0.0.1 (blocked)");
      // The guard itself: a host name other than 127.0.0.1 (here one that is loopback too) is caught.
      const elsewhere = `http://localhost:${a!.red.port}/`;
      const outcome = await page.evaluate(
        (url) =>
          fetch(url).then(
            () => "fetched",
            () => "blocked",
          ),
        elsewhere,
      );
      assert.deepEqual([outcome, away], ["blocked", [elsewhere]], "the guard against other hosts");
    } finally {
      await stranger.close();
    }
  });

  it("a deploy that keeps it on keeps its page up throughout, and the UI connected", async function () {
    const statuses = new Set<number>();
    let deploying = true;
    const polling = (async () => {
      for (let i = 0; deploying && i < 500; i++) statuses.add(await a!.status(PAGE));
    })();
    await a!.red.deploy(adminUiFlow(prefix, true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    deploying = false;
    await polling;
    assert.deepEqual([...statuses], [200]);
    await uiStatus("connected").waitFor({ timeout: 5000 });
  });

  it("unticked and deployed: the UI loses its connection, its namespace and page are gone, and no client is disconnected", async function () {
    assert.ok(ui, "the UI is open (the tests before)");
    await a!.red.deploy(adminUiFlow(prefix, false));
    await until("the UI's page answering 404", async () => (await a!.status(PAGE)) === 404);
    await uiStatus("disconnected").waitFor({ timeout: 10_000 });
    await shot(ui, "8-disconnected");
    assert.equal(await attemptOf(a!.url, ADMIN_NAMESPACE, UI_USER), "Invalid namespace", "an admin client of A");
    assert.equal(await b!.status(PAGE), 200, "B, not redeployed, keeps its UI");
    for (const [name, c] of [
      ["A", clientA],
      ["B", clientB],
    ] as const)
      assert.deepEqual([c.disconnects, c.socket.connected], [[], true], `the client on ${name}`);
    assert.equal(await a!.status(PAGE), 404, "the UI's page of A, once the deploy has settled");
    nothingOutside();
  });

  it("no node of the package logged an error or a warning on either Node-RED (admin-ui's first stats wait for Redis)", function () {
    for (const [name, instance] of [
      ["A", a],
      ["B", b],
    ] as const) {
      const problems = instance!.red
        .output()
        .split("\n")
        .filter((line) => /\[(error|warn)\] \[socket-io-/.test(line));
      assert.deepEqual(problems, [], `the log of ${name}`);
    }
  });
});
