// Requests against Socket.IO's HTTP endpoint that say how each ended: a client's connect, a raw
// WebSocket upgrade, an upgrade over plain TCP, a fetch.
import { connect } from "node:net";
import WebSocket from "ws";
import { client } from "../helpers";

/** Whether a client connects, and for a refusal over polling the HTTP status it got. */
export function connectResult(
  url: string,
  transports: string[],
  headers: Record<string, string> = {},
): Promise<{ connected: boolean; status?: number }> {
  const socket = client(url, { transports, extraHeaders: headers });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("neither connect nor connect_error within 4 s")), 4000);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.disconnect();
      resolve({ connected: true });
    });
    socket.once("connect_error", (err: Error & { description?: unknown }) => {
      clearTimeout(timer);
      resolve({ connected: false, status: typeof err.description === "number" ? err.description : undefined });
    });
  });
}

/** Upgrades a raw WebSocket (the ws module): "open", or the HTTP status and headers of the refusal. */
export function rawUpgrade(
  port: number,
  headers: Record<string, string> = {},
): Promise<{ open: boolean; status?: number; headers?: Record<string, unknown>; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("the upgrade got no answer within 4 s"));
    }, 4000);
    ws.once("open", () => {
      clearTimeout(timer);
      ws.terminate();
      resolve({ open: true });
    });
    ws.once("unexpected-response", (req, res) => {
      clearTimeout(timer);
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.once("end", () => {
        req.destroy();
        resolve({ open: false, status: res.statusCode, headers: res.headers, body });
      });
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/** Sends a WebSocket upgrade over plain TCP: what the server wrote, and whether it then closed the socket. */
export function tcpUpgrade(port: number, ms = 3000): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closed: false });
    }, ms);
    socket.on("data", (d: Buffer) => (response += d.toString()));
    socket.once("error", reject);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ response, closed: true });
    });
    socket.write(
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
  });
}

/** A fetch whose body is read to its end (so the connection is released). */
export async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res;
}
