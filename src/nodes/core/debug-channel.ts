/**
 * A `debug`-style trace of the core's internals for bug reports, off unless asked for:
 * `DEBUG=node-red-contrib-socket-io:* node-red` prints what the registry, the HTTP mount and the
 * Redis link do, the way `DEBUG=socket.io:*` does for Socket.IO. The package may have only six
 * dependencies, so this is the small part of the `debug` package it needs: the same `DEBUG` syntax
 * (names separated by commas or spaces, `*` as a wildcard, a leading `-` to leave a name out),
 * lines on stderr.
 *
 * @example
 * const debug = debugChannel("registry");
 * debug("parked server on %s for %d ms", key, ms);
 */
import { format } from "node:util";

const PREFIX = "node-red-contrib-socket-io";

/** A writer of trace lines; `enabled` is false when DEBUG does not name its channel. */
export interface DebugFn {
  (formatString: string, ...args: unknown[]): void;
  readonly enabled: boolean;
}

/** Whether the `DEBUG` value `spec` turns on the channel `name` (a later `-name` wins over `*`). */
export function debugEnabled(spec: string | undefined, name: string): boolean {
  let on = false;
  for (const part of (spec ?? "").split(/[\s,]+/).filter(Boolean)) {
    const skip = part.startsWith("-");
    const pattern = new RegExp(
      `^${(skip ? part.slice(1) : part).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`,
    );
    if (pattern.test(name)) on = !skip;
  }
  return on;
}

/** The trace channel `node-red-contrib-socket-io:<module>`, read from `DEBUG` once, when created. */
export function debugChannel(module: string, env: NodeJS.ProcessEnv = process.env): DebugFn {
  const name = `${PREFIX}:${module}`;
  const enabled = debugEnabled(env.DEBUG, name);
  const write = (formatString: string, ...args: unknown[]): void => {
    if (enabled) process.stderr.write(`${new Date().toISOString()} ${name} ${format(formatString, ...args)}\n`);
  };
  return Object.assign(write, { enabled });
}
