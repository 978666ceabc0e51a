import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { onTab, serverConfig, type FlowNode } from "./flow-fixtures";
import { closeClients, connected, freePort, next, until } from "./helpers";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";
import { waitListening } from "./ports";
import { needsPythonSocketio, PYTHON, PYTHON_DIR } from "./python-kit";
import {
  chatNodes,
  closeV2Clients,
  gateNodes,
  greetNodes,
  REFUSAL,
  TOKEN,
  v2Attempt,
  v2Client,
  v2Connected,
} from "./v2-client-kit";

// Socket.IO v2 clients against a real node-red process with the package installed: the setting
// deployed off and then on, a middleware flow that reads the token from the query string, and an
// event answered back; a v2 client and Debian's python-socketio (/usr/bin/python3,
// test/python/chat_client.py) chatting through it.

/** A server on `ioPort` whose "/" admits the query token and answers "hello" with "greeting". */
function deviceFlow(ioPort: number, allowEIO3: boolean): FlowNode[] {
  return [serverConfig(ioPort, { name: "devices", allowEIO3 }), ...onTab("devices", [...gateNodes(), ...greetNodes()])];
}

/** The lines of the node-red log after `from` that report an error or a warning. */
const problemsIn = (red: NodeRedProcess, from: number): string[] =>
  red
    .output()
    .slice(from)
    .split("\n")
    .filter((line) => /\[(error|warn)\]/.test(line));

/** A server on `ioPort` with Accept Socket.IO v2 clients ticked, whose "chat" goes to every client in "/". */
const chatFlow = (ioPort: number): FlowNode[] => [
  serverConfig(ioPort, { name: "chat", allowEIO3: true }),
  ...onTab("chat", chatNodes()),
];

/** One JSON line of test/python/chat_client.py. */
interface ChatLine {
  connected?: boolean;
  sid?: string;
  transport?: string;
  error?: string;
  connect_error?: unknown;
  event?: string;
  args?: unknown[];
  disconnected?: boolean;
  timeout?: boolean;
}

/** A running test/python/chat_client.py: what it printed, a line to say, and its end. */
interface PythonChat {
  child: ChildProcess;
  lines: ChatLine[];
  /** Sends `text` as a "chat" event. */
  say(text: string): void;
  /** Ends its stdin (it disconnects) and resolves with its exit code, or kills it after 5 s. */
  end(): Promise<number | null>;
  /** What it printed and its stderr, for a failure's message. */
  transcript(): string;
}

/** Starts test/python/chat_client.py on `config`; killed after 15 s at the latest, or in `afterEach`. */
function pythonChat(config: Record<string, unknown>, children: Set<ChildProcess>): PythonChat {
  const child = spawn(PYTHON, ["chat_client.py", JSON.stringify(config)], {
    cwd: PYTHON_DIR,
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  const lines: ChatLine[] = [];
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    const whole = stdout.split("\n");
    stdout = whole.pop()!;
    for (const line of whole) if (line.trim()) lines.push(JSON.parse(line) as ChatLine);
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return {
    child,
    lines,
    say: (text) => child.stdin!.write(`${text}\n`),
    end: () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      return exited.finally(() => clearTimeout(timer));
    },
    transcript: () => `chat_client.py printed ${JSON.stringify(lines)}; stderr: ${stderr}`,
  };
}

describe("Socket.IO v2 clients in a real node-red process", function () {
  this.timeout(60_000);
  let red: NodeRedProcess | undefined;
  const children = new Set<ChildProcess>();

  afterEach(async function () {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    children.clear();
    closeV2Clients();
    closeClients();
    if (red) await red.stop();
    red = undefined;
  });

  it("are refused until Accept Socket.IO v2 clients is deployed ticked; then one with its query token is answered, one without is refused", async function () {
    red = await startNodeRed({ port: await freePort() });
    const ioPort = await freePort();
    const url = `http://127.0.0.1:${ioPort}`;
    const logFrom = red.output().length;

    await red.deploy(deviceFlow(ioPort, false));
    await waitListening(ioPort);
    const off = await v2Attempt(v2Client(url, { query: { token: TOKEN } }));
    assert.equal(off.admitted || off.event, "connect_error", "a v2 client before the setting is ticked");
    // A v4 client with the token in the query string is admitted meanwhile.
    await connected(url, { query: { token: TOKEN } });

    // Changing the setting restarts the server on the same port.
    const listening = (): number => red!.output().split(`listening on port ${ioPort}`).length - 1;
    const before = listening();
    await red.deploy(deviceFlow(ioPort, true));
    await until(() => listening() > before, 5000, "the server to listen again");
    for (const transport of ["websocket", "polling"] as const) {
      const c = await v2Connected(url, { query: { token: TOKEN }, transports: [transport] }, 5000);
      const greeting = next(c, "greeting");
      c.emit("hello", `esp32 on ${transport}`);
      assert.equal(await greeting, `esp32 on ${transport}`);
    }
    const refused = await v2Attempt(v2Client(url, { query: { token: "wrong" } }));
    assert.deepEqual(refused, { admitted: false, event: "error", detail: REFUSAL });

    assert.deepEqual(problemsIn(red, logFrom), [], red.output().slice(logFrom));
  });

  it("a v2 client and a python-socketio client chat through a real node-red, both over WebSocket and both over polling: each line reaches both, its sender too", async function () {
    needsPythonSocketio(this, "the python-socketio chat");
    red = await startNodeRed({ port: await freePort() });
    const ioPort = await freePort();
    const url = `http://127.0.0.1:${ioPort}`;
    const logFrom = red.output().length;
    await red.deploy(chatFlow(ioPort));
    await waitListening(ioPort);

    for (const transport of ["websocket", "polling"] as const) {
      const python = pythonChat({ url, transports: [transport] }, children);
      /** Waits for `check` on python's lines; on a timeout, says what it printed. */
      const pythonGot = (check: (lines: ChatLine[]) => boolean, what: string) =>
        until(() => check(python.lines), 5000, `python over ${transport}: ${what}`).catch((err: Error) => {
          throw new Error(`${err.message}; ${python.transcript()}`);
        });
      await pythonGot((lines) => lines.some((l) => "connected" in l || l.timeout), "connected");
      const [hello] = python.lines;
      assert.deepEqual(
        { ...hello, sid: typeof hello.sid },
        { connected: true, sid: "string", transport },
        python.transcript(),
      );

      const v2 = await v2Connected(url, { transports: [transport] }, 5000).catch((err: Error) => {
        throw new Error(`the v2 client over ${transport}: ${err.message}`);
      });
      const v2Heard: unknown[] = [];
      v2.on("chat", (...args: never[]) => v2Heard.push(args));
      const chats = (lines: ChatLine[]) => lines.filter((l) => "event" in l);
      const v2Got = (count: number, what: string) =>
        until(() => v2Heard.length >= count, 5000, `the v2 client over ${transport}: ${what}`).catch((err: Error) => {
          throw new Error(`${err.message}; it heard ${JSON.stringify(v2Heard)}; ${python.transcript()}`);
        });

      const fromV2 = `v2 over ${transport}: héllo 🌱`;
      v2.emit("chat", fromV2);
      await v2Got(1, "its own line");
      await pythonGot((lines) => chats(lines).length >= 1, "the v2 client's line");
      const fromPython = `python over ${transport}: grüß dich 🐍`;
      python.say(fromPython);
      await pythonGot((lines) => chats(lines).length >= 2, "its own line");
      await v2Got(2, "python's line");

      const code = await python.end();
      assert.equal(code, 0, python.transcript());
      assert.deepEqual(
        python.lines.slice(1),
        [{ event: "chat", args: [fromV2] }, { event: "chat", args: [fromPython] }, { disconnected: true }],
        python.transcript(),
      );
      assert.deepEqual(v2Heard, [[fromV2], [fromPython]], `the v2 client over ${transport}`);
      assert.equal(v2.io.engine.transport.name, transport);
      v2.close();
    }
    assert.deepEqual(problemsIn(red, logFrom), [], red.output().slice(logFrom));
  });
});
