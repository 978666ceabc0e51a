/**
 * Counts occurrences of one kind of trouble and reports them at most once per interval: the first
 * one at once, the ones after it summed up when the interval has passed. A broker outage can fail
 * thousands of emits a second; the log gets one line per interval with their number.
 *
 * @example
 * const undelivered = new RateLimitedReport((count) => log.warn("redis.undelivered", { count, url }), 10_000);
 * undelivered.add();     // writes the line with count 1 now
 * undelivered.add(41);   // counted; written when 10 s have passed since the last line
 * undelivered.stop();    // writes what is still counted, and stops
 */
export class RateLimitedReport {
  private count = 0;
  private lastWritten = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * @param write called with the number of occurrences since the last line
   * @param intervalMs the shortest time between two lines. @default 10000
   */
  constructor(
    private readonly write: (count: number) => void,
    readonly intervalMs = 10_000,
  ) {}

  /** How many occurrences are counted and not yet written. */
  get pending(): number {
    return this.count;
  }

  add(n = 1): void {
    if (this.stopped || n <= 0) return;
    this.count += n;
    if (this.timer) return;
    const wait = this.lastWritten + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  /** Writes what is still counted and stops counting. */
  stop(): void {
    this.flush();
    this.stopped = true;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    const n = this.count;
    this.count = 0;
    this.lastWritten = Date.now();
    this.write(n);
  }
}
