import type { DeployGate } from "./deploy-gate";
import type { SocketHandle } from "./socket-handle";

/** The outcome a call of `msg.next` reports back to its caller. */
export type NextResult = "admitted" | "refused" | "already-answered" | "timed-out";

/**
 * `msg.next`, Socket.IO style: `next()` admits, `next(err)` refuses with `err.message` and `err.data`.
 * It acts once; a clone of the msg calling it again gets "already-answered" and changes nothing.
 */
export type NextFn = (err?: Error) => NextResult;

/** One middleware flow: a start node hands the connection to the flow and waits for `next`. */
export interface MiddlewareStep {
  /** Node id: breaks ties between equal orders, so the order never depends on deploy timing. */
  readonly id: string;
  /** Steps run in ascending order. */
  readonly order: number;
  readonly timeoutMs: number;
  run(socket: SocketHandle, next: NextFn): void;
  /** Called when the flow did not answer in time (the connection is refused). */
  timedOut(socket: SocketHandle): void;
}

/** The error a refused client sees in `connect_error`; `data` becomes `err.data`. */
export class RefusedError extends Error {
  data?: unknown;
  constructor(message: string, data?: unknown) {
    super(message);
    if (data !== undefined) this.data = data;
  }
}

/**
 * What a refused client is told in `connect_error`. These are protocol, not words for the Node-RED
 * user: a client program reads them (an app may match "unauthorized"), so they are not translated.
 */
export const REFUSALS = {
  /** The middleware of a namespace cannot run (its start node's settings are bad). */
  misconfigured:
    "unauthorized: the server cannot check connections to this namespace (its middleware is misconfigured)",
  /** The middleware flow did not answer within its start node's timeout. */
  timedOut: "unauthorized: the server did not decide in time",
  /** A refusal without a message of its own. */
  unauthorized: "unauthorized",
  /** A deploy did not finish while the connection waited for it. */
  redeploying: "server is being redeployed, try again",
  /** The middleware was replaced under the connection too often. */
  redeployed: "middleware was redeployed while connecting, try again",
  /** CONNECT for a namespace sent again and again while the first attempt is in the middleware. */
  settingUp: "a connection to this namespace is already being set up",
} as const;

const RESTART = Symbol("restart");
/** A connection restarts the chain at most this many times when steps are replaced under it. */
const MAX_RESTARTS = 3;

/**
 * The ordered middleware steps of one namespace. Socket.IO's own `use()` cannot be undone, so each
 * namespace gets one `use()` that runs this chain, and start nodes add and remove their steps here.
 * A deploy therefore replaces a step instead of stacking another, and a closed node is never called.
 *
 * Fail closed: a step that does not answer within its timeout refuses the connection; a connection
 * that arrives during a deploy waits for the new steps; a connection whose step is removed while it
 * waits starts over with the steps in force.
 *
 * @example
 * const chain = new MiddlewareChain(gate);
 * const remove = chain.add(step);
 * const err = await chain.run(handle); // undefined: admitted
 */
export class MiddlewareChain {
  private steps: MiddlewareStep[] = [];
  private readonly cancels = new Map<MiddlewareStep, Set<() => void>>();

  /**
   * @param gate closed while a deploy is in progress
   * @param deployWaitMs how long a connection waits for a deploy to finish before it is refused
   */
  constructor(
    private readonly gate: DeployGate,
    private readonly deployWaitMs = 30_000,
  ) {}

  get size(): number {
    return this.steps.length;
  }

  /** Adds a step in its place; returns the function that removes it. */
  add(step: MiddlewareStep): () => void {
    this.steps = [...this.steps, step].sort(byOrder);
    return () => this.remove(step);
  }

  private remove(step: MiddlewareStep): void {
    this.steps = this.steps.filter((s) => s !== step);
    const waiting = this.cancels.get(step);
    this.cancels.delete(step);
    if (waiting) for (const cancel of waiting) cancel();
  }

  /** Runs every step for one connection attempt; resolves undefined to admit, or the refusal. */
  async run(socket: SocketHandle): Promise<RefusedError | undefined> {
    for (let attempt = 0; attempt <= MAX_RESTARTS; attempt++) {
      if (!(await this.gate.waitOpen(this.deployWaitMs))) {
        return new RefusedError(REFUSALS.redeploying);
      }
      const result = await this.runSteps(socket, [...this.steps]);
      if (result !== RESTART) return result;
    }
    return new RefusedError(REFUSALS.redeployed);
  }

  private async runSteps(
    socket: SocketHandle,
    steps: MiddlewareStep[],
  ): Promise<RefusedError | undefined | typeof RESTART> {
    for (const step of steps) {
      const outcome = await this.runStep(socket, step);
      if (outcome !== undefined) return outcome;
    }
    return undefined;
  }

  private runStep(socket: SocketHandle, step: MiddlewareStep): Promise<RefusedError | undefined | typeof RESTART> {
    return new Promise((resolve) => {
      // Once set, what a late call of `next` is told.
      let late: NextResult | undefined;
      const finish = (
        outcome: RefusedError | undefined | typeof RESTART,
        lateResult: NextResult = "already-answered",
      ): void => {
        late = lateResult;
        clearTimeout(timer);
        this.cancels.get(step)?.delete(cancel);
        resolve(outcome);
      };
      const cancel = (): void => {
        if (!late) finish(RESTART);
      };
      const timer = setTimeout(() => {
        if (late) return;
        finish(new RefusedError(REFUSALS.timedOut), "timed-out");
        step.timedOut(socket);
      }, step.timeoutMs);
      let set = this.cancels.get(step);
      if (!set) this.cancels.set(step, (set = new Set()));
      set.add(cancel);

      const next: NextFn = (err) => {
        if (late) return late;
        finish(err ? toRefusal(err) : undefined);
        return err ? "refused" : "admitted";
      };
      try {
        step.run(socket, next);
      } catch (err) {
        if (!late) finish(toRefusal(err as Error));
      }
    });
  }
}

/** Ascending order, then node id for equal orders. */
function byOrder(a: MiddlewareStep, b: MiddlewareStep): number {
  const order = a.order - b.order;
  if (order) return order;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

function toRefusal(err: Error): RefusedError {
  if (err instanceof RefusedError) return err;
  return new RefusedError(err.message || REFUSALS.unauthorized, (err as RefusedError).data);
}
