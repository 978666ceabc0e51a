// The package beside Dashboard 2 (@flowfuse/node-red-dashboard) in one real node-red process, both on
// Node-RED's own server: the dashboard's page and endpoint and our chat work together, and neither's
// deploys, deletions or re-additions disconnect the other's clients. The steps run in order on one
// runtime and share its clients; once a step fails, the later ones are skipped.
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  CHAT_PATH,
  DASHBOARD,
  TEXT_ID,
  chatFlow,
  dashboardConnected,
  dashboardFlow,
  deployed,
  makeDashboardUserDir,
  widgetShows,
} from "./dashboard-kit";
import type { FlowNode } from "./flow-fixtures";
import { get } from "./http-get";
import { closeClients, connected, freePort, next, until } from "./helpers";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";

type DeployType = "full" | "nodes";
type Side = "dashboard" | "chat";

describe("beside Dashboard 2 on Node-RED's server (a real node-red process)", function () {
  this.timeout(60_000);
  let red: NodeRedProcess;
  let userDir: string;
  let failed: string | undefined;

  /** What is deployed: the ui-text's text and the on node's name; a change of either modifies one node. */
  let text = "v1";
  let onName = "chat in";
  const both = (): FlowNode[] => [...dashboardFlow(text), ...chatFlow(onName)];

  /** Every client, by name, with the reasons of its disconnects (none reconnects, so each one counts). */
  const names = new Map<ClientSocket, string>();
  const reasons = new Map<ClientSocket, string[]>();
  const watch = (name: string, socket: ClientSocket): ClientSocket => {
    names.set(socket, name);
    reasons.set(socket, []);
    socket.on("disconnect", (reason) => reasons.get(socket)!.push(reason));
    return socket;
  };
  let dash: ClientSocket;
  let chatters: [ClientSocket, ClientSocket];

  /** A step of the sequence: its title starts every failure message, and a failure skips the steps after it. */
  function step(title: string, body: () => Promise<void>): void {
    it(title, async function () {
      if (failed) this.skip();
      try {
        await body();
      } catch (err) {
        failed = title;
        if (err instanceof Error) err.message = `${title}: ${err.message}`;
        throw err;
      }
    });
  }

  /** Each client is still on its first connection. */
  function stayedConnected(clients: ClientSocket[]): void {
    for (const c of clients) {
      const seen = reasons.get(c)!;
      assert.deepEqual(seen, [], `${names.get(c)} was disconnected (${seen.join(", ")})`);
      assert.ok(c.connected, `${names.get(c)} is not connected`);
    }
  }

  /** Two clients of our endpoint, as a script and a browser connect: one on WebSocket, one polling and then upgraded. */
  async function chatClients(a: string, b: string): Promise<[ClientSocket, ClientSocket]> {
    const ws = watch(a, await connected(red.url, { path: CHAT_PATH }));
    const browser = watch(b, await connected(red.url, { path: CHAT_PATH, transports: ["polling", "websocket"] }));
    await until(() => browser.io.engine.transport.name === "websocket", 3000, `${b} to upgrade to WebSocket`);
    return [ws, browser];
  }

  /** A chat message from the first client goes through the flow to both, neither having been disconnected. */
  async function chat([from, to]: [ClientSocket, ClientSocket], message: string): Promise<void> {
    const heard = next(to, "chat message").catch(() => "nothing");
    const echoed = next(from, "chat message").catch(() => "nothing");
    from.emit("chat message", message);
    const [got, back] = [await heard, await echoed];
    stayedConnected([from, to]);
    assert.equal(got, message, `${names.get(to)} hears ${names.get(from)} through the flow`);
    assert.equal(back, message, `${names.get(from)} hears itself through the flow`);
  }

  /** The dashboard's page and every asset it names answer 200, and its setup names its own Socket.IO path. */
  async function pageLoads(): Promise<void> {
    const page = await get(`${red.url}${DASHBOARD.path}/`);
    assert.equal(page.status, 200, `GET ${DASHBOARD.path}/`);
    assert.match(page.body, /<div id="app"><\/div>/, "the dashboard's page");
    const assets = [...page.body.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.length >= 2, `the page names its scripts and styles: ${page.body}`);
    for (const asset of assets) {
      const answer = await get(`${red.url}${DASHBOARD.path}/${asset}`);
      assert.equal(answer.status, 200, `GET ${DASHBOARD.path}/${asset}`);
    }
    const setup = await get(`${red.url}${DASHBOARD.path}/_setup`);
    assert.equal(setup.status, 200, `GET ${DASHBOARD.path}/_setup`);
    assert.equal(JSON.parse(setup.body).socketio.path, DASHBOARD.socketPath, "the dashboard's Socket.IO path");
  }

  /** A new dashboard client gets the config with our widget, and the value the flow last sent it. */
  async function dashboardWorks(name: string): Promise<ClientSocket> {
    const { socket, config } = await dashboardConnected(red.url);
    watch(name, socket);
    assert.equal(config.base, "dbBase", `${name}'s ui-config is the dashboard's`);
    assert.ok(config.widgets[TEXT_ID], `${name}'s ui-config holds the ui-text: ${Object.keys(config.widgets)}`);
    await widgetShows(socket, text);
    return socket;
  }

  /** Our chat's endpoint on Node-RED's server: 200 while it is deployed, 404 once it is deleted. */
  const clientScript = async (): Promise<number> => (await get(`${red.url}${CHAT_PATH}/socket.io.js`)).status;

  before(async function () {
    userDir = makeDashboardUserDir();
    red = await startNodeRed({ port: await freePort(), userDir, settings: { telemetry: { enabled: false } } });
  });

  after(async function () {
    closeClients();
    await red?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  afterEach(function () {
    assert.doesNotMatch(red.output(), /\[error\]/, `an [error] in the node-red log:\n${red.output()}`);
  });

  step(
    "deploy both (full): the page and its assets load, a dashboard client gets the widget, two chat clients chat",
    async () => {
      await deployed(red, both(), "full");
      const log = red.output();
      assert.ok(log.includes(`socket.io server bound to Node-RED port at path ${DASHBOARD.socketPath}`), log);
      assert.ok(log.includes(`socket.io listening on Node-RED's HTTP server at ${CHAT_PATH}\n`), log);
      await pageLoads();
      dash = await dashboardWorks("dashboard client 1");
      chatters = await chatClients("chat client 1 (WebSocket)", "chat client 2 (polling, upgraded)");
      await chat(chatters, "hello beside the dashboard");
      stayedConnected([dash, ...chatters]);
    },
  );

  // Each side modified with each deploy type, in both orders: the dashboard first and full before nodes,
  // then the chat first and nodes before full. Every client, of either side, stays on its connection.
  const changes: Array<[Side, DeployType]> = [
    ["dashboard", "full"],
    ["dashboard", "nodes"],
    ["chat", "full"],
    ["chat", "nodes"],
    ["chat", "nodes"],
    ["chat", "full"],
    ["dashboard", "nodes"],
    ["dashboard", "full"],
  ];
  changes.forEach(([side, type], i) => {
    const what = side === "dashboard" ? "the dashboard (the inject's text)" : "the chat (the on node's name)";
    step(
      `change ${i + 1}: a "${type}" deploy that modifies only ${what}; no client of either side disconnects`,
      async () => {
        if (side === "dashboard") text = `v${i + 2}`;
        else onName = `chat in ${i + 2}`;
        await deployed(red, both(), type);
        await widgetShows(dash, text);
        await chat(chatters, `after change ${i + 1}`);
        stayedConnected([dash, ...chatters]);
      },
    );
  });

  step("delete the chat (full deploy of the dashboard alone): the dashboard client stays and works", async () => {
    await deployed(red, dashboardFlow(text), "full");
    await until(() => chatters.every((c) => c.disconnected), 3000, "the deleted server to let its chat clients go");
    assert.equal(await clientScript(), 404, `${CHAT_PATH}/socket.io.js once the chat is deleted`);
    await widgetShows(dash, text);
    stayedConnected([dash]);
    await dashboardWorks("dashboard client 2 (with the chat deleted)");
  });

  step("re-add the chat (nodes deploy): two new chat clients chat, the dashboard client stays and works", async () => {
    await deployed(red, both(), "nodes");
    assert.equal(await clientScript(), 200, `${CHAT_PATH}/socket.io.js once the chat is back`);
    chatters = await chatClients("chat client 3 (WebSocket)", "chat client 4 (polling, upgraded)");
    await chat(chatters, "back beside the dashboard");
    await widgetShows(dash, text);
    stayedConnected([dash]);
    await pageLoads();
    await dashboardWorks("dashboard client 3 (with the chat back)");
  });

  step("delete the dashboard (nodes deploy of the chat alone): the chat clients stay and chat", async () => {
    await deployed(red, chatFlow(onName), "nodes");
    await chat(chatters, "without the dashboard");
    stayedConnected(chatters);
  });

  step(
    "re-add the dashboard (full deploy): the page loads, a new dashboard client gets the widget, the chat clients stay and chat",
    async () => {
      text = "back again";
      await deployed(red, both(), "full");
      await pageLoads();
      const again = await dashboardWorks("dashboard client 4 (the dashboard re-added)");
      await chat(chatters, "with the dashboard back");
      stayedConnected([again, ...chatters]);
    },
  );
});
