import { createRequire } from "node:module";
import type * as SocketIoParser from "socket.io-parser";
import { addressOf, decoderConnections } from "./decoder-connections";
import { ClosedConnections } from "./engine-guard";
import { answerInMsgpack, WRONG_PARSER } from "./wrong-parser";
import type { Logger } from "./logger";
import { announcedAttachments, byteSize, jsonStart, nestingDepth } from "./packet-measures";
import { Problem, Term } from "./problem";

// The parser socket.io itself loads, so the wire format is exactly the server's.
const parser = createRequire(require.resolve("socket.io"))("socket.io-parser") as typeof SocketIoParser;

// Part of what this parser bounds; importers (and the tests) find them here.
export { jsonStart, nestingDepth };

/** What one packet from a client may hold before the connection is closed. */
export interface PacketLimits {
  /** Attachments (binary frames) one binary packet may announce. @default 10 (socket.io-parser's own) */
  maxAttachments: number;
  /** Bytes all attachments of one packet may hold together: the server's Max buffer size. */
  maxAttachmentBytes: number;
  /** How long an unfinished binary packet may wait for its attachments, ms. @default 10000 */
  attachmentTimeoutMs: number;
  /** How deep arrays and objects may nest in a packet's JSON, the arguments array included. @default 1000 */
  maxDepth: number;
}

/**
 * Node-RED deep-clones a msg (lodash cloneDeep) for every wire after the first and JSON.stringify-s
 * it for the debug sidebar; both recurse and overflowed the stack at about 2,100 levels in Node-RED 4.1
 * on Node 20. 1,000 leaves room for the frames already on the stack.
 */
export const DEFAULT_MAX_DEPTH = 1000;

export const DEFAULT_PACKET_LIMITS: Omit<PacketLimits, "maxAttachmentBytes"> = {
  maxAttachments: 10,
  attachmentTimeoutMs: 10_000,
  maxDepth: DEFAULT_MAX_DEPTH,
};

/** Why a connection was closed. */
export type PacketRefusal = "attachments" | "bytes" | "slow" | "deep" | "notJson" | "notMsgpack";

/** Why a packet was refused: a term of the server node's catalog, with the limit it broke. */
export function refusalWhy(kind: PacketRefusal, limits: PacketLimits): Term {
  switch (kind) {
    case "attachments":
      return new Term("core.packet.why.attachments", { max: limits.maxAttachments });
    case "bytes":
      return new Term("core.packet.why.bytes", { max: limits.maxAttachmentBytes });
    case "slow":
      return new Term("core.packet.why.slow", { seconds: limits.attachmentTimeoutMs / 1000 });
    case "deep":
      return new Term("core.packet.why.deep", { max: limits.maxDepth });
    case "notJson":
    case "notMsgpack":
      return new Term(`core.packet.why.${kind}`);
  }
}

/**
 * Counts the connections closed for each kind of refusal and logs them through a rate-limited
 * report: at most one line per kind and interval, naming the latest client address, worded as the
 * engine guard's lines ("N clients disconnected: why; latest from where.").
 */
export class PacketRefusals {
  private readonly reports = new Map<PacketRefusal, ClosedConnections>();

  constructor(
    private readonly limits: PacketLimits,
    private readonly log: Pick<Logger, "warn">,
    private readonly intervalMs = 10_000,
  ) {}

  add(kind: PacketRefusal, address?: string): void {
    let report = this.reports.get(kind);
    if (!report) {
      // A user can fix the one their own clients may cause, Max buffer size: that line says how.
      const code = kind === "bytes" ? "packet.refusedBytes" : "packet.refused";
      report = new ClosedConnections(this.log, code, () => ({ why: refusalWhy(kind, this.limits) }), this.intervalMs);
      this.reports.set(kind, report);
    }
    report.add(address);
  }

  /** Writes what is still counted and stops. */
  stop(): void {
    for (const report of this.reports.values()) report.stop();
  }
}

/** A socket.io-parser Encoder and a bounded Decoder, as Socket.IO's `parser` option takes them. */
export interface BoundedParser {
  Encoder: typeof SocketIoParser.Encoder;
  Decoder: new () => SocketIoParser.Decoder;
  /** Writes the refusals still counted and stops counting. */
  stop(): void;
}

/** Limits as a server gives them: Max buffer size, and the defaults for the rest. */
export type ParserLimits = Partial<PacketLimits> & Pick<PacketLimits, "maxAttachmentBytes">;

/** What both bounded parsers start from: the full limits, their refusals, and the decoders' connections. */
export function parserParts(limitsIn: ParserLimits, log: Pick<Logger, "warn">, engineOf: () => object | undefined) {
  const limits: PacketLimits = { ...DEFAULT_PACKET_LIMITS, ...limitsIn };
  return { limits, refusals: new PacketRefusals(limits, log), connections: decoderConnections(engineOf) };
}

/**
 * A Socket.IO parser with the wire format of socket.io-parser whose Decoder bounds what one packet may
 * hold: its attachment count and bytes, how long it may wait for them, and how deep its JSON nests.
 * Over a limit, `add()` throws, and Socket.IO's Client closes that connection; an unfinished packet's
 * buffers are freed after the time bound and its connection closed. Each refusal is counted in one
 * rate-limited warning.
 *
 * @param engineOf the server's Engine.IO server once it is attached (`() => io.engine`), to close a
 *   connection whose packet timed out and to name client addresses
 * @example
 * const parser = boundedParser({ maxAttachmentBytes: 1e6 }, log, () => io.engine);
 * const io = new Server({ parser });
 * // on shutdown
 * parser.stop();
 */
export function boundedParser(
  limitsIn: ParserLimits,
  log: Pick<Logger, "warn">,
  engineOf: () => object | undefined = () => undefined,
): BoundedParser {
  const { limits, refusals, connections } = parserParts(limitsIn, log, engineOf);

  class BoundedDecoder extends parser.Decoder {
    private readonly conn = connections.now();
    /** The unfinished binary packet: attachments announced and received, bytes, and its deadline. */
    private waiting?: { announced: number; received: number; bytes: number; timer: NodeJS.Timeout };
    private expired = false;

    constructor() {
      super({ maxAttachments: limits.maxAttachments });
    }

    override add(obj: unknown): void {
      if (this.expired) throw new Problem("packet.expired");
      if (typeof obj === "string") {
        if (obj.length > 2 * limits.maxDepth && nestingDepth(obj, jsonStart(obj), limits.maxDepth) > limits.maxDepth)
          this.refuse("deep");
        if (announcedAttachments(obj) > limits.maxAttachments) this.refuse("attachments");
      } else if (this.waiting) {
        this.waiting.bytes += byteSize(obj);
        if (this.waiting.bytes > limits.maxAttachmentBytes) this.refuse("bytes");
      } else {
        // Binary with no packet waiting for attachments: a msgpack client's packet.
        answerInMsgpack(this.conn, obj, WRONG_PARSER.json);
        this.refuse("notJson");
      }
      try {
        super.add(obj);
      } catch (err) {
        this.destroy();
        throw err;
      }
      if (typeof obj === "string") {
        const announced = announcedAttachments(obj);
        if (announced > 0) this.wait(announced);
      } else if (this.waiting && ++this.waiting.received >= this.waiting.announced) {
        this.stopWaiting();
      }
    }

    override destroy(): void {
      this.stopWaiting();
      super.destroy();
    }

    private wait(announced: number): void {
      const timer = setTimeout(() => this.timedOut(), limits.attachmentTimeoutMs);
      timer.unref();
      this.waiting = { announced, received: 0, bytes: 0, timer };
    }

    private stopWaiting(): void {
      if (!this.waiting) return;
      clearTimeout(this.waiting.timer);
      this.waiting = undefined;
    }

    private timedOut(): void {
      this.waiting = undefined;
      this.destroy();
      // Without the connection at hand, it is closed at its next frame.
      this.expired = true;
      refusals.add("slow", this.address());
      this.conn?.close();
    }

    private refuse(kind: PacketRefusal): never {
      this.destroy();
      refusals.add(kind, this.address());
      throw new Problem("packet.closed", { why: refusalWhy(kind, limits) });
    }

    private address(): string | undefined {
      return addressOf(this.conn);
    }
  }

  return { Encoder: parser.Encoder, Decoder: BoundedDecoder, stop: () => refusals.stop() };
}
