/** How `withTimeout` waits. */
export interface TimeoutOptions {
  /** Lets the process exit while the timer runs. */
  unref?: boolean;
  /**
   * Gives the verdict only after the next poll phase. After an event loop blocked longer than the
   * time allowed, timers run before the answers waiting in sockets are read: one already there still wins.
   */
  afterIo?: boolean;
}

/** Whether a value is a Promise, or any thenable. */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | undefined)?.then === "function";

/**
 * `promise`'s outcome, or a rejection with `timedOut()`'s error once it has been pending for `ms`.
 * The timer is cleared as soon as the promise settles, so it never keeps the process waiting for
 * nothing. `timedOut` runs only when the time is up: it may take note of it. A promise that settles
 * after losing the race is ignored, its rejection handled.
 *
 * @example
 * const answers = await withTimeout(nsp.serverSideEmitWithAck("ping"), 2000, () => new Error("too late"));
 */
export function withTimeout<T>(
  promise: PromiseLike<T>,
  ms: number,
  timedOut: () => Error,
  options: TimeoutOptions = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const verdict = (): void => {
      if (!settled) reject(timedOut());
    };
    const timer = setTimeout(() => (options.afterIo ? setImmediate(verdict) : verdict()), ms);
    if (options.unref) timer.unref();
    promise.then(
      (value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
