import type { WordValues } from "./problem";

/**
 * Where the core reports what a user should see in the log: a code and its values (see Problem),
 * which a node adapter words from the locale files and writes to its node's log.
 */
export interface Logger {
  warn(code: string, values?: WordValues): void;
  error(code: string, values?: WordValues): void;
  /** Information (a broker connected again). */
  log?(code: string, values?: WordValues): void;
}
