import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { DeployGate } from "../src/nodes/core/deploy-gate";
import { settled } from "./helpers";

describe("deploy gate (core)", function () {
  it("waitOpen resolves true at once when open, and true when it opens later", async function () {
    const gate = new DeployGate();
    assert.equal(gate.isOpen, true);
    assert.equal(await gate.waitOpen(10), true);
    gate.close();
    assert.equal(gate.isOpen, false);
    const waiting = gate.waitOpen(1000);
    assert.equal(await settled(waiting), false);
    gate.open();
    assert.equal(await waiting, true);
  });

  it("waitOpen resolves false when the gate stays closed for ms", async function () {
    const gate = new DeployGate();
    gate.close();
    const started = Date.now();
    assert.equal(await gate.waitOpen(40), false);
    assert.ok(Date.now() - started >= 35, "gave up before ms");
  });

  it("whenOpen runs at once when open and in order once it opens", function () {
    const gate = new DeployGate();
    const ran: number[] = [];
    gate.whenOpen(() => ran.push(0));
    gate.close();
    gate.whenOpen(() => ran.push(1));
    gate.whenOpen(() => ran.push(2));
    assert.deepEqual(ran, [0]);
    gate.open();
    assert.deepEqual(ran, [0, 1, 2]);
    gate.close();
    gate.open();
    assert.deepEqual(ran, [0, 1, 2], "a waiter runs only once");
  });

  it("a pending waitOpen does not keep the process alive", async function () {
    this.timeout(10_000);
    const script = `
      const { DeployGate } = require(${JSON.stringify(require.resolve("../src/nodes/core/deploy-gate"))});
      const gate = new DeployGate();
      gate.close();
      gate.waitOpen(60000).then((v) => { console.log("resolved", v); process.exitCode = 3; });
      console.log("waiting");
    `;
    // tsx loads the TypeScript source, as it does for the tests.
    const child = spawn(process.execPath, ["--require", require.resolve("tsx/cjs"), "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error("the process was kept alive by the gate's timer"));
      }, 5000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(out.trim(), "waiting");
    assert.equal(code, 0);
  });
});
