// Devices (examples/06-devices.json, docs/devices.md) in a real node-red process with every example
// deployed: Debian's python-socketio (/usr/bin/python3, test/python/) and a Socket.IO v2 client
// (EIO=3, the protocol of the ESP32's arduinoWebSockets) connect with their token and id in the query
// string, send telemetry with an acknowledgement, get commands through rooms, and are refused with
// the middleware flow's reason. One Node-RED for all of them: starting one per case would double the time.
// One feature's cases (the device example end to end), hence over 250 lines.
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import ioV2, { type V2Options, type V2Socket } from "socket.io-client-v2";
import { exampleFlows } from "../demo/start";
import type { FlowNode } from "./flow-fixtures";
import { freePort, next, sleep, until } from "./helpers";
import { get } from "./http-get";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";
import { needsPythonSocketio, PYTHON, PYTHON_DIR } from "./python-kit";

const TOKEN = "device-secret";
const LISTENING = "socket.io listening on Node-RED's HTTP server at /devices/socket.io\n";
/** What the middleware flow answers a client without a token. */
const NO_TOKEN = "no token: connect with ?token=...&id=...";

/** One JSON line of test/python/device_probe.py. */
interface ProbeLine {
  connected?: boolean;
  error?: string;
  connect_error?: unknown;
  ready?: boolean;
  welcome?: unknown;
  ack?: unknown;
  transport?: string;
  done?: boolean;
  commands?: unknown[];
}

/** What one python device reported: each step's line (absent when it did not get there). */
interface ProbeResult {
  connected: ProbeLine;
  ready?: ProbeLine;
  done?: ProbeLine;
}

/** The id of the one node of `type` named `name`. */
function idOf(flow: FlowNode[], type: string, name: string): string {
  const found = flow.filter((n) => n.type === type && n.name === name);
  assert.equal(found.length, 1, `one ${type} named "${name}"`);
  return found[0].id;
}

/** Sorted by their JSON: two commands sent one after the other may arrive in either order. */
const sorted = (list: unknown[] = []): unknown[] =>
  [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe("devices: python-socketio and a Socket.IO v2 client on the device example, in a real node-red", function () {
  this.timeout(60_000);
  before(function () {
    needsPythonSocketio(this, "the device tests");
  });
  const flow = exampleFlows() as FlowNode[];
  const toEsp32 = idOf(flow, "inject", "command to esp32-1");
  const toAll = idOf(flow, "inject", "command to every device");
  let red: NodeRedProcess;
  /** The log's length before the examples were deployed: what came after is checked for problems. */
  let deployedAt = 0;
  const children = new Set<ChildProcess>();
  const v2Clients = new Set<V2Socket>();

  before(async function () {
    red = await startNodeRed({ port: await freePort(), settings: { telemetry: { enabled: false } } });
    deployedAt = red.output().length;
    await red.deploy(flow);
    await until(() => red.output().includes(LISTENING), 10_000, "the device server's listening line");
  });
  after(async function () {
    await red?.stop();
  });
  afterEach(function () {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    children.clear();
    for (const socket of v2Clients) socket.close();
    v2Clients.clear();
  });

  /** Presses an inject button, as the editor does (POST /inject/<id>). */
  function press(id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${red.url}/inject/${id}`, { method: "POST", agent: false }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve();
        else reject(new Error(`POST /inject/${id}: ${res.statusCode}`));
      });
      req.setTimeout(3000, () => req.destroy(new Error(`no answer to POST /inject/${id} within 3 s`)));
      req.on("error", reject);
      req.end();
    });
  }

  /** Spawns a python script of test/python; its stdout lines go to `onLine`; ends it after `ms`. */
  function python(
    args: string[],
    env: Record<string, string>,
    onLine: (line: string) => void,
    ms = 20_000,
  ): { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; stderr: string }> } {
    const child = spawn(PYTHON, args, {
      cwd: PYTHON_DIR,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const lines = stdout.split("\n");
      stdout = lines.pop()!;
      for (const line of lines) if (line.trim()) onLine(line);
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
    return { child, stderr: () => stderr, exited };
  }

  /**
   * One python device (test/python/device_probe.py) on the example: `ready` once it is welcomed and
   * its telemetry acknowledged (or refused), `result` once it has finished.
   */
  function probe(config: Record<string, unknown>): { ready: Promise<void>; result: Promise<ProbeResult> } {
    const lines: ProbeLine[] = [];
    let isReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (isReady = resolve));
    const { exited } = python(["device_probe.py", JSON.stringify({ url: red.url, ...config })], {}, (text) => {
      const line = JSON.parse(text) as ProbeLine;
      lines.push(line);
      if (line.ready || line.connected === false) isReady();
    });
    const result = exited.then(({ code, stderr }) => {
      isReady();
      const find = (key: keyof ProbeLine) => lines.find((l) => key in l);
      const connected = find("connected");
      assert.ok(code === 0 && connected, `device_probe.py exited with ${code}: ${stderr}\n${JSON.stringify(lines)}`);
      return { connected, ready: find("ready"), done: find("done") };
    });
    result.catch(() => {}); // awaited by the test, perhaps after other awaits: not an unhandled rejection
    return { ready, result };
  }

  /** A device with the right token, `id` and these options, that expects `expect` commands. */
  const device = (id: string, options: Record<string, unknown> = {}) =>
    probe({ query: { token: TOKEN, id }, expect: 0, ...options });

  it("the examples deploy together, the device server beside the shared one, with no error or warning", async function () {
    assert.ok(red.output().includes("socket.io listening on Node-RED's HTTP server at /socket.io\n"), red.output());
    await sleep(300);
    const problems = red
      .output()
      .slice(deployedAt)
      .split("\n")
      .filter((line) => /\[(error|warn)\]/.test(line));
    assert.deepEqual(problems, []);
  });

  it("an EIO=3 (Socket.IO v2) handshake gets 400 Unsupported protocol version from the shared server, whose v2 setting is off, and opens a session on the device server", async function () {
    const refused = await get(`${red.url}/socket.io/?EIO=3&transport=polling`);
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.body), { code: 5, message: "Unsupported protocol version" });
    const opened = await get(`${red.url}/devices/socket.io/?EIO=3&transport=polling&token=${TOKEN}&id=esp32-9`);
    assert.equal(opened.status, 200, opened.body);
    // Engine.IO 3 frames its packets "<length>:<packet>"; the open packet carries the session id.
    assert.match(opened.body, /^\d+:0\{"sid":"[^"]+"/);
  });

  it("python-socketio over WebSocket only (Origin file://, as an ESP32 sends) and over polling only: welcomed into their rooms, telemetry acknowledged, each gets the commands to its rooms and no other", async function () {
    const esp = device("esp32-1", { transports: ["websocket"], origin: "file://", expect: 2 });
    const other = device("esp32-2", { transports: ["polling"], expect: 1, grace: 0.5 });
    await Promise.all([esp.ready, other.ready]);
    await press(toEsp32);
    await press(toAll);
    const [a, b] = await Promise.all([esp.result, other.result]);

    assert.equal(a.connected.transport, "websocket");
    assert.deepEqual(a.ready?.welcome, { id: "esp32-1", rooms: ["devices", "device:esp32-1"] });
    assert.deepEqual(a.ready?.ack, { ok: true, device: "esp32-1" });
    assert.deepEqual(sorted(a.done?.commands), [{ blink: 3 }, { led: "on" }], "esp32-1's commands");

    assert.equal(b.connected.transport, "polling");
    assert.equal(b.done?.transport, "polling");
    assert.deepEqual(b.ready?.welcome, { id: "esp32-2", rooms: ["devices", "device:esp32-2"] });
    assert.deepEqual(b.ready?.ack, { ok: true, device: "esp32-2" });
    assert.deepEqual(b.done?.commands, [{ blink: 3 }], "esp32-2 gets the command to every device only");
  });

  it("python-socketio with its default transports and Origin file:// on both, as arduinoWebSockets connects: polling first, then an upgrade to WebSocket", async function () {
    const esp = device("esp32-1", { origin: "file://", expect: 1 });
    await esp.ready;
    await press(toEsp32);
    const { connected, ready, done } = await esp.result;
    assert.equal(connected.transport, "websocket", "upgraded within connect()");
    assert.deepEqual(ready?.ack, { ok: true, device: "esp32-1" });
    assert.deepEqual(done?.commands, [{ led: "on" }]);
  });

  it("a wrong token, no token and no id are refused: connect_error carries the flow's reason, python-socketio's ConnectionError only that the namespace failed", async function () {
    const tried = await Promise.all(
      [{ token: "guess", id: "esp32-1" }, { id: "esp32-1" }, { token: TOKEN }, { token: TOKEN, id: "no spaces" }].map(
        (query) => probe({ query, wait: 1 }).result,
      ),
    );
    assert.deepEqual(
      tried.map((t) => t.connected),
      [
        { message: "invalid token" },
        { message: NO_TOKEN },
        { message: "no id: connect with ?token=...&id=... (up to 40 letters, digits, _ . -)" },
        { message: "no id: connect with ?token=...&id=... (up to 40 letters, digits, _ . -)" },
      ].map((reason) => ({
        connected: false,
        error: "One or more namespaces failed to connect",
        connect_error: reason,
      })),
    );
  });

  it("origins: no Origin, file:// and null pass on WebSocket; another site's page is refused on both transports, and so is websocket-client's own Origin", async function () {
    const tried = await Promise.all(
      [
        { transports: ["websocket"], origin: null },
        { transports: ["websocket"], origin: "null" },
        { transports: ["polling"], origin: "file://" },
        { transports: ["polling"], origin: "https://evil.example" },
        { transports: ["websocket"], origin: "https://evil.example" },
        // python-socketio with transports=["websocket"] as docs/devices.md warns: Origin http://127.0.0.1:<port>
        { transports: ["websocket"], origin: "python" },
      ].map((options, i) => device(`probe-${i}`, options).result),
    );
    assert.deepEqual(
      tried.map((t) => t.connected.connected),
      [true, true, true, false, false, false],
    );
    assert.equal(tried[3].connected.error, "Unexpected status code 403 in server response");
    assert.equal(tried[4].connected.error, "Connection error");
    assert.equal(tried[5].connected.error, "Connection error");
  });

  it("the Python client of docs/devices.md, as written there, is welcomed, acknowledged and commanded", async function () {
    const source = readFileSync(join(PYTHON_DIR, "device_client.py"), "utf8");
    const docs = readFileSync(join(__dirname, "..", "docs", "devices.md"), "utf8");
    const shown = source.slice(source.indexOf('"""\n') + 4); // without its docstring
    assert.ok(docs.includes(shown), "docs/devices.md shows test/python/device_client.py");

    const lines: string[] = [];
    const run = python(["device_client.py"], { NODE_RED: red.url, DEVICE_ID: "esp32-1" }, (line) => lines.push(line));
    /** Waits for a line that starts with `start`; on a timeout, says what the client printed. */
    const printed = (start: string, ms: number) =>
      until(() => lines.some((l) => l.startsWith(start)), ms, `"${start}"`).catch((err: Error) => {
        throw new Error(`${err.message}; the client printed ${JSON.stringify(lines)}, stderr: ${run.stderr()}`);
      });
    await printed("ack: ", 10_000);
    await printed("welcome: ", 3000);
    await press(toEsp32);
    await printed("command: ", 5000);
    run.child.kill("SIGTERM");
    const { stderr } = await run.exited;
    // python-socketio runs each event's handler on a thread of its own: the order of the lines may vary.
    assert.ok(
      lines.some((l) => /^connected as \S+$/.test(l)),
      `${lines}\n${stderr}`,
    );
    assert.deepEqual(lines.filter((l) => !l.startsWith("connected as ")).sort(), [
      'ack: {"ok": true, "device": "esp32-1"}',
      'command: {"led": "on"}',
      'welcome: {"id": "esp32-1", "rooms": ["devices", "device:esp32-1"]}',
    ]);
  });

  /** A Socket.IO v2 client on the device server, closed after the test. */
  function v2(query: Record<string, string>, options: V2Options & { extraHeaders?: Record<string, string> } = {}) {
    const socket = ioV2(red.url, {
      path: "/devices/socket.io",
      query,
      reconnection: false,
      forceNew: true,
      ...options,
    });
    v2Clients.add(socket);
    return socket;
  }

  it("a Socket.IO v2 client (EIO=3, as arduinoWebSockets speaks) with its token in the query: over WebSocket with Origin file:// and over polling, welcomed, acknowledged and commanded", async function () {
    const esp = v2({ token: TOKEN, id: "esp32-1" }, { transports: ["websocket"], extraHeaders: { Origin: "file://" } });
    const other = v2({ token: TOKEN, id: "esp32-2" }, { transports: ["polling"] });
    const welcomes = [next(esp, "welcome", 5000), next(other, "welcome", 5000)];
    const commands: unknown[] = [];
    esp.on("command", (command: never) => commands.push(command));
    assert.deepEqual(await Promise.all(welcomes), [
      { id: "esp32-1", rooms: ["devices", "device:esp32-1"] },
      { id: "esp32-2", rooms: ["devices", "device:esp32-2"] },
    ]);
    assert.equal(esp.io.engine.transport.name, "websocket");
    assert.equal(other.io.engine.transport.name, "polling");
    const ack = (socket: V2Socket) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no ack within 3 s")), 3000);
        socket.emit("telemetry", { temperature: 21.5 }, (answer: unknown) => {
          clearTimeout(timer);
          resolve(answer);
        });
      });
    assert.deepEqual(await Promise.all([ack(esp), ack(other)]), [
      { ok: true, device: "esp32-1" },
      { ok: true, device: "esp32-2" },
    ]);
    await press(toEsp32);
    await until(() => commands.length === 1, 3000, "the command to esp32-1");
    assert.deepEqual(commands, [{ led: "on" }]);
  });

  it("a Socket.IO v2 client with a wrong or no token gets the flow's reason as its error event", async function () {
    const reasons = await Promise.all([
      next(v2({ token: "guess", id: "esp32-1" }, { transports: ["websocket"] }), "error", 5000),
      next(v2({ id: "esp32-1" }, { transports: ["polling"] }), "error", 5000),
    ]);
    assert.deepEqual(reasons, ["invalid token", NO_TOKEN]);
  });
});
