// What the Socket.IO v2 client specs share: socket.io-client 2.x clients (Engine.IO 3) that are closed
// after each test, how their connection attempts end, and their flow: a middleware that admits the
// query token "secret", events answered back, acknowledgements both ways, a room.
import ioV2, { type V2Options, type V2Socket } from "socket.io-client-v2";
import {
  ackNode,
  ackWait,
  EDITOR_DEFAULTS,
  emitNode,
  endNode,
  functionNode,
  helperNode,
  joinPayloadNode,
  onEvent,
  onNode,
  onTab,
  serverConfig,
  startNode,
  type FlowNode,
  type Props,
} from "./flow-fixtures";

export type { V2Socket };

const clients = new Set<V2Socket>();

/** A v2 client that is closed after the test. Defaults to WebSocket, no reconnection. */
export function v2Client(url: string, opts: V2Options = {}): V2Socket {
  const socket = ioV2(url, { transports: ["websocket"], reconnection: false, forceNew: true, ...opts });
  clients.add(socket);
  return socket;
}

/**
 * How a v2 client's attempt ended: connected; or refused, by the transport (`connect_error`, an
 * Error) or by a middleware (`error`, with the refusal's message or data as the server sent it).
 */
export type V2Outcome = { admitted: true } | { admitted: false; event: "connect_error" | "error"; detail: unknown };

/** Resolves with how `c`'s connection attempt ended, or rejects when it did not end within `ms`. */
export function v2Attempt(c: V2Socket, ms = 3000): Promise<V2Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`neither connect nor an error within ${ms} ms`)), ms);
    const end = (outcome: V2Outcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    c.once("connect", () => end({ admitted: true }));
    c.once("connect_error", (err: Error) => end({ admitted: false, event: "connect_error", detail: err }));
    c.once("error", (detail: unknown) => end({ admitted: false, event: "error", detail }));
  });
}

/** A v2 client that has connected; rejects with how it was refused. */
export async function v2Connected(url: string, opts: V2Options = {}, ms = 3000): Promise<V2Socket> {
  const c = v2Client(url, opts);
  const outcome = await v2Attempt(c, ms);
  if (!outcome.admitted) throw new Error(`refused (${outcome.event}): ${String(outcome.detail)}`);
  return c;
}

/** Closes every client `v2Client` opened. */
export function closeV2Clients(): void {
  for (const socket of clients) socket.close();
  clients.clear();
}

/** The query token the middleware admits, and what it tells a client without it. */
export const TOKEN = "secret";
export const REFUSAL = "bad token";

/** Admits the query token; a refusal of the token "data" carries msg.errData. */
const CHECK = `const token = msg.socket.handshake.query.token;
msg.payload = token === "${TOKEN}";
if (token === "data") msg.errData = { retry: false };
return msg;`;

/**
 * Middleware "gate" in "/": admits the query token "secret", else refuses with "bad token" (with the
 * token "data", with msg.errData `{ retry: false }`); its msgs also go to `alsoTo`.
 */
export const gateNodes = (alsoTo: string[] = []): FlowNode[] => [
  startNode("gate", ["check", ...alsoTo]),
  functionNode("check", CHECK, ["end"], EDITOR_DEFAULTS.function()),
  endNode("end", REFUSAL),
];

/** "hello" is answered to its sender as "greeting"; its msgs also go to `alsoTo`. */
export const greetNodes = (alsoTo: string[] = []): FlowNode[] => [
  onEvent("on-hello", "hello", [...alsoTo, "greet"]),
  emitNode("greet", "reply", "greeting"),
];

/**
 * Server "srv" on `port` with Accept Socket.IO v2 clients (unless `server` says otherwise), on tab "v2":
 * - the gate (`gateNodes`), whose msgs go to "gated";
 * - connections to "conns" ("/") and "chatConns" ("/chat", no middleware);
 * - "hello" goes to "hellos" and is answered "greeting" (`greetNodes`); "tick" goes to "ticks" only;
 * - "ask" is acknowledged with its payload; "quiz" makes the flow ask the sender "question" and wait
 *   for its acknowledgement, which goes to "answers";
 * - "join" joins the rooms in its payload and is answered "joined"; node "news" emits "news" to room "garden".
 */
export function v2Flow(port: number, server: Props = {}): FlowNode[] {
  return [
    serverConfig(port, { allowEIO3: true, ...server }),
    ...onTab("v2", [
      ...gateNodes(["gated"]),
      helperNode("gated"),
      onNode("on-conn", "connection", ["conns"]),
      helperNode("conns"),
      onNode("chat-conn", "connection", ["chatConns"], { namespace: "/chat" }),
      helperNode("chatConns"),
      ...greetNodes(["hellos"]),
      helperNode("hellos"),
      onEvent("on-tick", "tick", ["ticks"]),
      helperNode("ticks"),
      onEvent("on-ask", "ask", ["ack"]),
      ackNode("ack"),
      onEvent("on-quiz", "quiz", ["question"]),
      emitNode("question", "reply", "question", ackWait(2000, "answers")),
      helperNode("answers"),
      onEvent("on-join", "join", ["joiner"]),
      joinPayloadNode("joiner", ["joined"]),
      emitNode("joined", "reply", "joined"),
      emitNode("news", "rooms", "news", { rooms: "garden", roomsType: "str" }),
    ]),
  ];
}

/** Client event "chat" is emitted as "chat", with the sender's text, to every client in "/". */
export const chatNodes = (): FlowNode[] => [onEvent("on-chat", "chat", ["to-all"]), emitNode("to-all", "all", "chat")];
