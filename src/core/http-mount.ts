import { EventEmitter } from "node:events";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A stand-in HTTP server that Socket.IO attaches to instead of Node-RED's own server.
 * `Server.close()` closes the server it is attached to; this one has nothing to close.
 */
export class MountPoint extends EventEmitter {
  constructor(readonly path: string, fallback: RequestListener) {
    super();
    // Socket.IO and engine.io wrap the request listeners they find: requests that are not theirs
    // end up here and go on to Node-RED's own handlers.
    this.on("request", fallback);
  }

  close(callback?: (err?: Error) => void): this {
    callback?.();
    return this;
  }
}

const mounts = new WeakMap<HttpServer, HttpMount>();

/**
 * Lends a path of Node-RED's own HTTP server to one Socket.IO server at a time.
 *
 * Attaching engine.io to a server adds `request`/`upgrade`/`close`/`listening` listeners that
 * nothing removes, so attaching on every deploy would pile them up. Instead one request and one
 * upgrade listener go on the server once per runtime, and each deploy only swaps the mount point
 * they forward to.
 *
 * @example
 * const mount = HttpMount.of(RED.server);
 * const point = mount.mount("/socket.io");
 * const io = new Server(point, { path: "/socket.io" });
 * mount.unmount(point);
 */
export class HttpMount {
  private current: MountPoint | undefined;
  private readonly passOn: RequestListener;

  private constructor(server: HttpServer) {
    const original = server.listeners("request").slice() as RequestListener[];
    server.removeAllListeners("request");
    this.passOn = (req, res) => {
      for (const listener of original) listener.call(server, req, res);
    };
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const point = this.current;
      if (point && req.url?.startsWith(point.path)) point.emit("request", req, res);
      else this.passOn(req, res);
    });
    // Other upgrades (Node-RED's editor, websocket nodes) have listeners of their own.
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const point = this.current;
      if (point && req.url?.startsWith(point.path)) point.emit("upgrade", req, socket, head);
    });
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

  /** A new mount point for `path`, which replaces the current one. */
  mount(path: string): MountPoint {
    this.current = new MountPoint(path, this.passOn);
    return this.current;
  }

  unmount(point: MountPoint): void {
    if (this.current === point) this.current = undefined;
  }
}
