import { strict as assert } from "node:assert";
import { emitHarness, payloads } from "./emit-harness";
import { until } from "./helpers";

describe("socket-io-emit", function () {
  const { member, input, fence } = emitHarness();

  describe("targets", function () {
    it('"all" reaches every client of its namespace and none of another namespace', async function () {
      const [a, b] = [await member(), await member()];
      const other = await member([], "/other");
      input("all", { payload: "to-root" });
      await fence([a, b]);
      input("all-other", { payload: "to-other" });
      await fence([other], "fence-other");
      assert.deepEqual(payloads(a), ["to-root"]);
      assert.deepEqual(payloads(b), ["to-root"]);
      assert.deepEqual(payloads(other), ["to-other"]);
    });

    it('"rooms" takes the Rooms setting as a comma-separated list or a JSON array, leaving out the except rooms', async function () {
      const r1 = await member(["r1"]);
      const r2 = await member(["r2"]);
      const r3 = await member(["r3"]);
      const r1x = await member(["r1", "x"]);
      input("rooms-str", { payload: "r1+r2-x" });
      input("rooms-json", { payload: "r3" });
      await fence([r1, r2, r3, r1x]);
      assert.deepEqual(payloads(r1), ["r1+r2-x"]);
      assert.deepEqual(payloads(r2), ["r1+r2-x"]);
      assert.deepEqual(payloads(r3), ["r3"]);
      assert.deepEqual(payloads(r1x), []);
    });

    it('"rooms" with a blank setting takes msg.room and msg.except, as a string or an array', async function () {
      const r1 = await member(["r1"]);
      const r2 = await member(["r2"]);
      const r3 = await member(["r3"]);
      const r1x = await member(["r1", "x"]);
      input("rooms-msg", { payload: "room-string", room: "r2" });
      input("rooms-msg", { payload: "room-array", room: ["r1", "r3"], except: ["x"] });
      input("rooms-msg", { payload: "except-string", room: "r1,r2", except: "x" });
      await fence([r1, r2, r3, r1x]);
      assert.deepEqual(payloads(r1), ["room-array", "except-string"]);
      assert.deepEqual(payloads(r2), ["room-string", "except-string"]);
      assert.deepEqual(payloads(r3), ["room-array"]);
      assert.deepEqual(payloads(r1x), []);
    });

    it('"socket" reaches only the client in msg.socket', async function () {
      const [a, b] = [await member(), await member()];
      a.c.emit("hello", "just-a");
      await until(() => payloads(a).length === 1, 3000, "the answer to a");
      await fence([a, b]);
      assert.deepEqual(payloads(a), ["just-a"]);
      assert.deepEqual(payloads(b), []);
    });

    it('"reply" answers only the sender in msg.socket, and reaches everyone when the msg has no socket', async function () {
      const [a, b] = [await member(), await member()];
      a.c.emit("ping-me", "pong-a");
      await until(() => payloads(a).length === 1, 3000, "the answer to a");
      input("reply", { payload: "no-socket" });
      await fence([a, b]);
      assert.deepEqual(payloads(a), ["pong-a", "no-socket"]);
      assert.deepEqual(payloads(b), ["no-socket"]);
    });

    it('"broadcast" reaches everyone but msg.socket, and with rooms only those rooms', async function () {
      const shouter = await member(["r1"]);
      const inRoom = await member(["r1"]);
      const outside = await member();
      shouter.c.emit("shout", "to-all-others");
      shouter.c.emit("shout-r1", "to-r1-others");
      await until(() => payloads(inRoom).length === 2, 3000, "both broadcasts");
      await fence([shouter, inRoom, outside]);
      assert.deepEqual(payloads(shouter), []);
      assert.deepEqual(payloads(inRoom), ["to-all-others", "to-r1-others"]);
      assert.deepEqual(payloads(outside), ["to-all-others"]);
    });
  });

  describe("event and namespace", function () {
    it("takes msg.event when Event is blank, and the Event setting when it is set", async function () {
      const a = await member();
      input("ev-blank", { event: "from-msg", payload: 1 });
      input("all", { event: "ignored", payload: 2 });
      await fence([a]);
      assert.deepEqual(
        a.got.filter((g) => g.event !== "fence"),
        [
          { event: "from-msg", args: [1] },
          { event: "e", args: [2] },
        ],
      );
    });

    it('reads the event name from a msg property with event type "msg"', async function () {
      const a = await member();
      input("ev-topic", { topic: "news", payload: 3 });
      await fence([a]);
      assert.deepEqual(payloads(a, "news"), [3]);
    });

    it("takes msg.namespace when Namespace is blank, and / when neither is set", async function () {
      const root = await member();
      const other = await member([], "/other");
      input("ns-blank", { namespace: "/other", payload: "other" });
      input("ns-blank", { payload: "root" });
      await fence([root]);
      await fence([other], "fence-other");
      assert.deepEqual(payloads(root), ["root"]);
      assert.deepEqual(payloads(other), ["other"]);
    });
  });

  describe("arguments", function () {
    it("sends msg.payload as the one argument, and the items of msg.args as several", async function () {
      const a = await member();
      input("all", { payload: { deep: [1, { two: 2 }] } });
      input("all", { payload: "ignored", args: [1, "two", { three: 3 }] });
      await fence([a]);
      assert.deepEqual(
        a.got.filter((g) => g.event === "e").map((g) => g.args),
        [[{ deep: [1, { two: 2 }] }], [1, "two", { three: 3 }]],
      );
    });

    it("sends a Buffer as binary data", async function () {
      const a = await member();
      input("all", { payload: Buffer.from([1, 2, 250]) });
      await fence([a]);
      const [got] = payloads(a);
      assert.ok(Buffer.isBuffer(got) || got instanceof ArrayBuffer, `expected binary, got ${typeof got}`);
      assert.deepEqual([...Buffer.from(got as ArrayBuffer)], [1, 2, 250]);
    });

    it("still delivers to a connected client with volatile and compress set", async function () {
      const a = await member();
      input("volatile", { payload: "volatile, uncompressed" });
      await until(() => payloads(a).length === 1, 3000, "the volatile emit");
      input("compress", { payload: "volatile, compressed" });
      await until(() => payloads(a).length === 2, 3000, "the compressed emit");
      assert.deepEqual(payloads(a), ["volatile, uncompressed", "volatile, compressed"]);
    });
  });
});
