import type { Socket } from "socket.io";

/** The parts of a Socket.IO handshake a flow reads, copied into plain objects. */
export interface HandshakeSnapshot {
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  auth: Record<string, unknown>;
  address: string;
  time: string;
  issued: number;
  url: string;
  secure: boolean;
  xdomain: boolean;
}

/**
 * A copy of a live socket's handshake, made on each read and kept nowhere: a connection holds no
 * second copy of its headers for its whole life (a middleware flow reads the handshake of every
 * connection), and what a flow writes into a copy changes nothing.
 */
export function snapshotOf(socket: Socket): HandshakeSnapshot {
  const h = socket.handshake;
  return {
    headers: { ...h.headers },
    query: { ...h.query },
    auth: { ...h.auth },
    address: h.address,
    time: h.time,
    issued: h.issued,
    url: h.url,
    secure: h.secure,
    xdomain: h.xdomain,
  };
}

export function emptyHandshake(): HandshakeSnapshot {
  return { headers: {}, query: {}, auth: {}, address: "", time: "", issued: 0, url: "", secure: false, xdomain: false };
}
