import { connect } from "node:net";

/** How to start the shared Redis of the scale-out tests and benchmark, for the lines that say it is missing. */
export const START_REDIS = `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`;

/** True under CI (CI set to anything but "" or "false"), where the Redis tests and scenario must run. */
export const underCi = (): boolean =>
  process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";

/**
 * Resolves true when something on 127.0.0.1:`port` answers a Redis PING (+PONG, or -NOAUTH from a
 * Redis with a password). Used by the scale-out tests and the benchmark's scale-out scenario.
 */
export function redisAnswers(port = 6379, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data: Buffer) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
    socket.once("error", () => done(false));
  });
}
