import { strict as assert } from "node:assert";
import { emitHarness, payloads } from "./emit-harness";
import { collect, everRed, sleep, socketOf, statusesOf, until } from "./helpers";

describe("socket-io-emit: acknowledgements and clients that have left", function () {
  const { member, input, departed } = emitHarness();

  describe("acknowledgements", function () {
    it("sends on the answer of the one socket it waited for", async function () {
      const answers = collect("answers");
      const a = await member();
      a.c.on("q", (n: number, answer: (x: unknown) => void) => answer(n * 2));
      a.c.emit("ask", 21);
      await until(() => answers.length === 1, 3000, "the answer");
      assert.equal(answers[0].payload, 42);
      assert.equal(answers[0].socketId, a.c.id);
    });

    it("sends on the answers of every client of a room as an array", async function () {
      const answers = collect("answers");
      const members = [await member(["r"]), await member(["r"]), await member(["r"]), await member()];
      members.forEach((m, i) => m.c.on("q", (_q: unknown, answer: (x: unknown) => void) => answer(`client-${i}`)));
      input("ask-room", { payload: "who is there?" });
      await until(() => answers.length === 1, 3000, "the answers");
      assert.deepEqual([...(answers[0].payload as string[])].sort(), ["client-0", "client-1", "client-2"]);
    });

    it("on timeout reports an error carrying the msg to a Catch node and sends nothing", async function () {
      const answers = collect("answers");
      const caught = collect("caught");
      await member(); // connected, but never answers "q"
      const msg: Record<string, unknown> = { payload: "anyone?", topic: "t" };
      input("ask-slow", msg);
      await until(() => caught.length === 1, 3000, "the Catch node");
      assert.equal(caught[0]._msgid, msg._msgid);
      assert.equal(caught[0].payload, "anyone?");
      assert.equal(caught[0].topic, "t");
      assert.equal(caught[0].error.source.id, "ask-slow");
      assert.match(caught[0].error.message, /^core\.emit\.clients?AckTimeout \{"event":"q","ms":300\}$/);
      // The status says it briefly; the Catch node has the whole sentence.
      const status = statusesOf("ask-slow").at(-1);
      assert.equal(status?.fill, "red");
      assert.match(String(status?.text), /socket-io-server\.status\.timedOut$/);
      await sleep(250);
      assert.equal(answers.length, 0);
    });

    it("without waiting has no output and completes the msg", async function () {
      const answers = collect("answers");
      const completed = collect("completed");
      const a = await member();
      const msg: Record<string, unknown> = { payload: "fire and forget" };
      input("plain", msg);
      await until(() => completed.length === 1, 3000, "the Complete node");
      assert.equal(completed[0]._msgid, msg._msgid);
      await until(() => payloads(a).length === 1, 3000, "the emit");
      await sleep(250);
      assert.equal(answers.length, 0);
    });

    it('target "ack" answers the client with msg.payload, or with the items of msg.args', async function () {
      const asked = collect("asked");
      const a = await member();
      const answers: unknown[][] = [];
      a.c.emit("reply-me", "q1", (...args: unknown[]) => answers.push(args));
      a.c.emit("reply-me", "q2", (...args: unknown[]) => answers.push(args));
      await until(() => asked.length === 2, 3000, "both questions");
      input("ack", { ack: asked[0].ack, payload: { answer: 1 } });
      input("ack", { ack: asked[1].ack, args: ["two", 2] });
      await until(() => answers.length === 2, 3000, "both answers");
      assert.deepEqual(answers, [[{ answer: 1 }], ["two", 2]]);
    });

    it("a second answer to the same msg.ack (a cloned msg) is reported as an error, and the client gets one answer", async function () {
      const caught = collect("caught");
      const a = await member();
      const answers: unknown[] = [];
      a.c.emit("twice", "echo", (answer: unknown) => answers.push(answer));
      await until(() => caught.length === 1, 3000, "the error of the second answer");
      assert.equal(caught[0].error.message, "core.emit.ackAnswered");
      assert.ok(["ack-1", "ack-2"].includes(caught[0].error.source.id));
      await until(() => answers.length === 1, 3000, "the answer");
      await sleep(250);
      assert.deepEqual(answers, ["echo"]);
      assert.equal(caught.length, 1);
    });
  });

  describe("a client that has left (a page reload)", function () {
    it('an emit to it ("socket", with or without waiting for an answer) is nothing to do: the msg completes, no error, no output', async function () {
      const [conns, caught, answers, completed] = [
        collect("conns"),
        collect("caught"),
        collect("answers"),
        collect("completed"),
      ];
      const socket = await departed(conns);
      const msgs: Array<Record<string, unknown>> = [
        { socket, payload: "late" },
        { socket, payload: "late question" },
      ];
      input("to-socket", msgs[0]);
      input("ask-one", msgs[1]);
      await until(() => completed.length === 2, 3000, "both msgs to complete");
      assert.deepEqual(completed.map((m) => m._msgid).sort(), msgs.map((m) => m._msgid).sort());
      assert.deepEqual(caught, []);
      assert.deepEqual(answers, []);
      for (const id of ["to-socket", "ask-one"]) assert.ok(!everRed(id), `${id} status`);
    });

    it("a client that leaves while the flow waits for its answer ends the msg without an error when the wait is over", async function () {
      const [conns, caught, answers, completed] = [
        collect("conns"),
        collect("caught"),
        collect("answers"),
        collect("completed"),
      ];
      const m = await member();
      const socket = await socketOf(conns, m.c);
      // It gets the question, and leaves without answering.
      m.c.on("q", () => m.c.disconnect());
      const msg: Record<string, unknown> = { socket, payload: "still there?" };
      input("ask-leaver", msg);
      await until(() => completed.length === 1, 3000, "the msg to complete");
      assert.equal(completed[0]._msgid, msg._msgid);
      assert.deepEqual(caught, []);
      assert.deepEqual(answers, []);
    });

    it("a client that stays and does not answer is still reported (the wait timed out)", async function () {
      const [conns, caught, completed] = [collect("conns"), collect("caught"), collect("completed")];
      const m = await member();
      const socket = await socketOf(conns, m.c);
      input("ask-leaver", { socket, payload: "still there?" });
      await until(() => caught.length === 1, 3000, "the Catch node");
      assert.equal(caught[0].error.message, 'core.emit.clientAckTimeout {"event":"q","ms":300}');
      assert.deepEqual(completed, []);
    });
  });
});
