import type { Socket } from "socket.io";

/** Finds the live socket with this id in this namespace of one server, or undefined. */
export type SocketResolver = (namespace: string, id: string) => Socket | undefined;

// serverKey -> resolver of the Server currently running under that key. A SocketHandle keeps only
// the key, so that a cloned msg.socket still reaches the live connection.
const resolvers = new Map<string, SocketResolver>();

export function publishServer(serverKey: string, resolve: SocketResolver): void {
  resolvers.set(serverKey, resolve);
}

/** Forgets a server, unless another one has been published under the same key since. */
export function withdrawServer(serverKey: string, resolve: SocketResolver): void {
  if (resolvers.get(serverKey) === resolve) resolvers.delete(serverKey);
}

export function findSocket(serverKey: string, namespace: string, id: string): Socket | undefined {
  return resolvers.get(serverKey)?.(namespace, id);
}
