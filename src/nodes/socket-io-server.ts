import type { Node, NodeAPI, NodeDef } from "node-red";
import type { SecureContextOptions } from "node:tls";
import { underHttpNodeRoot } from "./core/node-red-path";
import { wordCode } from "./core/problem";
import { registry, ServerConflictError } from "./core/server-registry";
import { parseServerSettings, type ServerCredentials } from "./core/server-settings";
import { ADMIN_NAMESPACE } from "./core/admin-instrument";
import { registerAdminUiRoutes, type AdminUiTarget } from "./lib/admin-ui-route";
import { httpNodeGuard } from "./lib/http-node-security";
import { nodeRedModule } from "./lib/node-red-modules";
import { registerNode } from "./lib/node-type";
import { deployGateOf } from "./lib/runtime-events";
import type { ServerConfigNode } from "./lib/server-link";
import { failureOf, nodeLogger, SHARED, useCatalog } from "./lib/wording";

interface ServerDef extends NodeDef {
  usetls?: boolean;
  tls?: string;
  listen?: string;
  port?: unknown;
  path?: unknown;
  [key: string]: unknown;
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: SecureContextOptions): void;
}

/**
 * What a server without a name is called in the log: its own port, or Node-RED's server, and a path
 * of its own (on Node-RED's server the full one, under httpNodeRoot).
 */
function unnamed(RED: NodeAPI, def: ServerDef): string {
  const onNodeRed = def.listen === "nodered";
  const base = onNodeRed
    ? RED._(`${SHARED}.unnamed.nodered`)
    : RED._(`${SHARED}.unnamed.port`, { port: String(def.port ?? "") });
  const own = typeof def.path === "string" ? def.path.trim() : "";
  const path = onNodeRed ? underHttpNodeRoot(RED.settings.httpNodeRoot, own || "/socket.io") : own;
  return path && path !== "/socket.io" ? `${base} ${path}` : base;
}

/** Node-RED's admin root as the browser reaches it, ending in "/". */
function adminRootOf(RED: NodeAPI): string {
  const root = (RED.settings as unknown as { httpAdminRoot?: unknown }).httpAdminRoot;
  const text = typeof root === "string" && root !== "" ? root : "/";
  return text.endsWith("/") ? text : `${text}/`;
}

export = function (RED: NodeAPI): void {
  const adminRoot = (): string => adminRootOf(RED);
  useCatalog(RED);
  // Where the Admin UI of each config node that has it on connects, for its page on httpAdmin.
  const adminUiTargets = new Map<string, AdminUiTarget>();
  registerAdminUiRoutes(RED, (id) => adminUiTargets.get(id));
  // The Admin UI's password is hashed once and logins compared with it, by Node-RED's own bcryptjs.
  const passwordChecker = async (password: string): Promise<(given: string) => Promise<boolean>> => {
    const bcrypt = nodeRedModule<{
      hash(password: string, rounds: number): Promise<string>;
      compare(given: string, hash: string): Promise<boolean>;
    }>(RED, "bcryptjs");
    const hash = await bcrypt.hash(password, 10);
    return (given) => bcrypt.compare(given, hash);
  };

  function setup(node: ServerConfigNode, def: ServerDef): void {
    // Node-RED labels a node's log lines, in the console and the debug sidebar, with its name, else
    // its id: a config node without a name goes by what its label in the editor says.
    if (!node.name) node.name = unnamed(RED, def);
    const log = nodeLogger(node);
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
      // On Node-RED's server the Path is under httpNodeRoot, beside the http-in and websocket nodes.
      if (settings.listen === "nodered") settings.path = underHttpNodeRoot(RED.settings.httpNodeRoot, settings.path);
      if (settings.recovery && settings.scaleOut?.adapter === "redis")
        node.warn(RED._("socket-io-server.warn.recoveryNeedsStreams"));
      node.entry = registry.acquire(node.id, settings, {
        gate: deployGateOf(RED.events),
        log,
        nodeRedServer: RED.server,
        httpGuard: settings.httpNodeSecurity ? httpNodeGuard(RED, node, log) : undefined,
      });
      const entry = node.entry;
      // The page stays up through a deploy that keeps the Admin UI on (the close below keeps it):
      // the editor's button would otherwise meet a 404 for the moment the server node restarts.
      const wasOn = adminUiTargets.has(node.id);
      if (settings.adminUi) {
        adminUiTargets.set(node.id, {
          listen: settings.listen,
          port: settings.listen === "port" ? settings.port : undefined,
          tls: settings.tls !== undefined,
          path: settings.path,
          namespace: ADMIN_NAMESPACE,
          parser: settings.parser,
        });
      } else adminUiTargets.delete(node.id);
      // Applied to the running server, on or off, with no client disconnected.
      entry.applyAdminUi(settings.adminUi, passwordChecker).then(
        () => {
          if (settings.adminUi && node.entry === entry && !wasOn)
            node.log(RED._("socket-io-server.log.adminUi", { url: `${adminRoot()}socket-io-admin/${node.id}/` }));
        },
        (err: unknown) => {
          if (node.entry === entry) adminUiTargets.delete(node.id);
          node.error(RED._("socket-io-server.errors.adminUi", { error: failureOf(err).text }));
        },
      );
      const where =
        settings.listen === "port"
          ? RED._("socket-io-server.unnamed.port", { port: String(settings.port) })
          : RED._("socket-io-server.log.noderedServer");
      const listening = RED._("socket-io-server.log.listening", { where, path: settings.path });
      // A server taken over from the last deploy, or shared with another config node, is already
      // up: only changes seen from here on are worth a log line.
      let said = node.entry.state === "listening" ? listening : "";
      unwatch = node.entry.watchState((state, error) => {
        let line = "";
        if (state === "listening") line = listening;
        else if (state === "error") line = failureOf(error).text;
        if (!line || line === said) return;
        said = line;
        if (state === "error") node.error(line);
        else node.log(line);
      });
    } catch (err) {
      // Worded as any failure, save that the other config node goes by its name.
      const failure = failureOf(err, "badSetting");
      if (err instanceof ServerConflictError) {
        node.occupied = err.entry;
        const other = (RED.nodes.getNode(err.other) as Node | null)?.name ?? err.other;
        failure.text = wordCode(err.code, { ...err.values, other });
      }
      node.failure = failure;
      adminUiTargets.delete(node.id);
      node.error(RED._("socket-io-server.errors.settings", { error: failure.text }));
    }

    node.on("close", (removed: boolean, done: () => void) => {
      // Kept for the node that follows in a deploy, which sets or clears it at once.
      if (removed) adminUiTargets.delete(node.id);
      const entry = node.entry;
      node.entry = undefined;
      unwatch();
      if (!entry) {
        done();
        return;
      }
      registry.release(node.id, entry, removed).then(done, (err: Error) => {
        node.error(failureOf(err).text);
        done();
      });
    });
  }

  registerNode(RED, "socket-io-server", setup, {
    credentials: {
      redisUsername: { type: "text" },
      redisPassword: { type: "password" },
      adminUiUsername: { type: "text" },
      adminUiPassword: { type: "password" },
    },
  });
};
