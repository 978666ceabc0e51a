import type { Socket } from "socket.io";
import type { Logger } from "./logger";
import { RefusedError, REFUSALS } from "./middleware-chain";
import { RateLimitedReport } from "./rate-limited-report";

/** After this many refused attempts to join a namespace, a connection is closed: no endless guessing. */
export const MAX_REFUSALS = 5;
// Engine.IO connection (Socket.IO's Client) -> refused attempts, over all namespaces of a server.
const refusals = new WeakMap<object, number>();

/** CONNECTs for a namespace repeated while an attempt is in flight that share its outcome. */
const MAX_REPEATS = 2;

/** One connection's attempt to join a namespace: how it ends, and how often CONNECT came again meanwhile. */
interface Attempt {
  outcome: Promise<Error | undefined>;
  repeats: number;
}

/**
 * The attempts of connections to join one namespace. One connection has one attempt in the middleware
 * at a time, so 20,000 CONNECT packets cost one middleware run, not 20,000. socket.io-client sends
 * CONNECT again when an app calls connect() on a socket that is still connecting: a few such repeats
 * share the attempt's outcome without running the middleware again; more are refused. A connection
 * refused MAX_REFUSALS times is closed.
 */
export class ConnectAttempts {
  /** Connection (Socket.IO's Client) -> its attempt to join this namespace. */
  private readonly attempts = new WeakMap<object, Attempt>();
  private readonly closedForRefusals: RateLimitedReport;

  constructor(namespace: string, log: Logger) {
    this.closedForRefusals = new RateLimitedReport((count) =>
      log.warn("hub.refusals", { count, max: MAX_REFUSALS, namespace }),
    );
  }

  /**
   * A socket's attempt: `check` decides it (resolving to the refusal, or undefined to admit), unless
   * the connection has an attempt in flight already.
   * @param check undefined when there is nothing to check: the socket is admitted at once
   */
  admit(socket: Socket, next: (err?: Error) => void, check: () => Promise<Error | undefined> | undefined): void {
    const client = socket.client;
    const current = this.attempts.get(client);
    if (current) {
      if (current.repeats++ < MAX_REPEATS) void current.outcome.then((refusal) => (refusal ? next(refusal) : next()));
      else this.refuse(socket, next, new RefusedError(REFUSALS.settingUp));
      return;
    }
    // Kept until the socket has connected, or been refused. Once connected, Socket.IO itself closes a
    // connection that sends CONNECT for a namespace it has joined.
    const outcome = check();
    if (!outcome) {
      this.attempts.set(client, { outcome: Promise.resolve(undefined), repeats: 0 });
      next();
      return;
    }
    const attempt: Attempt = { outcome, repeats: 0 };
    this.attempts.set(client, attempt);
    void outcome.then((refusal) => {
      if (!refusal) {
        next();
        return;
      }
      if (this.attempts.get(client) === attempt) this.attempts.delete(client);
      this.refuse(socket, next, refusal);
    });
  }

  /** The socket has joined: its attempt is over. */
  connected(socket: Socket): void {
    this.attempts.delete(socket.client);
  }

  /** Writes what the report still counts (the server is closing). */
  stop(): void {
    this.closedForRefusals.stop();
  }

  private refuse(socket: Socket, next: (err?: Error) => void, refusal: Error): void {
    next(refusal);
    const client = socket.client;
    const count = (refusals.get(client) ?? 0) + 1;
    refusals.set(client, count);
    if (count === MAX_REFUSALS) {
      this.closedForRefusals.add();
      // After Socket.IO has sent the CONNECT_ERROR (it does so on the next tick).
      setImmediate(() => socket.conn.close());
    }
  }
}
