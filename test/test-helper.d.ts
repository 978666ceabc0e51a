// node-red-node-test-helper ships no types, and the community ones reject most of what its README
// shows (spies like "call:warn", loose flow nodes). This declares what the tests use of it, and the
// internals they reach (_events, _app, _server).
declare module "node-red-node-test-helper" {
  import type { EventEmitter } from "node:events";
  import type { Server } from "node:http";
  import type { NodeAPI } from "node-red";

  /** One call a sinon spy recorded. */
  export interface SpyCall {
    args: unknown[];
    thisValue: unknown;
  }

  /** A node of the loaded flow. The helper spies on its methods: `node.status.getCalls()`. */
  export interface TestNode {
    id: string;
    type: string;
    name?: string;
    /** The node's context; the tests set global context through it. */
    context(): { global: { get(key: string): unknown; set(key: string, value: unknown): void } };
    /** Hands `msg` to the node as its input. */
    receive(msg: object): void;
    on(event: "input", listener: (msg: Record<string, unknown>) => void): this;
    /** "call:<method>": every call of a spied method (status, warn, error, send...). */
    on(event: string, listener: (call: SpyCall) => void): this;
  }

  /** A node module as Node-RED loads it: a function of the runtime API that registers node types. */
  export type NodeModule = (RED: NodeAPI) => void;

  interface TestHelper {
    init(nodeRedPath: string, userSettings?: object): void;
    load(nodes: NodeModule | NodeModule[], flow: object[], credentials?: object): Promise<void>;
    setFlows(flow: object[], type?: "full" | "nodes" | "flows", credentials?: object): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    startServer(): Promise<void>;
    stopServer(): Promise<void>;
    url(): string;
    /** The spy on RED.log.log of the last load. */
    log(): { args: unknown[][] };
    /** The runtime's event bus (flows:stopping, flows:started...). */
    _events: EventEmitter;
    /** The express app of startServer(), where the package mounts its HTTP routes. */
    _app: { use(...handlers: unknown[]): void; get(path: string, ...handlers: unknown[]): void };
    _server: Server;
  }

  const helper: TestHelper;
  export default helper;
}

// Node-RED's own nodes that some tests load (plain JavaScript, no declarations).
declare module "@node-red/nodes/core/*" {
  const node: import("node-red-node-test-helper").NodeModule;
  export = node;
}

// Node-RED's utilities: its event bus (RED.comms.publish goes there) and the msg clone it sends with.
declare module "@node-red/util" {
  export const events: import("node:events").EventEmitter;
  export const util: { cloneMessage<T>(msg: T): T };
}
