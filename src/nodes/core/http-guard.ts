import { createHash, timingSafeEqual } from "node:crypto";
import { STATUS_CODES, ServerResponse, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import bcrypt from "bcryptjs";
import express from "express";
import { basicCredentials } from "./http-request-parts";
import type { Logger } from "./logger";
import { kindOf, Problem, Term, type WordValue } from "./problem";
import { RateLimitedReport } from "./rate-limited-report";

/** An Express middleware: `(req, res, next)`, or `(err, req, res, next)` to handle an error. */
export type Middleware = (...args: any[]) => unknown;

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

/** A refusal of the middleware that is not an error response of its own; its message is never shown. */
class Refused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Calls `fn`, turning a rejected promise into `next(err)` as Express 5 does (Express 4 only catches throws). */
function settled(fn: Middleware): Middleware {
  const run = (next: (err?: unknown) => void, call: (next: (err?: unknown) => void) => unknown): void => {
    // next('route') and next('router') skip an http in node's route: here they refuse, never admit.
    const onward = (err?: unknown): void =>
      next(err === "route" || err === "router" ? new Refused(`next('${err}')`, 404) : err);
    const out = call(onward) as PromiseLike<unknown> | undefined;
    if (out && typeof out.then === "function")
      out.then(undefined, (err: unknown) => next(err ?? new Problem("http.promiseRejected")));
  };
  return fn.length === 4
    ? (err: unknown, req: unknown, res: unknown, next: (err?: unknown) => void) =>
        run(next, (onward) => fn(err, req, res, onward))
    : (req: unknown, res: unknown, next: (err?: unknown) => void) => run(next, (onward) => fn(req, res, onward));
}

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

/** The status a refusal by error gets: the error's own 4xx/5xx status, else 500. */
function statusOf(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = Number(e?.status ?? e?.statusCode);
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Node-RED's `httpNodeAuth` with `{user, pass}`, as Node-RED itself applies it: Basic authentication
 * against a bcrypt hash, or a 32-character MD5 hash (Node-RED's legacy form). OPTIONS requests pass
 * (CORS preflights carry no credentials). The last good password is remembered, so polling requests
 * do not pay for bcrypt each time.
 *
 * @example
 * const check = basicAuth("admin", "$2b$08$...");  // node-red admin hash-pw
 */
export function basicAuth(user: string, pass: string): Middleware {
  const matches: (given: string) => Promise<boolean> =
    pass.length === 32
      ? async (given) => {
          const hash = Buffer.from(createHash("md5").update(given, "utf8").digest("hex"));
          const want = Buffer.from(pass);
          return hash.length === want.length && timingSafeEqual(hash, want);
        }
      : (given) => bcrypt.compare(given, pass).catch(() => false);
  let remembered: string | undefined;
  return async (req: IncomingMessage, res: express.Response, next: (err?: unknown) => void) => {
    if (req.method === "OPTIONS") return next();
    const given = basicCredentials(req);
    const ok = !!given && given.name === user && (given.pass === remembered || (await matches(given.pass)));
    if (!ok) {
      res.set("WWW-Authenticate", 'Basic realm="Authorization Required"');
      res.sendStatus(401);
      return;
    }
    remembered = given.pass;
    next();
  };
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
 * const guard = HttpGuard.of([basicAuth("admin", hash)], log);
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
   * @param middleware run in this order; undefined for a guard that refuses everything (`refusing`)
   * @param reason why everything is refused, for the log
   */
  private constructor(
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
    if (!middleware) return;
    const app = express();
    app.disable("x-powered-by");
    for (const fn of middleware) app.use(settled(fn));
    app.use((req: IncomingMessage) => this.pending.get(req)?.());
    this.app = app;
  }

  /**
   * A guard that runs `middleware` in order.
   * @throws HttpGuardError when an entry is neither a function nor an array of them
   */
  static of(middleware: MiddlewareList, log: Logger, options: HttpGuardOptions = {}): HttpGuard {
    return new HttpGuard(flatten(middleware, "middleware"), log, options);
  }

  /**
   * A guard that refuses every request (500), for security settings that cannot run.
   * @param reason why, worded by the caller (or a term of the server node's catalog)
   */
  static refusing(reason: WordValue, log: Logger, options: HttpGuardOptions = {}): HttpGuard {
    return new HttpGuard(undefined, log, options, reason);
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
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = statusOf(err);
    const body = STATUS_CODES[status] ?? "Error";
    res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }

  private failed(what: WordValue): void {
    this.lastFailure = what;
    this.failures.add();
  }
}
