import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { describe } from "./core/emit-target";
import { RefusedError, type NextFn } from "./core/middleware-chain";
import { FlowNodeKit } from "./flow-node-kit";

interface EndDef extends NodeDef {
  errMsg: string;
}

export = function (RED: NodeAPI): void {
  function SocketIoMiddlewareEndNode(this: Node, def: EndDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = new FlowNodeKit(node);
    const defaultMessage = typeof def.errMsg === "string" && def.errMsg.trim() !== "" ? def.errMsg.trim() : "unauthorized";

    node.on("input", (msg: NodeMessageInFlow, _send, done) => {
      if (typeof msg.next !== "function") {
        kit.fail(new Error(RED._("socket-io-middleware-end.errors.noNext", { kind: describe(msg.next) })), done);
        return;
      }
      kit.succeeded();
      const next = msg.next as NextFn;
      const message = msg.errMsg === undefined || msg.errMsg === null || msg.errMsg === "" ? defaultMessage : String(msg.errMsg);
      const result = msg.payload === true ? next() : next(new RefusedError(message, msg.errData));
      if (result === "already-answered" || result === "timed-out") {
        node.warn(RED._(`socket-io-middleware-end.warn.${result === "timed-out" ? "late" : "twice"}`));
      }
      done();
    });
  }

  RED.nodes.registerType("socket-io-middleware-end", SocketIoMiddlewareEndNode);
};
