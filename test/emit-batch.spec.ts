import { strict as assert } from "node:assert";
import { inBatch } from "../src/nodes/core/emit-batch";

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("emit batch (core)", function () {
  it("runs the first job of a turn at once and the ones after it together in the next turn, in order", async function () {
    const ran: string[] = [];
    inBatch(() => ran.push("a"));
    assert.deepEqual(ran, ["a"], "a lone job waits for no turn");
    inBatch(() => ran.push("b"));
    inBatch(() => ran.push("c"));
    assert.deepEqual(ran, ["a"], "the jobs after it wait for the batch");
    await nextTurn();
    assert.deepEqual(ran, ["a", "b", "c"]);
    // The batch has run: the next job is again the first of its turn.
    inBatch(() => ran.push("d"));
    assert.deepEqual(ran, ["a", "b", "c", "d"]);
    await nextTurn();
  });

  it("a job that throws stops neither the batch nor the next first job", async function () {
    const ran: string[] = [];
    inBatch(() => {
      throw new Error("first");
    });
    inBatch(() => {
      throw new Error("second");
    });
    inBatch(() => ran.push("third"));
    await nextTurn();
    assert.deepEqual(ran, ["third"]);
    inBatch(() => ran.push("fourth"));
    assert.deepEqual(ran, ["third", "fourth"]);
    await nextTurn();
  });
});
