/**
 * How the middleware in front of the Socket.IO endpoint refuses a request: it throws, rejects, calls
 * `next(err)`, or `next('route')` / `next('router')`, which skip an http in route in Node-RED but only
 * refuse here. A refusal never admits; it gets the error's 4xx/5xx status, else 500.
 */
import { STATUS_CODES, type ServerResponse } from "node:http";
import type { ErrorHandler, Handler, Middleware, Next } from "./http-guard";
import { Problem } from "./problem";

/** A refusal of the middleware that is not an error response of its own; its message is never shown. */
export class Refused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Calls `fn`, turning a rejected promise into `next(err)` as Express 5 does (Express 4 only catches throws). */
export function settled(fn: Middleware): Middleware {
  const run = (next: Next, call: (next: Next) => unknown): void => {
    const onward = (err?: unknown): void =>
      next(err === "route" || err === "router" ? new Refused(`next('${err}')`, 404) : err);
    const out = call(onward) as PromiseLike<unknown> | undefined;
    if (out && typeof out.then === "function")
      out.then(undefined, (err: unknown) => next(err ?? new Problem("http.promiseRejected")));
  };
  // Express tells an error handler from other middleware by its four parameters, and so does this.
  if (fn.length === 4) {
    const handler = fn as ErrorHandler;
    const wrapped: ErrorHandler = (err, req, res, next) => run(next, (onward) => handler(err, req, res, onward));
    return wrapped;
  }
  const handler = fn as Handler;
  const wrapped: Handler = (req, res, next) => run(next, (onward) => handler(req, res, onward));
  return wrapped;
}

/** The status a refusal by error gets: the error's own 4xx/5xx status, else 500. */
function statusOf(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = Number(e?.status ?? e?.statusCode);
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Answers a request refused by an error with its status, unless the middleware has answered already. */
export function answerRefusal(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = statusOf(err);
  const body = STATUS_CODES[status] ?? "Error";
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
