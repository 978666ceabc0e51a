import { ServerResponse, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type express from "express";
import type { Logger } from "./logger";
import { answerRefusal, messageOf, Refused, settled } from "./middleware-refusal";
import { kindOf, Problem, Term, type WordValue } from "./problem";
import { RateLimitedReport } from "./rate-limited-report";

// Node-RED's {user, pass} form of httpNodeAuth, which the server node turns into middleware.
export { basicAuth, type BcryptCompare } from "./basic-auth";

/** The express module (its default export): the guard builds its app with Node-RED's own. */
export type Express = () => express.Express;

/** What middleware calls to pass a request on (`next()`) or to refuse it (`next(err)`). */
export type Next = (err?: unknown) => void;
/** Express middleware that handles a request. */
export type Handler = (req: express.Request, res: express.Response, next: Next) => unknown;
/** Express middleware that handles an error: Express tells it by its four parameters. */
export type ErrorHandler = (err: unknown, req: express.Request, res: express.Response, next: Next) => unknown;
/** An Express middleware: `(req, res, next)`, or `(err, req, res, next)` to handle an error. */
export type Middleware = Handler | ErrorHandler;

/** What an HTTP guard runs: middleware functions, or arrays of them, as `app.use()` takes them. */
export type MiddlewareList = Array<Middleware | MiddlewareList>;

export interface HttpGuardOptions {
  /** How long a WebSocket upgrade may wait for the middleware to decide (ms). @default 10000 */
  upgradeTimeout?: number;
}

/** Raised when what should guard the endpoint cannot be used as Express middleware. */
export class HttpGuardError extends Problem {
  /** @param name the setting it comes from, e.g. "httpNodeMiddleware" */
  constructor(name: string, item: unknown) {
    super("http.notMiddleware", { name, kind: kindOf(item) });
  }
}

// What Express, its router and cookie-parser put on a request or response; removed again when it passes.
const REQUEST_KEYS = [
  "res",
  "next",
  "baseUrl",
  "originalUrl",
  "params",
  "query",
  "route",
  "cookies",
  "signedCookies",
  "secret",
];
const RESPONSE_KEYS = ["req", "locals"];

/** What the log says of a middleware that answered a request and let it go on as well. */
const ANSWERED_AND_NEXT = new Term("core.http.answeredAndNext");

function flatten(list: unknown[], name: string, into: Middleware[] = []): Middleware[] {
  for (const item of list) {
    if (Array.isArray(item)) flatten(item, name, into);
    else if (typeof item === "function") into.push(item as Middleware);
    else throw new HttpGuardError(name, item);
  }
  return into;
}

/**
 * Checks that `value` is Express middleware: a function, or a (nested) array of functions.
 * @param name the setting it comes from, for the message
 * @throws HttpGuardError naming the setting
 */
export function middlewareList(value: unknown, name: string): Middleware[] {
  return flatten([value], name);
}

/**
 * Runs Express middleware (Node-RED's `httpNodeAuth` and `httpNodeMiddleware`) in front of an HTTP
 * endpoint, for plain requests and WebSocket upgrades alike. The middleware gets Express's `req` and
 * `res`; what it answers (a 401, a redirect) is the answer, and the request goes no further. A
 * request it passes goes on unchanged. A middleware that throws, rejects or calls `next(err)`
 * refuses, with the error's 4xx/5xx status or 500; it never admits. A refused upgrade gets a real
 * HTTP response on its socket, which is then closed.
 *
 * @example
 * const guard = HttpGuard.of(express, [basicAuth("admin", hash, bcrypt.compare)], log);
 * server.on("request", (req, res) => guard.request(req, res, () => socketIo(req, res)));
 * server.on("upgrade", (req, socket, head) => guard.upgrade(req, socket, () => ws(req, socket, head)));
 */
export class HttpGuard {
  private readonly app?: express.Express;
  private readonly pending = new WeakMap<IncomingMessage, () => void>();
  private readonly upgradeTimeout: number;
  private readonly failures: RateLimitedReport;
  private readonly timeouts: RateLimitedReport;
  private lastFailure: WordValue = "";

  /**
   * @param express the express module that runs the middleware
   * @param middleware run in this order; undefined for a guard that refuses everything (`refusing`)
   * @param reason why everything is refused, for the log
   */
  private constructor(
    express: Express | undefined,
    middleware: Middleware[] | undefined,
    log: Logger,
    options: HttpGuardOptions,
    private readonly reason: WordValue = "",
  ) {
    this.upgradeTimeout = options.upgradeTimeout ?? 10_000;
    this.failures = new RateLimitedReport((count) =>
      middleware
        ? log.error("http.failed", { count, last: this.lastFailure })
        : log.error("http.cannotRun", { count, reason }),
    );
    this.timeouts = new RateLimitedReport((count) => log.warn("http.undecided", { count, ms: this.upgradeTimeout }));
    if (!middleware || !express) return;
    const app = express();
    app.disable("x-powered-by");
    for (const fn of middleware) app.use(settled(fn));
    app.use((req: IncomingMessage) => this.pending.get(req)?.());
    this.app = app;
  }

  /**
   * A guard that runs `middleware` in order, on an app of `express`.
   * @throws HttpGuardError when an entry is neither a function nor an array of them
   */
  static of(express: Express, middleware: MiddlewareList, log: Logger, options: HttpGuardOptions = {}): HttpGuard {
    return new HttpGuard(express, flatten(middleware, "middleware"), log, options);
  }

  /**
   * A guard that refuses every request (500), for security settings that cannot run.
   * @param reason why, worded by the caller (or a term of the server node's catalog)
   */
  static refusing(reason: WordValue, log: Logger, options: HttpGuardOptions = {}): HttpGuard {
    return new HttpGuard(undefined, undefined, log, options, reason);
  }

  /** Runs the middleware for a request; `pass` is called only when all of it called `next()`. */
  request(req: IncomingMessage, res: ServerResponse, pass: () => void): void {
    this.decide(req, res, (err) => {
      if (err !== undefined) this.refuse(res, err);
      else if (res.headersSent || res.writableEnded) this.failed(ANSWERED_AND_NEXT);
      else pass();
    });
  }

  /**
   * Runs the middleware for a WebSocket upgrade, with a response written to its socket. `pass` is
   * called only when all of it called `next()`; otherwise the socket gets the answer and is closed.
   */
  upgrade(req: IncomingMessage, socket: Duplex, pass: () => void): void {
    // The HTTP server has taken its listeners off the socket: a reset while the middleware runs must not throw.
    const ignore = (): void => undefined;
    socket.on("error", ignore);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    try {
      res.assignSocket(socket as Socket);
    } catch {
      socket.destroy();
      return;
    }
    res.once("finish", () => {
      res.detachSocket(socket as Socket);
      socket.once("finish", () => socket.destroy());
      socket.end();
    });
    const timer = setTimeout(() => {
      cancel();
      this.timeouts.add();
      if (res.headersSent) socket.destroy();
      else
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", () =>
          socket.destroy(),
        );
    }, this.upgradeTimeout);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    const cancel = this.decide(req, res, (err) => {
      clearTimeout(timer);
      if (err !== undefined) return this.refuse(res, err);
      if (res.headersSent || res.writableEnded || socket.destroyed) {
        if (res.headersSent) this.failed(ANSWERED_AND_NEXT);
        socket.destroy();
        return;
      }
      res.detachSocket(socket as Socket);
      socket.removeListener("error", ignore);
      pass();
    });
  }

  /**
   * Runs the middleware; `then` gets undefined when the request passed, else why it was refused.
   * Only the first decision counts: a late `next()` after a `next(err)` admits nothing.
   * @returns a function that ignores any decision from now on
   */
  private decide(req: IncomingMessage, res: ServerResponse, then: (err?: unknown) => void): () => void {
    let done = false;
    const once = (err?: unknown): void => {
      if (done) return;
      done = true;
      this.pending.delete(req);
      then(err);
    };
    if (!this.app) {
      once(new Refused("refusing", 500));
      return () => undefined;
    }
    const proto = [Object.getPrototypeOf(req) as object, Object.getPrototypeOf(res) as object] as const;
    const own = [
      REQUEST_KEYS.filter((k) => !Object.hasOwn(req, k)),
      RESPONSE_KEYS.filter((k) => !Object.hasOwn(res, k)),
    ] as const;
    this.pending.set(req, () => {
      // Passed: hand Socket.IO the request as it came, without Express's prototypes and fields.
      Object.setPrototypeOf(req, proto[0]);
      Object.setPrototypeOf(res, proto[1]);
      for (const k of own[0]) delete (req as unknown as Record<string, unknown>)[k];
      for (const k of own[1]) delete (res as unknown as Record<string, unknown>)[k];
      once();
    });
    try {
      this.app(req as express.Request, res as unknown as express.Response, (err?: unknown) =>
        once(err ?? new Refused("router-end", 404)),
      );
    } catch (err) {
      once(err);
    }
    return () => {
      done = true;
      this.pending.delete(req);
    };
  }

  /** Answers a request the middleware refused by an error, unless it has answered already. */
  private refuse(res: ServerResponse, err: unknown): void {
    if (!(err instanceof Refused && err.status === 404)) this.failed(messageOf(err));
    answerRefusal(res, err);
  }

  private failed(what: WordValue): void {
    this.lastFailure = what;
    this.failures.add();
  }
}
