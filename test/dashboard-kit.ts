// Dashboard 2 (@flowfuse/node-red-dashboard, a devDependency) beside the package on Node-RED's own
// server: a user dir with both installed, the two flows, and clients of both endpoints.
import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Socket as ClientSocket } from "socket.io-client";
import { type FlowNode, emitNode, onEvent } from "./flow-fixtures";
import { client, next, until } from "./helpers";
import { type NodeRedProcess, makeUserDir } from "./node-red-process";

/** Where Dashboard 2 lives, and the Socket.IO path of its own endpoint (ui_base.js: httpNodeRoot + path + "/socket.io"). */
export const DASHBOARD = { path: "/dashboard", socketPath: "/dashboard/socket.io" };

/** The Socket.IO path of the chat's server, the package's default. */
export const CHAT_PATH = "/socket.io";

/** The id of the ui-text widget; it shows the payload of the inject that feeds it. */
export const TEXT_ID = "dbText";

/** A fresh user dir with this package and Dashboard 2 linked into its node_modules, as the palette manager would install both. */
export function makeDashboardUserDir(): string {
  const dir = makeUserDir();
  const dashboard = dirname(require.resolve("@flowfuse/node-red-dashboard/package.json"));
  mkdirSync(join(dir, "node_modules", "@flowfuse"));
  symlinkSync(dashboard, join(dir, "node_modules", "@flowfuse", "node-red-dashboard"), "dir");
  return dir;
}

/**
 * A dashboard at /dashboard: one page, one group and a ui-text fed by an inject that fires once
 * with `text` (so a changed `text` modifies the inject node and the widget gets a new value).
 */
export function dashboardFlow(text: string): FlowNode[] {
  return [
    { id: "dbTab", type: "tab", label: "dashboard" },
    { id: "dbBase", type: "ui-base", name: "My Dashboard", path: DASHBOARD.path, includeClientData: true },
    { id: "dbTheme", type: "ui-theme", name: "Default Theme", colors: {}, sizes: {} },
    {
      id: "dbPage",
      type: "ui-page",
      name: "Home",
      ui: "dbBase",
      path: "/home",
      icon: "home",
      layout: "grid",
      theme: "dbTheme",
      order: 1,
      className: "",
      visible: "true",
      disabled: "false",
    },
    {
      id: "dbGroup",
      type: "ui-group",
      name: "Group",
      page: "dbPage",
      width: 6,
      height: 1,
      order: 1,
      showTitle: true,
      className: "",
      visible: true,
      disabled: false,
      groupType: "default",
    },
    {
      id: TEXT_ID,
      type: "ui-text",
      z: "dbTab",
      group: "dbGroup",
      order: 1,
      width: 0,
      height: 0,
      name: "",
      label: "from the flow",
      format: "{{msg.payload}}",
      layout: "row-spread",
      style: false,
      font: "",
      fontSize: 16,
      color: "#717171",
      wrapText: false,
      className: "",
      value: "payload",
      valueType: "msg",
      x: 400,
      y: 60,
      wires: [],
    },
    {
      id: "dbInject",
      type: "inject",
      z: "dbTab",
      name: "",
      props: [{ p: "payload" }],
      repeat: "",
      once: true,
      onceDelay: 0.1,
      topic: "",
      payload: text,
      payloadType: "str",
      x: 150,
      y: 60,
      wires: [[TEXT_ID]],
    },
  ];
}

/**
 * The package's chat on "the Node-RED server" at /socket.io: every "chat message" goes to every client.
 * The server node has no port: on Node-RED's server it uses Node-RED's own port and ignores the port
 * field (which the dialog hides there and accepts blank).
 */
export function chatFlow(onName = "chat in"): FlowNode[] {
  const at = (x: number, node: FlowNode): FlowNode => ({ ...node, z: "chatTab", x, y: 60 });
  return [
    { id: "chatTab", type: "tab", label: "chat" },
    {
      id: "srv",
      type: "socket-io-server",
      name: "Node-RED's server",
      listen: "nodered",
      path: CHAT_PATH,
      serveClient: true,
    },
    at(150, onEvent("chatOn", "chat message", ["chatEmit"], { name: onName })),
    at(400, emitNode("chatEmit", "all", "chat message", { name: "to everyone" })),
  ];
}

/**
 * A client of the dashboard's own endpoint as its page connects: polling first (the dashboard refuses a
 * connection that starts on WebSocket), then upgraded. No reconnection, so every disconnect counts.
 */
export function dashboardClient(url: string): ClientSocket {
  return client(url, { path: DASHBOARD.socketPath, transports: ["polling", "websocket"] });
}

/** What the dashboard sends a client on connect: `ui-config` with its base node id and the pages, groups and widgets. */
export interface UiConfig {
  base: string;
  pages: Record<string, unknown>;
  groups: Record<string, unknown>;
  widgets: Record<string, unknown>;
}

/** Connects a dashboard client and resolves with the ui-config it receives, once upgraded to WebSocket. */
export async function dashboardConnected(url: string): Promise<{ socket: ClientSocket; config: UiConfig }> {
  const socket = dashboardClient(url);
  const upgraded = next(socket.io.engine, "upgrade", 5000);
  const config = new Promise<UiConfig>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no ui-config within 5000 ms")), 5000);
    socket.once("connect_error", (err) => reject(new Error(`the dashboard client could not connect: ${err.message}`)));
    socket.once("ui-config", (base: string, cfg: Omit<UiConfig, "base">) => {
      clearTimeout(timer);
      resolve({ base, ...cfg });
    });
  });
  const cfg = await config;
  await upgraded;
  return { socket, config: cfg };
}

/** The last msg the ui-text widget got from the flow, as a page loading the widget asks for it. */
export async function widgetPayload(dash: ClientSocket): Promise<unknown> {
  const loaded = next<{ payload?: unknown }>(dash, `widget-load:${TEXT_ID}`);
  dash.emit("widget-load", TEXT_ID);
  return (await loaded)?.payload;
}

/** The log line each deploy type ends with once its flows (or modified nodes) have started. */
const STARTED = { full: "[info] Started flows\n", nodes: "[info] Started modified nodes\n" };

/** Deploys `flows` and waits until the runtime has started them: a deploy answers before its flows start. */
export async function deployed(red: NodeRedProcess, flows: FlowNode[], type: "full" | "nodes"): Promise<void> {
  const times = (): number => red.output().split(STARTED[type]).length - 1;
  const before = times();
  await red.deploy(flows, type);
  await until(() => times() > before, 10_000, `"${STARTED[type].trim()}" in the log after a "${type}" deploy`);
}

/** Waits until the ui-text widget's last value is `text` (the inject fires 0.1 s after it starts); rejects saying what it showed. */
export async function widgetShows(dash: ClientSocket, text: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  let shown: unknown;
  for (;;) {
    shown = await widgetPayload(dash);
    if (shown === text) return;
    if (Date.now() > end) throw new Error(`the widget shows ${JSON.stringify(shown)}, not "${text}", after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
