import * as msgpackParser from "socket.io-msgpack-parser";
import type { Connection } from "./decoder-connections";

// A client whose parser is not the server's gets a connect_error in its own parser's format, naming
// the parser it needs, before its connection is closed: not a silent loop of reconnects.

/** What such a client is told (Socket.IO wire text: English, as Socket.IO's own). */
export const WRONG_PARSER = {
  json: "this server uses the default (JSON) parser: connect without socket.io-msgpack-parser",
  msgpack: "this server uses the msgpack parser: connect with socket.io-msgpack-parser as the client's parser",
} as const;

const CONNECT_ERROR = 4;

/** Answers a JSON client's text packet with a CONNECT_ERROR to its namespace, in JSON. */
export function answerInJson(conn: Connection | undefined, packet: string, message: string): void {
  // "0/admin,{...}" or "0{...}": the namespace, when there is one, runs from "/" to ",".
  const nsp = /^\d+(?:-)?(\/[^,]*),/.exec(packet)?.[1] ?? "/";
  conn?.write(`${CONNECT_ERROR}${nsp === "/" ? "" : nsp + ","}${JSON.stringify({ message })}`);
}

/** Answers a msgpack client's binary packet with a CONNECT_ERROR to its namespace, in msgpack. */
export function answerInMsgpack(conn: Connection | undefined, packet: unknown, message: string): void {
  let nsp = "/";
  try {
    const decoder = new msgpackParser.Decoder();
    decoder.on("decoded", (p: { nsp?: unknown }) => {
      if (typeof p?.nsp === "string") nsp = p.nsp;
    });
    decoder.add(packet);
  } catch {
    // not msgpack either: the main namespace
  }
  const [frame] = new msgpackParser.Encoder().encode({ type: CONNECT_ERROR, nsp, data: { message } }) as unknown as [
    Buffer,
  ];
  conn?.write(frame);
}
