import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { underCi } from "./redis-ping";

/** Debian's python3, which has python-socketio (apt-get install python3-socketio). */
export const PYTHON = "/usr/bin/python3";
/** The python clients of the tests. */
export const PYTHON_DIR = join(__dirname, "python");

let warned = false;

/**
 * Skips `test` (fails it under CI) when /usr/bin/python3 has no python-socketio with its sync
 * transports; `what` names the tests in the message.
 */
export function needsPythonSocketio(test: Mocha.Context, what: string): void {
  const check = spawnSync(PYTHON, ["-c", "import socketio, requests, websocket"], { timeout: 10_000 });
  if (check.status === 0) return;
  const missing = `${PYTHON} cannot import socketio, requests and websocket (apt-get install python3-socketio python3-requests python3-websocket)`;
  if (underCi()) throw new Error(`${what} must run under CI, but ${missing}`);
  if (!warned) {
    warned = true;
    console.log(`\n  !!!!! SKIPPING ${what.toUpperCase()}: ${missing}. Under CI=true they fail instead. !!!!!\n`);
  }
  test.skip();
}
