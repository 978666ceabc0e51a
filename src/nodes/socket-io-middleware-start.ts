import type { Node, NodeAPI, NodeDef } from "node-red";
import { RefusedError, REFUSALS, type MiddlewareStep } from "./core/middleware-chain";
import { RateLimitedReport } from "./core/rate-limited-report";
import type { ServerEntry } from "./core/server-entry";
import { registerFlowNode, type FlowNodeKit } from "./lib/flow-node-kit";
import { failed, ok, waiting } from "./lib/node-status";
import { checkNamespace, linkServer, type ServerConfigNode } from "./lib/server-link";
import { statusText, useCatalog } from "./lib/wording";

interface StartDef extends NodeDef {
  server: string;
  namespace: string;
  timeout: number | string;
  order: number | string;
}

/** The namespace a start node with a malformed Namespace setting was meant for: "chat" guards "/chat". */
function intendedNamespace(value: unknown): string {
  const text = value === undefined || value === null ? "" : String(value).trim();
  return text.startsWith("/") ? text : `/${text}`;
}

export = function (RED: NodeAPI): void {
  useCatalog(RED);

  function setup(node: Node, def: StartDef, kit: FlowNodeKit): void {
    const status = kit.status;

    const namespace = checkNamespace(def.namespace);
    const seconds = def.timeout === "" || def.timeout === undefined ? 10 : Number(def.timeout);
    const order = def.order === "" || def.order === undefined ? 0 : Number(def.order);
    /** What is wrong with the settings, worded; undefined when they can work. */
    function problemOf(): string | undefined {
      if (!namespace)
        return RED._("socket-io-middleware-start.errors.badNamespace", { namespace: String(def.namespace) });
      if (!(seconds > 0) || !Number.isFinite(seconds))
        return RED._("socket-io-middleware-start.errors.badTimeout", { timeout: String(def.timeout) });
      if (!Number.isFinite(order))
        return RED._("socket-io-middleware-start.errors.badOrder", { order: String(def.order) });
      return undefined;
    }
    const problem = problemOf();

    // Fail closed: a start node that cannot run its flow still guards its namespace, refusing every
    // connection attempt there until its settings are fixed. Otherwise the namespace would admit all.
    const guard = (entry: ServerEntry | undefined, ns: string): void => {
      if (!entry) return;
      const refuseAll: MiddlewareStep = {
        id: node.id,
        order: Number.NEGATIVE_INFINITY,
        timeoutMs: 1000,
        run(_socket, next) {
          next(new RefusedError(REFUSALS.misconfigured));
        },
        timedOut: () => undefined,
      };
      kit.onClose(entry.namespace(ns, true)!.chain.add(refuseAll));
    };
    const config = def.server ? (RED.nodes.getNode(def.server) as ServerConfigNode | null) : null;

    if (problem) {
      kit.refuse(problem);
      guard(config?.entry ?? config?.occupied, namespace ?? intendedNamespace(def.namespace));
      return;
    }
    if (config && !config.entry && config.occupied) {
      // The server's settings clash with the server already on that port: its clients reach this
      // namespace, and no flow of ours checks them.
      status.now(failed(statusText(RED, config.failure?.status ?? "error")));
      guard(config.occupied, namespace!);
      return;
    }
    const ready = (): void =>
      status.set(ok(RED._("socket-io-middleware-start.status.ready", { namespace: namespace! })));
    const link = linkServer(RED, node, def.server, status, ready);
    kit.onClose(link.unlink);
    if (!link.entry) return;

    // Socket.IO closes a connection that has joined no namespace within the server's connect timeout,
    // also while its middleware flow is still deciding.
    const connectTimeoutMs = link.entry.io.connectTimeout();
    if (seconds * 1000 >= connectTimeoutMs) {
      node.warn(RED._("socket-io-middleware-start.warn.connectTimeout", { seconds, connectTimeout: connectTimeoutMs }));
    }
    // One line per interval for connections the flow did not decide in time, however many there are.
    const timeouts = new RateLimitedReport((count) =>
      node.warn(RED._("socket-io-middleware-start.warn.timeout", { count, seconds })),
    );
    kit.onClose(() => timeouts.stop());
    const step: MiddlewareStep = {
      id: node.id,
      order,
      timeoutMs: seconds * 1000,
      run(socket, next) {
        // A connection that resumes a session (connection-state recovery) is checked like any other;
        // msg.recovered lets the flow decide it quickly.
        node.send({ payload: socket.handshake.auth, socket, next, recovered: socket.live?.recovered === true });
      },
      timedOut() {
        timeouts.add();
        status.now(waiting(RED._("socket-io-middleware-start.status.timedOut")));
      },
    };
    kit.onClose(link.entry.namespace(namespace!, true)!.chain.add(step));
  }

  registerFlowNode(RED, "socket-io-middleware-start", setup);
};
