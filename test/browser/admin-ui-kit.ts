// The kit of admin-ui.browser.ts: two Node-RED instances behind adminAuth, scaled out through the
// shared Redis, whose server has the Admin UI on; socket.io clients that say when they lose their
// connection; a browser context that may reach 127.0.0.1 only; and the Admin UI's own login form.
import { hashSync } from "bcryptjs";
import type { BrowserContext, Page } from "playwright-core";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import { login, PASSWORD, request } from "../admin-auth-kit";
import { onEvent, onNode, onTab, roomNode, serverConfig, type FlowNode } from "../flow-fixtures";
import { startNodeRed, type NodeRedProcess } from "../node-red-process";
import { freePort } from "../ports";
import { REDIS_URL } from "../redis-tools";

/** The Admin UI's own login, as the server config node's credentials hold it. */
export const UI_USER = { username: "sio", password: "ui-pass-7431" };
/** The namespace and room the flow gives every client. */
export const ROOM = "lobby";
/** Where Node-RED serves the UI of server "srv". */
export const PAGE = "/socket-io-admin/srv/";

/**
 * settings.js `adminAuth`: one user, `admin` with every permission and PASSWORD, and no `default` user,
 * so that the editor asks for a login before it shows anything.
 */
function adminOnly(): Record<string, unknown> {
  return {
    adminAuth: {
      type: "credentials",
      users: [{ username: "admin", password: hashSync(PASSWORD, 8), permissions: "*" }],
    },
    telemetry: { enabled: false },
    // No catalogue or update check: the editor would fetch them from the internet.
    editorTheme: { tours: false, palette: { catalogues: [] } },
  };
}

/**
 * The flow of both instances: a server on Node-RED's own HTTP server, scaled out through Redis under
 * `prefix`, with the Admin UI on or off; each connection joins ROOM; client event "hello" goes nowhere.
 */
export function adminUiFlow(prefix: string, adminUi: boolean): FlowNode[] {
  const server = serverConfig(0, {
    listen: "nodered",
    httpNodeSecurity: false,
    adapter: "redis",
    redisUrl: REDIS_URL,
    redisPrefix: prefix,
    adminUi,
    // How the editor sends credentials: Node-RED keeps them out of flows.json.
    credentials: { adminUiUsername: UI_USER.username, adminUiPassword: UI_USER.password },
  });
  delete server.port;
  return onTab("admin ui", [
    server,
    onNode("on-conn", "connection", ["join"]),
    roomNode("join", "join", ROOM, [], { target: "socket" }),
    onEvent("on-hello", "hello", []),
  ]);
}

/** One Node-RED instance with the flow deployed, and an admin token of its own. */
export interface Instance {
  red: NodeRedProcess;
  url: string;
  token: string;
  /** GETs `path` with the admin token; resolves with the status. */
  status(path: string): Promise<number>;
}

/** Starts a Node-RED behind adminAuth and deploys the flow through the admin API, logged in. */
export async function startInstance(prefix: string): Promise<Instance> {
  const red = await startNodeRed({
    port: await freePort(),
    settings: adminOnly(),
    login: { username: "admin", password: PASSWORD },
  });
  try {
    await red.deploy(adminUiFlow(prefix, true));
    const token = await login(`${red.url}/`, "admin");
    const status = async (path: string): Promise<number> =>
      (await request(`${red.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
    return { red, url: red.url, token, status };
  } catch (err) {
    await red.stop();
    throw err;
  }
}

/** Polls `check` every 100 ms until it is true; fails with `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A socket.io client that records why it lost its connection, if it did. */
export interface WatchedClient {
  socket: ClientSocket;
  disconnects: string[];
}

/** A client of `url` (WebSocket, no reconnection), connected. */
export async function connectedClient(url: string, namespace = "/", auth?: object): Promise<WatchedClient> {
  const socket = ioClient(url + namespace, { transports: ["websocket"], reconnection: false, forceNew: true, auth });
  const disconnects: string[] = [];
  socket.on("disconnect", (reason) => disconnects.push(reason));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${url}${namespace} within 5 s`)), 5000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(new Error(`connect_error from ${url}${namespace}: ${err.message}`));
    });
  });
  return { socket, disconnects };
}

/** How a connection attempt to `url` + `namespace` ended: "connect" or the connect_error's message. */
export function attemptOf(url: string, namespace: string, auth: object): Promise<string> {
  const socket = ioClient(url + namespace, { transports: ["websocket"], reconnection: false, forceNew: true, auth });
  return new Promise<string>((resolve) => {
    const done = (outcome: string): void => {
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => done("neither connect nor connect_error within 5 s"), 5000);
    socket.once("connect", () => done("connect"));
    socket.once("connect_error", (err) => done(err.message));
  });
}

/**
 * Blocks every request of `context` that leaves 127.0.0.1 (http(s) and WebSocket) and records it:
 * the returned list must stay empty.
 */
export async function onlyLoopback(context: BrowserContext): Promise<string[]> {
  const outside: string[] = [];
  const away = (url: URL): boolean => url.hostname !== "127.0.0.1";
  await context.route(away, (route) => {
    outside.push(route.request().url());
    return route.abort();
  });
  await context.routeWebSocket(away, (ws) => {
    outside.push(ws.url());
    return ws.close();
  });
  return outside;
}

/** Logs in to the editor's login dialog (Node-RED's adminAuth) and waits for the flow, with config node `id`. */
export async function editorLogin(page: Page, url: string, id: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.locator("#node-dialog-login-username").waitFor({ timeout: 20_000 });
  await page.fill("#node-dialog-login-username", "admin");
  await page.fill("#node-dialog-login-password", PASSWORD);
  await page.click("#node-dialog-login-submit");
  await page.waitForFunction(
    (id) =>
      (window as unknown as { RED?: { nodes?: { node?(id: string): unknown } } }).RED?.nodes?.node?.(id) &&
      document.querySelector("#red-ui-workspace-chart svg"),
    id,
    { timeout: 20_000 },
  );
}

/** The Admin UI's Connection dialog. */
export const uiDialog = (ui: Page) => ui.locator(".v-dialog--active");

/** Fills in the Admin UI's login dialog and presses Connect. */
export async function uiLogin(ui: Page, username: string, password: string): Promise<void> {
  const dialog = uiDialog(ui);
  await dialog.getByLabel("Username").fill(username);
  await dialog.getByLabel("Password").fill(password);
  await dialog.getByRole("button", { name: /connect/i }).click();
}

/** The values of the Admin UI's login form, by label. */
export function uiForm(ui: Page): Promise<Record<string, string>> {
  return uiDialog(ui).evaluate((dialog) => {
    const form: Record<string, string> = {};
    for (const input of Array.from(dialog.querySelectorAll("input"))) {
      const label = input.id ? dialog.querySelector(`label[for="${input.id}"]`)?.textContent?.trim() : undefined;
      const key = label || input.getAttribute("aria-label") || input.name || input.type;
      form[key] = input.type === "checkbox" ? String(input.checked) : input.value;
    }
    return form;
  });
}

/**
 * Counts the admin namespace's refusals ("invalid credentials" connect_error packets) that reach
 * `page`, over long-polling or WebSocket: the UI keeps showing the last one, so a new attempt shows
 * as a new packet.
 */
export function countRefusals(page: Page): { readonly count: number } {
  const seen = { count: 0 };
  const check = (text: string): void => {
    if (text.includes("invalid credentials")) seen.count++;
  };
  page.on("response", (res) => {
    if (res.url().includes("/socket.io/?")) res.text().then(check, () => undefined);
  });
  page.on("websocket", (ws) => ws.on("framereceived", (frame) => check(String(frame.payload))));
  return seen;
}
