import type { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server, Socket } from "socket.io";
import type { Logger } from "./logger";
import { clientCount, Term, type WordValues } from "./problem";
import { payloadPackets } from "./payload-packets";
import { RateLimitedReport } from "./rate-limited-report";

export { payloadPackets };

/**
 * Packets one polling request may carry. socket.io-client sends in one POST what the app emitted
 * while the previous POST was in flight, so only a polling client that emits more than this in one
 * go (a synchronous loop) meets the cap. Measured in Node-RED 4.1 on Node 20: Socket.IO handles a
 * payload synchronously at 4 to 20 µs a packet, so a full one blocks for 5 to 20 ms; five POSTs of
 * 56,536 packets (1 MB each) held a canary client's answers 1.9 s, or over 10 s when a flow took them.
 */
export const DEFAULT_MAX_PAYLOAD_PACKETS = 1000;

/** What the guard bounds on each connection of one server. */
export interface EngineLimits {
  /** Packets one polling request may carry. @default DEFAULT_MAX_PAYLOAD_PACKETS */
  maxPayloadPackets: number;
}

// engine.io's own WebSocket library names a frame over maxPayload (Max buffer size) with this code.
const WS_TOO_BIG = "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";

/** The parts of an Engine.IO transport the guard wraps; engine.io's own names. */
interface Transport extends EventEmitter {
  name: string;
  protocol: number;
  /** The ws WebSocket of a websocket transport. */
  socket?: EventEmitter;
  onData(data: string | Buffer): void;
  onRequest(req: IncomingMessage & { res?: ServerResponse }): void;
}

/** The parts of an Engine.IO connection the guard uses. */
interface Connection extends EventEmitter {
  transport: Transport;
  remoteAddress: string;
  readyState: string;
  close(discard?: boolean): void;
}

interface Engine extends EventEmitter {
  opts: { maxHttpBufferSize?: number };
}

/** What the log says of a client whose address is not known. */
export const UNKNOWN_ADDRESS = new Term("core.unknownAddress");

/**
 * One kind of closed connection, summed in one rate-limited warning (`code`, with `clients` and
 * `address`, the latest one's) among the lines "N clients disconnected: why; latest from where."
 */
export class ClosedConnections {
  private latest: string | Term = UNKNOWN_ADDRESS;
  private readonly report: RateLimitedReport;

  constructor(log: Pick<Logger, "warn">, code: string, values: () => WordValues, intervalMs: number) {
    this.report = new RateLimitedReport(
      (n) => log.warn(code, { clients: clientCount(n), address: this.latest, ...values() }),
      intervalMs,
    );
  }

  add(address: string | undefined): void {
    this.latest = address || UNKNOWN_ADDRESS;
    this.report.add();
  }

  stop(): void {
    this.report.stop();
  }
}

/**
 * Engine.IO-level protections for one Socket.IO server, wrapped around each connection (never
 * around engine.io's prototypes):
 * - a polling request carrying more than `maxPayloadPackets` packets is refused before any of them
 *   is decoded, and its connection closed;
 * - a message over Max buffer size (the 1009 WebSocket close, the 413 polling answer) is logged,
 *   and a polling connection is closed too instead of lingering until its ping timeout;
 * - a connection that left every namespace it joined is closed after Socket.IO's `connectTimeout`,
 *   as one that never joined is by Socket.IO itself.
 * Each kind of closed connection is summed in one rate-limited warning.
 *
 * @example
 * const io = new Server(options);
 * const guard = new EngineGuard(io, log);   // before io.attach()
 * // on shutdown
 * guard.stop();
 */
/** How many namespaces a socket's connection has joined now: Socket.IO's Client keeps them. */
function joinedCount(socket: Socket): number {
  return (socket.client as unknown as { sockets: Map<string, Socket> }).sockets.size;
}

export class EngineGuard {
  private readonly limits: EngineLimits;
  private readonly tooManyPackets: ClosedConnections;
  private readonly tooBig: ClosedConnections;
  /** Connections that left every namespace, until they join again, close, or are closed. */
  private readonly idleTimers = new Map<Socket["conn"], NodeJS.Timeout>();
  /** Transports already wrapped: a client may announce an upgrade probe more than once. */
  private readonly watched = new WeakSet<Transport>();
  private maxBytes = 0;

  constructor(
    private readonly io: Server,
    log: Pick<Logger, "warn">,
    limits: Partial<EngineLimits> = {},
    intervalMs = 10_000,
  ) {
    this.limits = { maxPayloadPackets: DEFAULT_MAX_PAYLOAD_PACKETS, ...limits };
    this.tooManyPackets = new ClosedConnections(
      log,
      "engine.tooManyPackets",
      () => ({ max: this.limits.maxPayloadPackets }),
      intervalMs,
    );
    this.tooBig = new ClosedConnections(log, "engine.tooBig", () => ({ max: this.maxBytes }), intervalMs);
    // io.engine exists only once attach() binds it: hook in at that moment, on this server only.
    const bind = io.bind.bind(io);
    io.bind = (engine) => {
      this.watchEngine(engine as unknown as Engine);
      return bind(engine);
    };
    io.on("new_namespace", (nsp) => nsp.on("connection", (socket: Socket) => this.onJoin(socket)));
    // "/" was made in Server's constructor, before the listener above.
    io.of("/").on("connection", (socket: Socket) => this.onJoin(socket));
  }

  /** Writes the warnings still counted and stops. */
  stop(): void {
    this.tooManyPackets.stop();
    this.tooBig.stop();
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
  }

  private watchEngine(engine: Engine): void {
    this.maxBytes = engine.opts.maxHttpBufferSize ?? 1e6;
    engine.on("connection", (conn: Connection) => {
      this.watchTransport(conn, conn.transport, true);
      // A probe transport during an upgrade, before it becomes conn.transport. A connection that
      // opened on WebSocket has nothing to upgrade to: no listener (and no memory) for it.
      if (conn.transport.name !== "websocket")
        conn.on("upgrading", (transport: Transport) => this.watchTransport(conn, transport));
    });
  }

  /**
   * Wraps a transport once: a client may announce an upgrade probe more than once. A connection's
   * first transport comes once, so it is not remembered.
   */
  private watchTransport(conn: Connection, transport: Transport, first = false): void {
    if (!first) {
      if (this.watched.has(transport)) return;
      this.watched.add(transport);
    }
    if (transport.name === "websocket") {
      transport.socket?.on("error", (err: { code?: string }) => {
        if (err?.code === WS_TOO_BIG) this.tooBig.add(conn.remoteAddress);
      });
      return;
    }
    if (transport.name !== "polling") return;
    const decode = transport.onData.bind(transport);
    transport.onData = (data) => {
      if (payloadPackets(data, transport.protocol, this.limits.maxPayloadPackets) <= this.limits.maxPayloadPackets) {
        decode(data);
        return;
      }
      this.tooManyPackets.add(conn.remoteAddress);
      // Discard: closed now, without waiting for the client's next poll.
      conn.close(true);
    };
    const request = transport.onRequest.bind(transport);
    transport.onRequest = (req) => {
      const res = req.res;
      if (req.method === "POST" && res) {
        // engine.io answers 413 to a body over Max buffer size, and keeps the connection open.
        res.once("close", () => {
          if (res.statusCode !== 413) return;
          this.tooBig.add(conn.remoteAddress);
          if (conn.readyState === "open") conn.close(true);
        });
      }
      request(req);
    };
  }

  /**
   * A socket joined a namespace. What a connection has joined is Socket.IO's own count (its Client's
   * sockets), and the listener is one function for all sockets: nothing is kept per connection.
   */
  private onJoin(socket: Socket): void {
    if (this.idleTimers.size > 0) this.stopIdleTimer(socket.conn);
    socket.on("disconnect", this.onLeave);
  }

  /** A socket left its namespace (`this` is the socket); Socket.IO has removed it from its Client. */
  private readonly onLeave = ((guard: EngineGuard) =>
    function (this: Socket): void {
      if (joinedCount(this) === 0 && this.conn.readyState === "open") guard.startIdleTimer(this);
    })(this);

  /** Socket.IO closes a connection that joins no namespace in time, but not one that joined and left. */
  private startIdleTimer(socket: Socket): void {
    const conn = socket.conn;
    if (this.idleTimers.has(conn)) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(conn);
      if (joinedCount(socket) === 0) conn.close();
    }, this.io.connectTimeout());
    timer.unref();
    this.idleTimers.set(conn, timer);
    conn.once("close", () => this.stopIdleTimer(conn));
  }

  private stopIdleTimer(conn: Socket["conn"]): void {
    clearTimeout(this.idleTimers.get(conn));
    this.idleTimers.delete(conn);
  }
}
