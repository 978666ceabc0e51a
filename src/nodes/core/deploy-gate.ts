/**
 * A DeployGate is closed while Node-RED replaces its nodes during a deploy and open otherwise.
 *
 * Connections and client events keep arriving while the old nodes are gone and the new ones are not
 * there yet. Whatever would need a node (routing an event, running a middleware flow) waits at the
 * gate instead of being lost or slipping through unchecked.
 *
 * @example
 * const gate = new DeployGate();
 * gate.close();                 // flows:stopping
 * gate.whenOpen(() => flush()); // runs once the new nodes are started
 * gate.open();                  // flows:started
 */
export class DeployGate {
  private openNow = true;
  private waiters: Array<() => void> = [];

  /** True unless a deploy is in progress. */
  get isOpen(): boolean {
    return this.openNow;
  }

  close(): void {
    this.openNow = false;
  }

  open(): void {
    this.openNow = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const run of waiters) run();
  }

  /** Runs `fn` now if the gate is open, else once it opens. */
  whenOpen(fn: () => void): void {
    if (this.openNow) fn();
    else this.waiters.push(fn);
  }

  /**
   * Resolves true once the gate is open, or false when `ms` pass first.
   * The timer is unref'd: a closed gate never keeps the process alive.
   */
  waitOpen(ms: number): Promise<boolean> {
    if (this.openNow) return Promise.resolve(true);
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        this.waiters = this.waiters.filter((w) => w !== onOpen);
        resolve(false);
      }, ms);
      timer.unref?.();
      const onOpen = (): void => {
        if (settled) return;
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(onOpen);
    });
  }
}
