import type { Node, NodeAPI, NodeDef } from "node-red";
import type { MiddlewareStep } from "./core/middleware-chain";
import { FlowNodeKit } from "./flow-node-kit";
import { ok, waiting } from "./node-status";
import { checkNamespace, linkServer } from "./server-link";

interface StartDef extends NodeDef {
  server: string;
  namespace: string;
  timeout: number | string;
  order: number | string;
}

export = function (RED: NodeAPI): void {
  function SocketIoMiddlewareStartNode(this: Node, def: StartDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = new FlowNodeKit(node);
    const status = kit.status;

    const namespace = checkNamespace(def.namespace);
    const seconds = def.timeout === "" || def.timeout === undefined ? 10 : Number(def.timeout);
    const order = def.order === "" || def.order === undefined ? 0 : Number(def.order);
    const problem = !namespace
      ? RED._("socket-io-middleware-start.errors.badNamespace", { namespace: String(def.namespace) })
      : !(seconds > 0) || !Number.isFinite(seconds)
        ? RED._("socket-io-middleware-start.errors.badTimeout", { timeout: String(def.timeout) })
        : !Number.isFinite(order)
          ? RED._("socket-io-middleware-start.errors.badOrder", { order: String(def.order) })
          : undefined;
    if (problem) {
      kit.refuse(problem);
      return;
    }
    const ready = (): void => status.set(ok(RED._("socket-io-middleware-start.status.ready", { namespace: namespace! })));
    const link = linkServer(RED, node, def.server, status, ready);
    kit.onClose(link.unlink);
    if (!link.entry) return;

    const step: MiddlewareStep = {
      id: node.id,
      order,
      timeoutMs: seconds * 1000,
      run(socket, next) {
        node.send({ payload: socket.handshake.auth, socket, next });
      },
      timedOut(socket) {
        node.warn(RED._("socket-io-middleware-start.warn.timeout", { id: socket.id, seconds }));
        status.now(waiting(RED._("socket-io-middleware-start.status.timedOut")));
      },
    };
    kit.onClose(link.entry.namespace(namespace!, true)!.chain.add(step));
  }

  RED.nodes.registerType("socket-io-middleware-start", SocketIoMiddlewareStartNode);
};
