import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { RefusedError, REFUSALS, type NextFn } from "./core/middleware-chain";
import { kindOf } from "./core/problem";
import { registerFlowNode, type FlowNodeKit } from "./lib/flow-node-kit";
import { useCatalog } from "./lib/wording";

interface EndDef extends NodeDef {
  errMsg: string;
}

export = function (RED: NodeAPI): void {
  useCatalog(RED);

  function setup(node: Node, def: EndDef, kit: FlowNodeKit): void {
    const defaultMessage =
      typeof def.errMsg === "string" && def.errMsg.trim() !== "" ? def.errMsg.trim() : REFUSALS.unauthorized;

    node.on("input", (msg: NodeMessageInFlow, _send, done) => {
      if (typeof msg.next !== "function") {
        kit.fail(new Error(RED._("socket-io-middleware-end.errors.noNext", { kind: String(kindOf(msg.next)) })), done);
        return;
      }
      kit.succeeded();
      const next = msg.next as NextFn;
      const message =
        msg.errMsg === undefined || msg.errMsg === null || msg.errMsg === "" ? defaultMessage : String(msg.errMsg);
      const result = msg.payload === true ? next() : next(new RefusedError(message, msg.errData));
      if (result === "already-answered" || result === "timed-out") {
        node.warn(RED._(`socket-io-middleware-end.warn.${result === "timed-out" ? "late" : "twice"}`));
      }
      done();
    });
  }

  registerFlowNode(RED, "socket-io-middleware-end", setup);
};
