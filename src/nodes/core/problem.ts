/**
 * What the core tells a user, without words: a code and the values that fill it in. The node layer
 * words them from the locale files (`nodes/locales/<lang>/socket-io-server.json`: a Problem's code
 * under `core`, a Term's path from the top of that catalog), so every sentence a Node-RED user sees
 * comes from the locale files. Strings a client gets on the wire (connect_error messages) are
 * protocol, not words: they stay constants where they are sent.
 *
 * @example
 * throw new Problem("setting.integer", { setting: settingLabel("port"), min: 1, max: 65535, value: "abc" });
 * log.warn("hub.rateDropped", { count: 3, namespace: "/chat" });
 */

/** A value that fills a code in: plain, a Term worded in turn, or a list of them (joined with ", "). */
export type WordValue = string | number | Term | readonly (string | number | Term)[];
export type WordValues = Readonly<Record<string, WordValue>>;

/** How the node layer words a code and its values: `path` is a key of the server node's catalog. */
export type Wording = (path: string, values: WordValues) => string;

/** Until the node layer installs its catalogs (the core's own unit tests): the code and its values. */
export const codeWording: Wording = (path, values) => {
  const shown = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, plain(v)]));
  return Object.keys(shown).length === 0 ? path : `${path} ${JSON.stringify(shown)}`;
};

let wording: Wording = codeWording;

function plain(value: WordValue): unknown {
  if (value instanceof Term) return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** Installs how problems are worded from now on; the node layer calls it with its locale catalogs. */
export function useWording(fn: Wording): void {
  wording = fn;
}

/** A word of the server node's catalog, named by its path there: a value's kind, a setting's label. */
export class Term {
  constructor(
    readonly path: string,
    readonly values: WordValues = {},
  ) {}

  toString(): string {
    return wording(this.path, this.values);
  }
}

/**
 * An error a user can do something about. `code` names its wording (under `core` in the server node's
 * catalog), `values` fill it in; the message is worded when the Problem is made. Its `name` is plain
 * "Error": Node-RED puts the name in front of the message.
 */
export class Problem extends Error {
  constructor(
    readonly code: string,
    readonly values: WordValues = {},
  ) {
    super(wording(`core.${code}`, values));
  }
}

/** Words a core code (a log line) as a Problem's message is worded. */
export function wordCode(code: string, values: WordValues = {}): string {
  return wording(`core.${code}`, values);
}

/** The dialog label of a socket-io-server setting, by its property name ("pingInterval"). */
export function settingLabel(property: string): Term {
  return new Term(`label.${property}`);
}

/**
 * A value's kind, for "must be ..., not <kind>": "an array", "an object", `string "abc"`.
 * @example
 * throw new Problem("emit.roomList", { what: "msg.room", kind: kindOf(msg.room) });
 */
export function kindOf(value: unknown): Term {
  if (value === null || value === undefined) return new Term(`kind.${value}`);
  if (Array.isArray(value)) return new Term("kind.array");
  if (Buffer.isBuffer(value)) return new Term("kind.buffer");
  switch (typeof value) {
    case "object":
      return new Term("kind.object");
    case "function":
      return new Term("kind.function");
    case "string":
      return new Term("kind.value", { type: "string", value: JSON.stringify(value) });
    default:
      return new Term("kind.value", { type: typeof value, value: String(value) });
  }
}

/** How many clients: "1 client", "3 clients". */
export function clientCount(count: number): Term {
  return new Term("count.clients", { count });
}
