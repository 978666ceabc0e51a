import type { Namespace } from "socket.io";

/** What a flow gets for each socket of a listing (`msg.payload` of a socket-io-room node's *list*). */
export interface SocketSummary {
  id: string;
  rooms: string[];
  /** The socket's `socket.data`. */
  data: unknown;
}

/**
 * The sockets in some rooms of a namespace, every socket of it when no room is given: on this
 * instance and, with a Redis adapter, on every other instance too.
 *
 * Socket.IO's Redis adapters apply a bulk operation locally only once it has gone through Redis (the
 * pub/sub adapter when its own message comes back), and not at all while Redis is unreachable. Here
 * it is applied to the local sockets at once, then handed to the adapter for the other instances:
 * when the call returns, this instance's sockets have joined, left or gone, whatever Redis does. The
 * adapter applying it locally a second time changes nothing.
 *
 * @example
 * const members = new RoomMembers(io.of("/"), ["lobby"], true);
 * members.join(["game-1"]);               // every socket in "lobby", on every instance, joins "game-1"
 * const list = await members.list();     // [{ id, rooms, data }, ...] across instances
 */
export class RoomMembers {
  /**
   * @param inRooms the rooms whose sockets are meant; empty: every socket of the namespace
   * @param crossInstance true when the namespace's adapter reaches other instances (Redis)
   */
  constructor(
    private readonly nsp: Namespace,
    private readonly inRooms: string[],
    private readonly crossInstance: boolean,
  ) {}

  /** Makes the sockets join `rooms`. */
  join(rooms: string[]): void {
    this.nsp.local.in(this.inRooms).socketsJoin(rooms);
    if (this.crossInstance) this.nsp.in(this.inRooms).socketsJoin(rooms);
  }

  /** Makes the sockets leave `rooms`. */
  leave(rooms: string[]): void {
    this.nsp.local.in(this.inRooms).socketsLeave(rooms);
    if (this.crossInstance) this.nsp.in(this.inRooms).socketsLeave(rooms);
  }

  /** Disconnects the sockets; `close` also closes their underlying connections. */
  disconnect(close: boolean): void {
    this.nsp.local.in(this.inRooms).disconnectSockets(close);
    if (this.crossInstance) this.nsp.in(this.inRooms).disconnectSockets(close);
  }

  /**
   * The sockets with their id, rooms and data; across instances it waits for every instance's answer
   * (at most 5 s, Socket.IO's limit).
   * @throws when an instance does not answer in time, or Redis is unreachable
   */
  async list(): Promise<SocketSummary[]> {
    const sockets = await this.nsp.in(this.inRooms).fetchSockets();
    return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data }));
  }
}
