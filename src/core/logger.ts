/** Where the core reports what a user should see in the log; a node adapter passes its node's log. */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
  /** Information (a broker connected again); a node adapter passes its node's `log`. */
  log?(message: string): void;
}

/** Used when no adapter gave a logger (the core's own unit tests). */
export const consoleLogger: Logger = {
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
  log: (m) => console.log(m),
};
