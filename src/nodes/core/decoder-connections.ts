// Which Engine.IO connection a Socket.IO decoder decodes for. Socket.IO's Client makes one decoder
// per connection, right after the engine's "connection" event, without telling it the connection;
// the bounded decoders need it to name the client's address and to close the connection.

/** The part of an Engine.IO connection the decoders use. */
export interface Connection {
  remoteAddress?: string;
  /** Sends one Engine.IO message: a packet encoded by the parser. */
  write(data: string | Buffer): unknown;
  close(): void;
}

/** The part of an Engine.IO server the decoders use. */
interface Engine {
  clients?: Record<string, Connection>;
  prependListener(event: "connection", fn: (conn: Connection) => void): unknown;
}

/**
 * Tracks the connection each new decoder belongs to.
 * @param engineOf the server's Engine.IO server once it is attached (`() => io.engine`)
 * @returns `now()`, called in a decoder's constructor
 */
export function decoderConnections(engineOf: () => object | undefined): { now(): Connection | undefined } {
  const hooked = new WeakSet<object>();
  // Set by the engine's "connection" event just before Socket.IO's Client makes its decoder.
  let arriving: Connection | undefined;
  return {
    now() {
      const engine = engineOf() as Engine | undefined;
      if (!engine || typeof engine.prependListener !== "function") return undefined;
      if (!hooked.has(engine)) {
        hooked.add(engine);
        engine.prependListener("connection", (conn) => {
          arriving = conn;
        });
        // The first connection arrived before the hook: it is the newest the engine holds.
        const all = Object.values(engine.clients ?? {});
        return all[all.length - 1];
      }
      const conn = arriving;
      arriving = undefined;
      return conn;
    },
  };
}

/** A connection's client address, IPv4 without its IPv6 prefix. */
export const addressOf = (conn: Connection | undefined): string | undefined =>
  conn?.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
