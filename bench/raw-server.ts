/**
 * The physical limit the package is measured against: the behaviour of bench/flows.ts written
 * directly against Socket.IO, in one Node.js process with no Node-RED in between.
 *
 * Usage: node --require tsx/cjs bench/raw-server.ts <port>
 * Prints "listening <port>" once it accepts connections; exits on SIGINT or SIGTERM.
 */
import { createServer } from "node:http";
import { Server, type Socket } from "socket.io";
import { EVENTS, NAMESPACES, REFUSAL, ROOM, TOKEN } from "./flows";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: raw-server.ts <port>");
  process.exit(2);
}

// As the package's server config node: its own HTTP server, 404 outside Socket.IO's path, any origin.
const http = createServer((_req, res) => {
  res.writeHead(404).end();
});
const io = new Server(http, { path: "/socket.io", cors: { origin: "*" } });

/** Replies to the sender with what it sent. */
const echo = (socket: Socket): void => {
  socket.on(EVENTS.request, (...args: unknown[]) => {
    socket.emit(EVENTS.reply, ...args);
  });
};
io.of(NAMESPACES.echo).on("connection", echo);
io.of(NAMESPACES.hops).on("connection", echo);
io.of(NAMESPACES.clone).on("connection", echo);

const fan = io.of(NAMESPACES.fan);
fan.on("connection", (socket) => {
  void socket.join(ROOM);
  socket.emit(EVENTS.joined, socket.id);
  socket.on(EVENTS.trigger, (...args: unknown[]) => {
    fan.to(ROOM).emit(EVENTS.fanned, ...args);
  });
});

io.of(NAMESPACES.auth).use((socket, next) => {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (auth && auth.token === TOKEN) next();
  else next(new Error(REFUSAL));
});

http.listen(port, () => {
  console.log(`listening ${port}`);
});

const stop = (): void => {
  // exit() rather than a signal's default: a CPU profile is written on a normal exit only.
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
