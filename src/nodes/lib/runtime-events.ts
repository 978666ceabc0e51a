import type { EventEmitter } from "node:events";
import { DeployGate } from "../core/deploy-gate";
import { registry } from "../core/server-registry";

const gates = new WeakMap<EventEmitter, DeployGate>();

/**
 * The deploy gate of one Node-RED runtime, wired to its events once however many times the node
 * modules are loaded: closed from `flows:stopping` until `flows:started`. When a deploy has
 * started its nodes, servers that no config node reclaimed are closed.
 */
export function deployGateOf(events: EventEmitter): DeployGate {
  let gate = gates.get(events);
  if (!gate) {
    const g = new DeployGate();
    events.on("flows:stopping", () => g.close());
    events.on("flows:started", () => {
      void registry.closeUnused();
      g.open();
    });
    gates.set(events, g);
    gate = g;
  }
  return gate;
}
