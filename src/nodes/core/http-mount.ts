import { EventEmitter } from "node:events";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { debugChannel } from "./debug-channel";
import type { HttpGuard } from "./http-guard";

const debug = debugChannel("http-mount");

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A stand-in HTTP server that Socket.IO attaches to instead of Node-RED's own server.
 * `Server.close()` closes the server it is attached to; this one has nothing to close.
 */
export class MountPoint extends EventEmitter {
  /**
   * @param guard runs before Socket.IO sees a request or upgrade under `path` (Node-RED's HTTP security)
   */
  constructor(
    readonly path: string,
    fallback: RequestListener,
    readonly guard?: HttpGuard,
  ) {
    super();
    // Socket.IO and engine.io wrap the request listeners they find: requests that are not theirs
    // end up here and go on to Node-RED's own handlers.
    this.on("request", fallback);
  }

  close(callback?: (err?: Error) => void): this {
    callback?.();
    return this;
  }

  /** Whether a request URL is under this mount point's path ("/socket.io", not "/socket.iox"). */
  covers(url: string | undefined): boolean {
    if (!url?.startsWith(this.path)) return false;
    const after = url.charAt(this.path.length);
    return after === "" || after === "/" || after === "?";
  }
}

const mounts = new WeakMap<HttpServer, HttpMount>();

/**
 * Lends paths of Node-RED's own HTTP server to Socket.IO servers, one server per path, as core
 * websocket listeners each have a path of their own.
 *
 * Attaching engine.io to a server adds `request`/`upgrade`/`close`/`listening` listeners that
 * nothing removes, so attaching on every deploy would pile them up. Instead one request and one
 * upgrade listener go on the server once per runtime, and each deploy only swaps the mount points
 * they forward to.
 *
 * @example
 * const mount = HttpMount.of(RED.server);
 * const point = mount.mount("/socket.io", guard);
 * const io = new Server(point, { path: "/socket.io" });
 * mount.unmount(point);
 */
export class HttpMount {
  private readonly points = new Map<string, MountPoint>();
  private readonly passOn: RequestListener;

  private constructor(server: HttpServer) {
    const original = server.listeners("request").slice() as RequestListener[];
    server.removeAllListeners("request");
    this.passOn = (req, res) => {
      for (const listener of original) listener.call(server, req, res);
    };
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.request(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** The mount point a URL is under; of nested paths (/a and /a/b) the longest, as routers match. */
  private pointFor(url: string | undefined): MountPoint | undefined {
    let found: MountPoint | undefined;
    for (const point of this.points.values()) {
      if (point.covers(url) && (!found || point.path.length > found.path.length)) found = point;
    }
    return found;
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const point = this.pointFor(req.url);
    if (!point) return this.passOn(req, res);
    if (!point.guard) return void point.emit("request", req, res);
    // A deploy may have swapped the mount point while the guard ran: the current one decides then.
    point.guard.request(req, res, () =>
      this.pointFor(req.url) === point ? point.emit("request", req, res) : this.request(req, res),
    );
  }

  // Other upgrades (Node-RED's editor, websocket nodes) have listeners of their own.
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const point = this.pointFor(req.url);
    if (!point) return;
    if (!point.guard) return void point.emit("upgrade", req, socket, head);
    point.guard.upgrade(req, socket, () =>
      this.pointFor(req.url) === point ? point.emit("upgrade", req, socket, head) : this.upgrade(req, socket, head),
    );
  }

  /** The one mount of this server, created on first use. */
  static of(server: HttpServer): HttpMount {
    let mount = mounts.get(server);
    if (!mount) {
      mount = new HttpMount(server);
      mounts.set(server, mount);
    }
    return mount;
  }

  /**
   * A new mount point for `path`, which replaces the one at that path, if any.
   * @param guard Node-RED's HTTP security, run first; undefined for none
   */
  mount(path: string, guard?: HttpGuard): MountPoint {
    debug("Node-RED's server: %s mounted%s", path, guard ? " behind Node-RED's HTTP security" : "");
    const point = new MountPoint(path, this.passOn, guard);
    this.points.set(path, point);
    return point;
  }

  unmount(point: MountPoint): void {
    if (this.points.get(point.path) !== point) return;
    debug("Node-RED's server: %s unmounted", point.path);
    this.points.delete(point.path);
  }
}
