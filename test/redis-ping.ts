import { connect } from "node:net";

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
