import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { toRoomList } from "./core/emit-target";
import { kindOf } from "./core/problem";
import { RoomMembers } from "./core/room-members";
import type { ServerEntry } from "./core/server-entry";
import { SocketHandle } from "./core/socket-handle";
import { isBlank, readPerMessage, roomsOf, settingReader, type SettingReader } from "./lib/node-setting";
import { registerFlowNode, type FlowNodeKit } from "./lib/flow-node-kit";
import { checkNamespace, linkServer, namespaceFor, serverStatus } from "./lib/server-link";
import { failureOf, useCatalog } from "./lib/wording";

interface RoomDef extends NodeDef {
  /** "socket": msg.socket (the default); "room": every socket in the rooms of `inRooms`, on every instance. */
  target?: string;
  action: string;
  rooms: string;
  roomsType: string;
  server?: string;
  namespace?: string;
  inRooms?: string;
  inRoomsType?: string;
  /** For "disconnect": also close the underlying connections. */
  close?: boolean;
}

/** What a node can do, by its target: msg.socket, or every socket in some rooms. */
const ACTIONS: Record<"socket" | "room", readonly string[]> = {
  socket: ["join", "leave", "leaveAll"],
  room: ["join", "leave", "disconnect", "list"],
};

/** The error key for an action the target does not have: the other target's, or none's. */
function wrongActionKey(action: string): string {
  if (ACTIONS.socket.includes(action)) return "socketOnly";
  if (ACTIONS.room.includes(action)) return "roomOnly";
  return "badAction";
}

export = function (RED: NodeAPI): void {
  useCatalog(RED);

  function setup(node: Node, def: RoomDef, kit: FlowNodeKit): void {
    // What errors call the room settings: their dialog labels.
    const [roomsLabel, inRoomsLabel] = [RED._("socket-io-room.label.rooms"), RED._("socket-io-room.label.inRooms")];
    const target = def.target === "room" ? "room" : "socket";
    const actions = ACTIONS[target];
    const action = def.action === undefined || def.action === "" ? "join" : String(def.action);
    // The rooms to join or leave: the other actions take none.
    const needsRooms = action === "join" || action === "leave";
    let readRooms: SettingReader = () => undefined;
    let readInRooms: SettingReader = () => undefined;
    let namespaceSetting: string | undefined;
    let settingsError: unknown;
    try {
      if (!actions.includes(action))
        throw new Error(RED._(`socket-io-room.errors.${wrongActionKey(action)}`, { action }));
      readRooms = settingReader(RED, node, def.rooms ?? "", def.roomsType);
      if (needsRooms && !readPerMessage(def.roomsType)) toRoomList(readRooms({}), roomsLabel);
      if (target === "room") {
        readInRooms = settingReader(RED, node, def.inRooms ?? "", def.inRoomsType);
        if (!readPerMessage(def.inRoomsType)) toRoomList(readInRooms({}), inRoomsLabel);
        if (!isBlank(def.namespace)) {
          namespaceSetting = checkNamespace(def.namespace);
          if (!namespaceSetting)
            throw new Error(RED._("socket-io-room.errors.badNamespace", { namespace: String(def.namespace) }));
        }
      }
    } catch (err) {
      settingsError = err;
      kit.refuse(err);
    }

    let entry: ServerEntry | undefined;
    if (target === "room" && !settingsError) {
      const link = linkServer(RED, node, def.server, kit.status, (e) => kit.show(serverStatus(RED, e)));
      kit.onClose(link.unlink);
      entry = link.entry;
      // The configured namespace exists from deploy on, so a msg may name it.
      entry?.namespace(namespaceSetting ?? "/", true);
    }

    /** The rooms to join or leave: the Rooms setting, else msg.room. */
    const roomsFor = (msg: NodeMessageInFlow): string[] => {
      const rooms = roomsOf(readRooms(msg), roomsLabel, msg.room, "msg.room");
      if (rooms.length === 0) throw new Error(RED._("socket-io-room.errors.noRoom"));
      return rooms;
    };

    /**
     * msg.socket joins or leaves rooms; resolves once it has, with false when the client had already
     * left (a page reload): it is in no room any more, so there is nothing to do and nothing to report.
     */
    const onSocket = async (msg: NodeMessageInFlow): Promise<boolean> => {
      if (!SocketHandle.is(msg.socket))
        throw new Error(RED._("socket-io-room.errors.noSocket", { kind: String(kindOf(msg.socket)) }));
      // Read first: a bad msg.room is the flow's fault whether or not the client is still there.
      const rooms = needsRooms ? roomsFor(msg) : [];
      const socket = msg.socket.live;
      if (!socket) return false;
      if (action === "join") await socket.join(rooms);
      // Every socket stays in the room named after its id: that is how it is reached directly.
      else
        await Promise.all(
          (action === "leave" ? rooms : [...socket.rooms].filter((r) => r !== socket.id)).map((r) => socket.leave(r)),
        );
      return true;
    };

    /** Acts on every socket in the rooms (every socket of the namespace without rooms), on every instance. */
    const onRoom = async (msg: NodeMessageInFlow): Promise<void> => {
      if (!entry) throw new Error(RED._("socket-io-room.errors.noServer"));
      const hub = namespaceFor(RED, "socket-io-room", entry, namespaceSetting, msg.namespace);
      const inRooms = roomsOf(readInRooms(msg), inRoomsLabel, msg.inRoom, "msg.inRoom");
      const members = new RoomMembers(hub.nsp, inRooms, entry.redis !== undefined);
      if (action === "join") members.join(roomsFor(msg));
      else if (action === "leave") members.leave(roomsFor(msg));
      else if (action === "disconnect") members.disconnect(def.close === true);
      else {
        // A list without the other instances' sockets would look complete: it fails instead.
        if (entry.redis && !entry.redis.reachable)
          throw entry.redis.unreachableError(RED._("socket-io-room.errors.listUnreachable"));
        try {
          msg.payload = await members.list();
        } catch (err) {
          throw new Error(RED._("socket-io-room.errors.listFailed", { error: failureOf(err).text }));
        }
      }
    };

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const fail = (err: unknown): void => kit.fail(err, done);
      if (settingsError) {
        kit.fail(settingsError, done, "badSetting");
        return;
      }
      try {
        const work = target === "room" ? onRoom(msg).then(() => true) : onSocket(msg);
        work.then((acted) => {
          kit.succeeded();
          // Only a socket that has joined or left goes on: for a departed one the msg ends here.
          if (acted) send(msg);
          done();
        }, fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  // The edit dialog offers each target's actions.
  registerFlowNode(RED, "socket-io-room", setup, { socketIoRoomActions: ACTIONS });
};
