import type { Node, NodeAPI, NodeDef } from "node-red";
import type { SecureContextOptions } from "node:tls";
import { registry, ServerConflictError } from "./core/server-registry";
import { parseServerSettings, type ServerCredentials } from "./core/server-settings";
import { httpNodeGuard } from "./http-node-security";
import { deployGateOf } from "./runtime-events";
import type { ServerConfigNode } from "./server-link";

interface ServerDef extends NodeDef {
  usetls?: boolean;
  tls?: string;
  [key: string]: unknown;
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: SecureContextOptions): void;
}

export = function (RED: NodeAPI): void {
  function SocketIoServerNode(this: ServerConfigNode, def: ServerDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let unwatch = (): void => undefined;
    try {
      let tls: SecureContextOptions | undefined;
      if (def.usetls && def.tls) {
        const tlsNode = RED.nodes.getNode(def.tls) as TlsConfigNode | null;
        if (!tlsNode) throw new Error(RED._("socket-io-server.errors.noTls"));
        tls = {};
        tlsNode.addTLSOptions(tls);
      }
      const settings = parseServerSettings(def, tls, (node.credentials ?? {}) as ServerCredentials);
      if (settings.recovery && settings.scaleOut?.adapter === "redis") node.warn(RED._("socket-io-server.warn.recoveryNeedsStreams"));
      node.entry = registry.acquire(node.id, settings, {
        gate: deployGateOf(RED.events),
        log: node,
        nodeRedServer: RED.server,
        httpGuard: settings.httpNodeSecurity ? httpNodeGuard(RED, node) : undefined,
      });
      const where = settings.listen === "port" ? `port ${settings.port}` : "Node-RED's HTTP server";
      // A server taken over from the last deploy, or shared with another config node, is already
      // up: only changes seen from here on are worth a log line.
      let said = node.entry.state === "listening" ? RED._("socket-io-server.log.listening", { where, path: settings.path }) : "";
      unwatch = node.entry.watchState((state, error) => {
        const line = state === "listening" ? RED._("socket-io-server.log.listening", { where, path: settings.path }) : state === "error" ? error?.message ?? "" : "";
        if (!line || line === said) return;
        said = line;
        if (state === "error") node.error(line);
        else node.log(line);
      });
    } catch (err) {
      node.failure = err as Error;
      if (err instanceof ServerConflictError) node.occupied = err.entry;
      node.error(RED._("socket-io-server.errors.settings", { error: (err as Error).message }));
    }

    node.on("close", (removed: boolean, done: () => void) => {
      const entry = node.entry;
      node.entry = undefined;
      unwatch();
      if (!entry) {
        done();
        return;
      }
      registry.release(node.id, entry, removed).then(done, (err: Error) => {
        node.error(err.message);
        done();
      });
    });
  }

  // Node-RED keeps credentials out of the flow file (flows_cred.json, encrypted by its credentialSecret).
  RED.nodes.registerType("socket-io-server", SocketIoServerNode, {
    credentials: {
      redisUsername: { type: "text" },
      redisPassword: { type: "password" },
    },
  });
};
