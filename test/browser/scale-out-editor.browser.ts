// The server config node's Scale-out tab in a real editor: Debian's Chromium driven by playwright-core.
// Run with `npm run test:browser`; needs `apt-get install -y chromium redis-server`.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./chromium";
import type { RedWindow } from "./editor-red";
import { io as ioClient } from "socket.io-client";
import { freePort, next } from "../helpers";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { startPrivateRedis, type PrivateRedis } from "../redis-tools";

const PASSWORD = "typed-in-the-editor";

describe("the server's Scale-out settings in the editor (Chromium)", function () {
  this.timeout(120_000);
  let redis: PrivateRedis | undefined;
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let ioPort = 0;

  before(async function () {
    // A Redis of the test's own that needs the password the user is about to type.
    redis = await startPrivateRedis({ password: PASSWORD });
    ioPort = await freePort();
    red = await startNodeRed({ port: await freePort(), settings: { telemetry: { enabled: false } } });
    // What a user has before scaling out: a server saved before the Scale-out settings existed.
    await red.deploy([
      { id: "t1", type: "tab", label: "scale-out", disabled: false, info: "" },
      {
        id: "srv",
        type: "socket-io-server",
        name: "",
        listen: "port",
        port: String(ioPort),
        path: "/socket.io",
        corsOrigins: "*",
        serveClient: false,
        pingInterval: 25000,
        pingTimeout: 20000,
        maxHttpBufferSize: 1000000,
        recovery: false,
        recoveryDuration: 120000,
        usetls: false,
        tls: "",
        options: "",
      },
      {
        id: "on-conn",
        type: "socket-io-on",
        z: "t1",
        x: 200,
        y: 100,
        server: "srv",
        namespace: "/",
        listenFor: "connection",
        event: "",
        privateRooms: false,
        wires: [[]],
      },
    ]);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    if (red) await red.stop();
    await redis?.remove();
  });

  it("a user picks Redis Streams, types the URL, prefix and password, and deploys: the node goes green with redis, and the password is kept out of flows.json", async function () {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${red!.url}/`);
    const status = (text: string) =>
      page.locator("#red-ui-workspace-chart .red-ui-flow-node-status-label", { hasText: text }).first();
    await status("0 clients").waitFor({ timeout: 30_000 });
    /** The properties of the server config node that the editor finds invalid. */
    const invalidProperties = () =>
      page.evaluate(() => {
        const RED = (window as unknown as RedWindow).RED;
        const node = RED.nodes.node("srv");
        RED.editor.validateNode(node);
        return node.valid ? [] : node.validationErrors;
      });
    assert.deepEqual(await invalidProperties(), [], "a server saved before Scale-out existed opens as valid");

    // Double-clicking the server in the on node's dialog does this: the config node's own dialog.
    await page.evaluate(() => (window as unknown as RedWindow).RED.editor.editConfig("", "socket-io-server", "srv"));
    await page.locator('a[href="#socket-io-server-tab-scaleout"]').click();
    const url = page.locator("#node-config-input-redisUrl");
    assert.equal(await url.isVisible(), false, "the Redis settings are hidden while Scale-out is none");
    await page.selectOption("#node-config-input-adapter", "redis-streams");
    await url.waitFor({ state: "visible", timeout: 5000 });
    await url.fill(redis!.url);
    await page.fill("#node-config-input-redisPrefix", "editor-test");
    await page.fill("#node-config-input-redisPassword", PASSWORD);
    await page
      .locator(".red-ui-tray")
      .last()
      .screenshot({ path: join(ARTIFACTS, "server-scale-out.png") });
    await page.click("#node-config-dialog-ok");
    assert.deepEqual(await invalidProperties(), [], "the server's settings are valid in the editor");
    await page.click("#red-ui-header-button-deploy");

    // The runtime got the password from the editor: the server reaches its Redis.
    try {
      await status("0 clients · redis").waitFor({ timeout: 15_000 });
    } catch (err) {
      await page.screenshot({ path: join(ARTIFACTS, "editor-scale-out-failed.png") });
      throw new Error(`${(err as Error).message}\nNode-RED's log:\n${red!.output()}`);
    }
    const client = ioClient(`http://127.0.0.1:${ioPort}`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    try {
      await next(client, "connect", 5000);
      await status("1 client · redis").waitFor({ timeout: 5000 });
      await page.screenshot({ path: join(ARTIFACTS, "editor-scale-out.png") });
    } finally {
      client.close();
    }

    const flows = readFileSync(join(red!.userDir, "flows.json"), "utf8");
    const server = (JSON.parse(flows) as Array<Record<string, unknown>>).find((n) => n.id === "srv")!;
    assert.deepEqual(
      [server.adapter, server.redisUrl, server.redisPrefix],
      ["redis-streams", redis!.url, "editor-test"],
    );
    assert.ok(!flows.includes(PASSWORD), "the password is in flows.json");
    // credentialSecret is off in the test's settings, so the credentials file is plain JSON.
    const credentials = JSON.parse(readFileSync(join(red!.userDir, "flows_cred.json"), "utf8")) as Record<
      string,
      Record<string, string>
    >;
    assert.equal(credentials.srv?.redisPassword, PASSWORD);
  });
});
