import { strict as assert } from "node:assert";
import { DeployGate } from "../src/nodes/core/deploy-gate";
import { EventRouter, type RoutedEvent } from "../src/nodes/core/event-router";
import type { Logger } from "../src/nodes/core/logger";
import type { WordValues } from "../src/nodes/core/problem";

type Line = [code: string, values?: WordValues];

function quietLog(): Logger & { warnings: Line[]; errors: Line[] } {
  const warnings: Line[] = [];
  const errors: Line[] = [];
  return { warnings, errors, warn: (...line) => warnings.push(line), error: (...line) => errors.push(line) };
}

const clientEvent = (name: string, ...args: unknown[]): RoutedEvent => ({ kind: "client", name, args });

describe("event router (core)", function () {
  it("delivers a client event to the subscribers of its name and to any-event subscribers only", function () {
    const router = new EventRouter(new DeployGate(), quietLog());
    const chat: unknown[] = [];
    const any: string[] = [];
    const other: unknown[] = [];
    router.subscribe({ kind: "client", name: "chat" }, (e) => chat.push(e.args[0]));
    router.subscribe({ kind: "any-client" }, (e) => any.push(e.name));
    router.subscribe({ kind: "client", name: "other" }, (e) => other.push(e));
    router.route(clientEvent("chat", "hi"));
    router.route({ kind: "lifecycle", name: "connection", args: [] });
    assert.deepEqual(chat, ["hi"]);
    assert.deepEqual(any, ["chat"]);
    assert.deepEqual(other, []);
  });

  it("keeps lifecycle and room events apart from client events of the same name", function () {
    const router = new EventRouter(new DeployGate(), quietLog());
    const lifecycle: string[] = [];
    const room: string[] = [];
    const client: string[] = [];
    router.subscribe({ kind: "lifecycle", name: "connection" }, (e) => lifecycle.push(e.kind));
    router.subscribe({ kind: "room", name: "join-room" }, (e) => room.push(e.kind));
    router.subscribe({ kind: "client", name: "connection" }, (e) => client.push(e.kind));
    router.route(clientEvent("connection"));
    router.route(clientEvent("join-room", "r"));
    assert.deepEqual(lifecycle, []);
    assert.deepEqual(room, []);
    assert.deepEqual(client, ["client"]);
  });

  it("queues events while a deploy is in progress and delivers them in order to the new subscribers", function () {
    const gate = new DeployGate();
    const router = new EventRouter(gate, quietLog());
    const old: unknown[] = [];
    const unsubscribe = router.subscribe({ kind: "client", name: "e" }, (e) => old.push(e.args[0]));
    gate.close();
    unsubscribe();
    for (let i = 0; i < 5; i++) router.route(clientEvent("e", i));
    const fresh: unknown[] = [];
    router.subscribe({ kind: "client", name: "e" }, (e) => fresh.push(e.args[0]));
    assert.deepEqual(fresh, [], "nothing is delivered before the deploy ends");
    gate.open();
    router.route(clientEvent("e", 5));
    assert.deepEqual(old, []);
    assert.deepEqual(fresh, [0, 1, 2, 3, 4, 5]);
  });

  it("keeps at most its queue limit during a deploy and says how many it dropped", function () {
    const gate = new DeployGate();
    const log = quietLog();
    const router = new EventRouter(gate, log, 3);
    const got: unknown[] = [];
    router.subscribe({ kind: "client", name: "e" }, (e) => got.push(e.args[0]));
    gate.close();
    for (let i = 0; i < 5; i++) router.route(clientEvent("e", i));
    gate.open();
    assert.deepEqual(got, [2, 3, 4]);
    assert.equal(log.warnings.length, 1);
    assert.deepEqual(log.warnings[0], ["events.dropped", { count: 2, limit: 3 }]);
  });

  it("a subscriber that throws does not stop the others and is logged", function () {
    const log = quietLog();
    const router = new EventRouter(new DeployGate(), log);
    const got: string[] = [];
    router.subscribe({ kind: "client", name: "e" }, () => {
      throw new Error("boom");
    });
    router.subscribe({ kind: "client", name: "e" }, (e) => got.push(e.name));
    router.route(clientEvent("e"));
    assert.deepEqual(got, ["e"]);
    assert.deepEqual(log.errors[0], ["events.undeliverable", { event: "e", error: "boom" }]);
  });

  it("unsubscribing removes exactly that subscriber", function () {
    const router = new EventRouter(new DeployGate(), quietLog());
    const off = router.subscribe({ kind: "client", name: "e" }, () => undefined);
    router.subscribe({ kind: "any-client" }, () => undefined);
    assert.equal(router.subscriberCount, 2);
    off();
    assert.equal(router.subscriberCount, 1);
  });
});
