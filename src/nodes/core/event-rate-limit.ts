/** What one socket may send: `rate` events per second on average, `burst` at once. 0 turns it off. */
export interface EventLimit {
  rate: number;
  burst: number;
}

export type Verdict = "allow" | "drop" | "disconnect";

/**
 * A token bucket for the events of one socket. Each event takes a token; tokens come back at `rate`
 * per second up to `burst`. An event without a token is dropped. A socket that has more events dropped
 * within one second than its whole allowance (more than `rate + burst`) is far over the limit: a
 * flood, not a busy client, and it is disconnected.
 *
 * @example
 * const bucket = new EventBucket({ rate: 100, burst: 200 });
 * if (bucket.take() !== "allow") ...
 */
export class EventBucket {
  private tokens: number;
  private last: number;
  private windowStart: number;
  private droppedInWindow = 0;

  constructor(
    private readonly limit: EventLimit,
    now = Date.now(),
  ) {
    this.tokens = limit.burst;
    this.last = now;
    this.windowStart = now;
  }

  take(now = Date.now()): Verdict {
    const { rate, burst } = this.limit;
    if (now > this.last) {
      this.tokens = Math.min(burst, this.tokens + ((now - this.last) * rate) / 1000);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return "allow";
    }
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.droppedInWindow = 0;
    }
    this.droppedInWindow++;
    return this.droppedInWindow > rate + burst ? "disconnect" : "drop";
  }
}
