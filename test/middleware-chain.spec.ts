// The core middleware chain, without Node-RED. One feature's cases (the chain of start nodes on a
// namespace); they share the fake steps below.
import { strict as assert } from "node:assert";
import { DeployGate } from "../src/nodes/core/deploy-gate";
import {
  MiddlewareChain,
  RefusedError,
  type MiddlewareStep,
  type NextFn,
  type NextResult,
} from "../src/nodes/core/middleware-chain";
import type { SocketHandle } from "../src/nodes/core/socket-handle";
import { settled, sleep, until } from "./helpers";

/** The chain treats a socket as opaque: a tagged object is enough. */
const fakeSocket = (id = "sock-1"): SocketHandle => ({ id }) as unknown as SocketHandle;

interface FakeStep extends MiddlewareStep {
  /** How many times run() was called. */
  runs: number;
  /** The `next` of each run, in order. */
  nexts: NextFn[];
  /** The sockets timedOut() was called with. */
  timeouts: SocketHandle[];
}

/** A step that calls `decide(next)` when it runs; without `decide` it never answers. */
function step(id: string, order: number, decide?: (next: NextFn) => void, timeoutMs = 2000): FakeStep {
  const s: FakeStep = {
    id,
    order,
    timeoutMs,
    runs: 0,
    nexts: [],
    timeouts: [],
    run(_socket, next) {
      s.runs++;
      s.nexts.push(next);
      decide?.(next);
    },
    timedOut(socket) {
      s.timeouts.push(socket);
    },
  };
  return s;
}

const admit = (next: NextFn): void => void next();

describe("middleware chain (core)", function () {
  it("runs steps in ascending order, ties broken by id, whatever order they were added in", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    const ran: string[] = [];
    const recording = (id: string, order: number): FakeStep =>
      step(id, order, (next) => {
        ran.push(id);
        next();
      });
    chain.add(recording("late", 5));
    chain.add(recording("b", 1));
    chain.add(recording("first", -2));
    chain.add(recording("a", 1));
    chain.add(recording("c", 1));
    assert.equal(await chain.run(fakeSocket()), undefined);
    assert.deepEqual(ran, ["first", "a", "b", "c", "late"]);
  });

  it("hands every step the same socket object", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    const seen: SocketHandle[] = [];
    for (const id of ["x", "y"]) {
      chain.add({
        id,
        order: 0,
        timeoutMs: 1000,
        run: (socket, next) => (seen.push(socket), void next()),
        timedOut: () => undefined,
      });
    }
    const socket = fakeSocket();
    await chain.run(socket);
    assert.equal(seen.length, 2);
    assert.ok(seen.every((s) => s === socket));
  });

  it("add returns a remover: a removed step is no longer run", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    const keep = step("keep", 1, admit);
    const gone = step("gone", 0, (next) => void next(new Error("should not run")));
    chain.add(keep);
    const remove = chain.add(gone);
    assert.equal(chain.size, 2);
    remove();
    assert.equal(chain.size, 1);
    remove(); // a second call changes nothing
    assert.equal(chain.size, 1);
    assert.equal(await chain.run(fakeSocket()), undefined);
    assert.equal(gone.runs, 0);
    assert.equal(keep.runs, 1);
  });

  it("a step removed while a connection waits on it restarts the connection with the steps now in force", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    const before = step("before", 0, admit);
    const waiting = step("waiting", 1); // never answers
    chain.add(before);
    const removeWaiting = chain.add(waiting);
    const result = chain.run(fakeSocket());
    await until(() => waiting.runs === 1, 1000, "the waiting step to run");

    const replacement = step("replacement", 1, (next) => void next(new RefusedError("replaced says no", { v: 2 })));
    removeWaiting();
    chain.add(replacement);

    const refusal = await result;
    assert.ok(refusal instanceof RefusedError);
    assert.equal(refusal.message, "replaced says no");
    assert.deepEqual(refusal.data, { v: 2 });
    assert.equal(before.runs, 2, "the chain starts over from the first step");
    assert.equal(waiting.runs, 1);
    assert.equal(replacement.runs, 1);
    // The old flow answering late changes nothing.
    assert.equal(waiting.nexts[0](), "already-answered");
    assert.deepEqual(waiting.timeouts, []);
  });

  it("a connection whose steps keep being replaced is refused, not looped forever", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    let remove = chain.add(step("s0", 0));
    const result = chain.run(fakeSocket());
    let replaced = 0;
    while (!(await settled(result))) {
      assert.ok(replaced < 20, "the chain kept restarting");
      remove();
      remove = chain.add(step(`s${++replaced}`, 0));
    }
    const refusal = await result;
    assert.ok(refusal instanceof RefusedError);
    assert.match(refusal.message, /redeployed/);
  });

  it("a step that does not answer in time refuses, and its timedOut is called once with the socket", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    const slow = step("slow", 0, undefined, 50);
    const after = step("after", 1, admit);
    chain.add(slow);
    chain.add(after);
    const socket = fakeSocket();
    const started = Date.now();
    const refusal = await chain.run(socket);
    assert.ok(Date.now() - started >= 45, "refused before the timeout");
    assert.ok(refusal instanceof RefusedError);
    assert.match(refusal.message, /did not decide in time/);
    await sleep(100);
    assert.equal(slow.timeouts.length, 1);
    assert.equal(slow.timeouts[0], socket);
    assert.equal(after.runs, 0, "a refused connection never reaches later steps");
  });

  it("next acts once: a second call reports already-answered and changes nothing", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    const results: NextResult[] = [];
    chain.add(step("twice", 0, (next) => results.push(next(), next(new Error("too late")), next())));
    assert.equal(await chain.run(fakeSocket()), undefined);
    assert.deepEqual(results, ["admitted", "already-answered", "already-answered"]);

    const refusing = new MiddlewareChain(new DeployGate());
    const refusals: NextResult[] = [];
    refusing.add(step("no", 0, (next) => refusals.push(next(new RefusedError("no", { code: 7 })), next())));
    const refusal = await refusing.run(fakeSocket());
    assert.deepEqual(refusals, ["refused", "already-answered"]);
    assert.ok(refusal instanceof RefusedError);
    assert.equal(refusal.message, "no");
    assert.deepEqual(refusal.data, { code: 7 });
  });

  it("next after the timeout reports timed-out and does not admit", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    const slow = step("slow", 0, undefined, 30);
    chain.add(slow);
    const refusal = await chain.run(fakeSocket());
    assert.ok(refusal instanceof RefusedError);
    assert.equal(slow.nexts[0](), "timed-out");
    assert.equal(slow.nexts[0](new Error("x")), "timed-out");
    assert.equal(slow.timeouts.length, 1);
  });

  it("an error thrown by a step refuses with its message and data, and later steps do not run", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    chain.add(
      step("thrower", 0, () => {
        throw Object.assign(new Error("boom"), { data: { why: "broken" } });
      }),
    );
    const after = step("after", 1, admit);
    chain.add(after);
    const refusal = await chain.run(fakeSocket());
    assert.ok(refusal instanceof RefusedError);
    assert.equal(refusal.message, "boom");
    assert.deepEqual(refusal.data, { why: "broken" });
    assert.equal(after.runs, 0);
  });

  it("a step that throws after calling next keeps the decision it made", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    chain.add(
      step("admit-then-throw", 0, (next) => {
        next();
        throw new Error("after the fact");
      }),
    );
    assert.equal(await chain.run(fakeSocket()), undefined);
  });

  it("a plain Error without a message refuses as unauthorized", async function () {
    const chain = new MiddlewareChain(new DeployGate());
    chain.add(step("bare", 0, (next) => void next(new Error(""))));
    const refusal = await chain.run(fakeSocket());
    assert.ok(refusal instanceof RefusedError);
    assert.equal(refusal.message, "unauthorized");
  });

  it("while the deploy gate is closed a connection waits, then runs the steps in force when it opens", async function () {
    const gate = new DeployGate();
    const chain = new MiddlewareChain(gate);
    const old = step("old", 0, admit);
    const removeOld = chain.add(old);
    gate.close();
    const result = chain.run(fakeSocket());
    assert.equal(await settled(result), false, "decided while the gate was closed");
    removeOld();
    const fresh = step("fresh", 0, (next) => void next(new Error("new flow refuses")));
    chain.add(fresh);
    gate.open();
    const refusal = await result;
    assert.equal(refusal?.message, "new flow refuses");
    assert.equal(old.runs, 0);
    assert.equal(fresh.runs, 1);
  });

  it("a gate that does not open within deployWaitMs refuses without running any step", async function () {
    const gate = new DeployGate();
    const chain = new MiddlewareChain(gate, 50);
    const s = step("s", 0, admit);
    chain.add(s);
    gate.close();
    const started = Date.now();
    const refusal = await chain.run(fakeSocket());
    assert.ok(Date.now() - started >= 45, "refused before deployWaitMs");
    assert.ok(refusal instanceof RefusedError);
    assert.match(refusal.message, /redeployed/);
    assert.equal(s.runs, 0);
  });
});
