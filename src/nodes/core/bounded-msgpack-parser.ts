import * as msgpackParser from "socket.io-msgpack-parser";
import { parserParts, refusalWhy, type BoundedParser, type ParserLimits, type PacketRefusal } from "./bounded-parser";
import { addressOf } from "./decoder-connections";
import type { Logger } from "./logger";
import { valueDepth } from "./packet-measures";
import { Problem } from "./problem";
import { answerInJson, WRONG_PARSER } from "./wrong-parser";

/**
 * The "msgpack" Parser: socket.io-msgpack-parser's wire format (one binary frame per packet, binary
 * data inline), for clients configured with the same parser. Its Decoder bounds what the JSON one
 * bounds where msgpack has it: how deep a packet nests (Node-RED's cloneMessage recurses, and so does
 * msgpack's own decoder, whose stack overflow counts as too deep). Max buffer size already bounds the
 * frame. A text frame is a JSON client's: it is told which parser to use, and its connection closed.
 *
 * @param engineOf the server's Engine.IO server once it is attached (`() => io.engine`)
 */
export function boundedMsgpackParser(
  limitsIn: ParserLimits,
  log: Pick<Logger, "warn">,
  engineOf: () => object | undefined = () => undefined,
): BoundedParser {
  const { limits, refusals, connections } = parserParts(limitsIn, log, engineOf);

  class BoundedMsgpackDecoder extends msgpackParser.Decoder {
    private readonly conn = connections.now();

    override add(obj: unknown): void {
      if (typeof obj === "string") {
        answerInJson(this.conn, obj, WRONG_PARSER.msgpack);
        this.refuse("notMsgpack");
      }
      try {
        super.add(obj);
      } catch (err) {
        if (err instanceof RangeError) this.refuse("deep");
        throw err;
      }
    }

    // socket.io-msgpack-parser decodes and emits "decoded" in one call: the depth is checked between.
    override emit(event: string, ...args: unknown[]): this {
      const packet = args[0] as { data?: unknown } | undefined;
      // Counted as for JSON: the arguments array is the first level.
      if (event === "decoded" && valueDepth(packet?.data, limits.maxDepth) > limits.maxDepth) this.refuse("deep");
      return super.emit(event, ...args);
    }

    private refuse(kind: PacketRefusal): never {
      refusals.add(kind, addressOf(this.conn));
      throw new Problem("packet.closed", { why: refusalWhy(kind, limits) });
    }
  }

  return {
    Encoder: msgpackParser.Encoder as unknown as BoundedParser["Encoder"],
    Decoder: BoundedMsgpackDecoder as unknown as BoundedParser["Decoder"],
    stop: () => refusals.stop(),
  };
}
