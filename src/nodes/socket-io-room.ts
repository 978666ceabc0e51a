import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { describe, toRoomList } from "./core/emit-target";
import { SocketGoneError, SocketHandle } from "./core/socket-handle";
import { isBlank, readPerMessage, settingReader, type SettingReader } from "./node-setting";
import { FlowNodeKit } from "./flow-node-kit";

interface RoomDef extends NodeDef {
  action: string;
  rooms: string;
  roomsType: string;
}

type Action = "join" | "leave" | "leaveAll";

export = function (RED: NodeAPI): void {
  function SocketIoRoomNode(this: Node, def: RoomDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = new FlowNodeKit(node);
    const action: Action = def.action === "leave" || def.action === "leaveAll" ? def.action : "join";
    let readRooms: SettingReader = () => undefined;
    let settingsError: Error | undefined;
    try {
      readRooms = settingReader(RED, node, def.rooms ?? "", def.roomsType);
      if (action !== "leaveAll" && !readPerMessage(def.roomsType)) toRoomList(readRooms({}), "Rooms");
    } catch (err) {
      settingsError = err as Error;
      kit.refuse(settingsError.message);
    }

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const fail = (err: Error): void => kit.fail(err, done);
      try {
        if (settingsError) throw settingsError;
        if (!SocketHandle.is(msg.socket)) throw new Error(RED._("socket-io-room.errors.noSocket", { kind: describe(msg.socket) }));
        const socket = msg.socket.live;
        if (!socket) throw new SocketGoneError(msg.socket.id, msg.socket.namespace);
        let rooms: string[] = [];
        if (action !== "leaveAll") {
          const setting = readRooms(msg);
          rooms = isBlank(setting) ? toRoomList(msg.room, "msg.room") : toRoomList(setting, "Rooms");
          if (rooms.length === 0) throw new Error(RED._("socket-io-room.errors.noRoom"));
        } else {
          // Every socket stays in the room named after its id: that is how it is reached directly.
          rooms = [...socket.rooms].filter((r) => r !== socket.id);
        }
        const work = action === "join" ? socket.join(rooms) : Promise.all(rooms.map((r) => socket.leave(r)));
        Promise.resolve(work).then(() => {
          kit.succeeded();
          send(msg);
          done();
        }, fail);
      } catch (err) {
        fail(err as Error);
      }
    });
  }

  RED.nodes.registerType("socket-io-room", SocketIoRoomNode);
};
