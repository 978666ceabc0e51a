// socket.io-client 2.x (devDependency alias socket.io-client-v2) ships no types. This declares what the
// v2 client specs use of it: io(url, opts), the socket's events and emits, and its Engine.IO 3 connection.
declare module "socket.io-client-v2" {
  /** The Engine.IO 3 connection under a client: its session id and current transport. */
  export interface V2Engine {
    id: string;
    readyState: string;
    transport: { name: string };
  }

  export interface V2Options {
    path?: string;
    /** Sent in the query string of every request, and with a namespace's CONNECT packet. */
    query?: Record<string, string> | string;
    transports?: Array<"polling" | "websocket">;
    reconnection?: boolean;
    reconnectionDelay?: number;
    timeout?: number;
    forceNew?: boolean;
    /** Polling only: send text payloads (base64 for binary) instead of binary ones. */
    forceBase64?: boolean;
  }

  export interface V2Socket {
    /** The server's socket id for it: in v2, "<namespace>#<session id>", or the session id in "/". */
    id: string;
    nsp: string;
    connected: boolean;
    disconnected: boolean;
    io: { engine: V2Engine };
    on(event: string, fn: (...args: never[]) => void): this;
    once(event: string, fn: (...args: never[]) => void): this;
    off(event?: string, fn?: (...args: never[]) => void): this;
    /** The last argument may be a function: the server's acknowledgement. */
    emit(event: string, ...args: unknown[]): this;
    close(): this;
    disconnect(): this;
  }

  function io(url: string, opts?: V2Options): V2Socket;
  export default io;
}
