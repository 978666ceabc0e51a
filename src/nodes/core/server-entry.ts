import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { hostname } from "node:os";
import { Server } from "socket.io";
import { AdminUiLink, type PasswordChecker } from "./admin-ui-link";
import { adminUiFingerprint, type AdminUiSettings } from "./admin-ui-settings";
import { boundedMsgpackParser } from "./bounded-msgpack-parser";
import { boundedParser, type BoundedParser } from "./bounded-parser";
import type { DeployGate } from "./deploy-gate";
import { EngineGuard } from "./engine-guard";
import { HttpGuard } from "./http-guard";
import { HttpMount, type MountPoint } from "./http-mount";
import { publishServer, withdrawServer, type SocketResolver } from "./live-sockets";
import type { Logger } from "./logger";
import { NamespaceHub } from "./namespace-hub";
import { Problem, Term } from "./problem";
import { RedisAdapterLink } from "./redis-adapter-link";
import { fingerprint } from "./server-fingerprint";
import { socketIoOptions, type ServerSettings } from "./server-settings";

export type EntryState = "starting" | "listening" | "error" | "closed";

/** What a server entry needs from the runtime it lives in. */
export interface EntryContext {
  gate: DeployGate;
  log: Logger;
  /** Node-RED's own HTTP(S) server, for settings with listen "nodered". */
  nodeRedServer?: HttpServer;
  /** Node-RED's httpNodeAuth and httpNodeMiddleware, run first when settings.httpNodeSecurity is on. */
  httpGuard?: HttpGuard;
}

/**
 * One running Socket.IO Server and what the package keeps about it: the namespaces it set up, the
 * config nodes using it, and whether it is listening.
 */
export class ServerEntry {
  readonly io: Server;
  readonly fingerprint: string;
  /** The Redis connections of a server that scales out; undefined with the in-memory adapter. */
  readonly redis?: RedisAdapterLink;
  /** Ids of the config nodes using this server. */
  readonly owners = new Set<string>();
  private readonly hubs = new Map<string, NamespaceHub>();
  private readonly stateWatchers = new Set<(state: EntryState, error?: Error) => void>();
  private readonly resolver: SocketResolver;
  private httpServer?: HttpServer;
  private mountPoint?: MountPoint;
  private stateNow: EntryState = "starting";
  private errorNow?: Error;
  private closing?: Promise<void>;
  /** Bounds what one client packet may hold: attachments, their bytes and wait, JSON depth. */
  private readonly parser: BoundedParser;
  /** Bounds each Engine.IO connection: packets per polling request, oversize messages, idle connections. */
  private readonly engineGuard: EngineGuard;
  /** Set while no config node uses the server and it waits to be reclaimed by the next deploy. */
  parkTimer?: NodeJS.Timeout;
  /** The Socket.IO Admin UI's instrumentation, applied and removed while the server runs. */
  readonly adminUi: AdminUiLink;
  /** The Admin UI setting last applied (adminUiFingerprint): config nodes sharing the server must agree. */
  adminUiAsked = "";
  /** Resolves once the Socket.IO server is attached to its HTTP server (admin-ui needs its engine). */
  private readonly attached: Promise<void>;
  private markAttached = (): void => undefined;

  /**
   * @param key the registry key, e.g. "port:3001"
   * @param after a previous server on the same key that must finish closing first
   */
  constructor(
    readonly key: string,
    readonly settings: ServerSettings,
    private readonly context: EntryContext,
    after: Promise<void> = Promise.resolve(),
  ) {
    this.fingerprint = fingerprint(settings);
    if (settings.scaleOut) this.redis = new RedisAdapterLink(settings.scaleOut, context.log);
    const options = socketIoOptions(settings);
    const parserOf = settings.parser === "msgpack" ? boundedMsgpackParser : boundedParser;
    this.parser = parserOf(
      { maxAttachmentBytes: options.maxHttpBufferSize ?? settings.maxHttpBufferSize },
      context.log,
      () => this.io.engine,
    );
    options.parser = this.parser;
    this.io = new Server(
      this.redis ? { ...options, adapter: this.redis.adapter as NonNullable<typeof options.adapter> } : options,
    );
    this.engineGuard = new EngineGuard(this.io, context.log);
    // Unique per process and server: instances on one host are told apart in the UI.
    const where = settings.listen === "port" ? `:${settings.port}${settings.path}` : settings.path;
    this.adminUi = new AdminUiLink(this.io, `${hostname()} pid ${process.pid} ${where}`);
    this.attached = new Promise((resolve) => (this.markAttached = resolve));
    this.resolver = (namespace, id) => this.hubs.get(namespace)?.findSocket(id);
    publishServer(key, this.resolver);
    void after.then(() => this.start());
  }

  get state(): EntryState {
    return this.stateNow;
  }

  get error(): Error | undefined {
    return this.errorNow;
  }

  get gate(): DeployGate {
    return this.context.gate;
  }

  /** Calls `fn` now and on every state change; returns the function that stops it. */
  watchState(fn: (state: EntryState, error?: Error) => void): () => void {
    this.stateWatchers.add(fn);
    fn(this.stateNow, this.errorNow);
    return () => {
      this.stateWatchers.delete(fn);
    };
  }

  /**
   * The hub of a namespace. With `create`, sets it up on first use; without, only a namespace some
   * node already configured is returned, so msg input can never create namespaces without bound.
   */
  namespace(name: string, create = false): NamespaceHub | undefined {
    let hub = this.hubs.get(name);
    if (!hub && create) {
      const { eventRate: rate, eventBurst: burst } = this.settings;
      hub = new NamespaceHub(this.io.of(name), this.key, this.context.gate, this.context.log, {
        events: rate > 0 ? { rate, burst } : undefined,
      });
      this.hubs.set(name, hub);
    }
    return hub;
  }

  private setState(state: EntryState, error?: Error): void {
    this.stateNow = state;
    this.errorNow = error;
    for (const fn of this.stateWatchers) fn(state, error);
  }

  private start(): void {
    if (this.stateNow === "closed") return;
    const s = this.settings;
    if (s.listen === "nodered") {
      if (!this.context.nodeRedServer) {
        this.setState("error", new Problem("server.noNodeRedServer"));
        return;
      }
      this.mountPoint = HttpMount.of(this.context.nodeRedServer).mount(s.path, this.httpGuard());
      // Socket.IO's attach() only needs an EventEmitter with listeners(); the mount point is one.
      this.io.attach(this.mountPoint as unknown as HttpServer, { destroyUpgrade: false });
      this.markAttached();
      this.setState("listening");
      return;
    }
    // Requests outside Socket.IO's path get a 404, as with Socket.IO's own listen(port), instead of no answer.
    const notFound = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(404).end();
    };
    const server = s.tls ? createHttpsServer(s.tls, notFound) : createHttpServer(notFound);
    this.httpServer = server;
    this.io.attach(server);
    this.markAttached();
    server.once("error", (err: NodeJS.ErrnoException) => this.setState("error", listenProblem(err, s.port)));
    server.listen(s.port, () => {
      if (this.stateNow === "starting") this.setState("listening");
    });
  }

  /**
   * What guards the endpoint on Node-RED's server. Fail closed: settings that ask for Node-RED's HTTP
   * security without a guard given (a runtime other than the server node's) refuse every request.
   */
  private httpGuard(): HttpGuard | undefined {
    if (!this.settings.httpNodeSecurity) return undefined;
    return this.context.httpGuard ?? HttpGuard.refusing(new Term("core.http.noGuard"), this.context.log);
  }

  /**
   * Turns the Admin UI on (with these credentials) or off (undefined) on the running server, with
   * no client disconnected. Resolves once applied; rejects when it cannot be.
   */
  async applyAdminUi(settings: AdminUiSettings | undefined, checker: PasswordChecker): Promise<void> {
    this.adminUiAsked = adminUiFingerprint(settings);
    await this.attached;
    // admin-ui sends its first stats through the adapter at once: before Redis answers, they would
    // be counted (and logged) as messages lost for the other instances.
    if (settings) await this.redis?.publishable(5000);
    if (this.stateNow !== "closed") await this.adminUi.set(settings, checker);
  }

  /** Disconnects every client and frees the port; safe to call more than once. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.parkTimer);
    withdrawServer(this.key, this.resolver);
    this.setState("closed");
    this.stateWatchers.clear();
    for (const hub of this.hubs.values()) hub.close();
    // Its stats timer would outlive the server; a failure to apply was reported when it happened.
    await this.adminUi.stop().catch(() => undefined);
    if (this.mountPoint && this.context.nodeRedServer)
      HttpMount.of(this.context.nodeRedServer).unmount(this.mountPoint);
    const server = this.httpServer;
    const closed = this.io.close();
    if (server) {
      // io.close() ends with server.close(), which would wait for idle keep-alive connections.
      await new Promise((resolve) => setImmediate(resolve));
      server.closeAllConnections();
    }
    await closed;
    // After io.close(): the adapters have unsubscribed; what they still had queued fails harmlessly.
    this.redis?.close();
    this.parser.stop();
    this.engineGuard.stop();
  }
}

/** Why a server could not listen on its port, as the user can act on it. */
function listenProblem(err: NodeJS.ErrnoException, port: number): Problem {
  if (err.code === "EADDRINUSE") return new Problem("server.portInUse", { port });
  if (err.code === "EACCES") return new Problem("server.portDenied", { port });
  return new Problem("server.cannotListen", { port, error: err.message });
}
