import type { Node, NodeAPI, NodeDef, NodeMessage } from "node-red";
import type { ServerEntry } from "./core/server-entry";
import {
  LIFECYCLE_EVENTS,
  RESERVED_INSTANCE_EVENTS,
  ROOM_EVENTS,
  type LifecycleEvent,
  type RoomEvent,
  type RoutedEvent,
  type Topic,
} from "./core/event-router";
import { nextMsgId } from "./core/msg-id";
import { registerFlowNode, type FlowNodeKit } from "./lib/flow-node-kit";
import { checkNamespace, linkServer, serverStatus } from "./lib/server-link";
import { useCatalog } from "./lib/wording";

interface OnDef extends NodeDef {
  server: string;
  namespace: string;
  listenFor: string;
  event: string;
  privateRooms: boolean;
}

/** The topic a node listens for, or undefined when its settings name none. */
function topicOf(def: OnDef): Topic | undefined {
  const what = def.listenFor || "event";
  if ((LIFECYCLE_EVENTS as readonly string[]).includes(what))
    return { kind: "lifecycle", name: what as LifecycleEvent };
  if ((ROOM_EVENTS as readonly string[]).includes(what)) return { kind: "room", name: what as RoomEvent };
  if (what === "any") return { kind: "any-client" };
  const name = typeof def.event === "string" ? def.event.trim() : "";
  if (what === "event" && name !== "") return { kind: "client", name };
  if (what === "instance" && name !== "") return { kind: "instance", name };
  return undefined;
}

/** One msg per event: a msg object is never shared between two events. */
function toMessage(e: RoutedEvent, namespace: string): NodeMessage {
  const msg: NodeMessage = { _msgid: nextMsgId(), event: e.name, namespace };
  if (e.socket) {
    msg.socket = e.socket;
    msg.socketId = e.socket.id;
  }
  if (e.kind === "client" || e.kind === "instance") {
    msg.payload = e.args[0];
    msg.args = e.args;
    if (e.ack) msg.ack = e.ack;
  } else if (e.kind === "room") {
    msg.payload = e.args[0];
    msg.room = e.room;
  } else {
    msg.payload = e.socket?.id;
    if (e.reason !== undefined) msg.reason = e.reason;
    if (e.rooms !== undefined) msg.rooms = e.rooms;
  }
  return msg;
}

export = function (RED: NodeAPI): void {
  useCatalog(RED);

  function setup(node: Node, def: OnDef, kit: FlowNodeKit): void {
    const status = kit.status;

    const namespace = checkNamespace(def.namespace);
    const topic = topicOf(def);
    if (!namespace || !topic) {
      kit.refuse(
        RED._(namespace ? "socket-io-on.errors.noEvent" : "socket-io-on.errors.badNamespace", {
          namespace: String(def.namespace),
        }),
      );
      return;
    }
    if (topic.kind === "instance" && RESERVED_INSTANCE_EVENTS.includes(topic.name)) {
      kit.refuse(
        RED._("socket-io-on.errors.reservedInstanceEvent", {
          event: topic.name,
          reserved: RESERVED_INSTANCE_EVENTS.join(", "),
        }),
      );
      return;
    }
    // Built only when the throttled status is really set: a burst of connections translates one text.
    const showStatus = (entry: ServerEntry): void => {
      const hub = entry.namespace(namespace, true)!;
      status.set(() => serverStatus(RED, entry, RED._("socket-io-on.status.clients", { count: hub.clientCount })));
    };
    const link = linkServer(RED, node, def.server, status, showStatus);
    kit.onClose(link.unlink);
    const entry = link.entry;
    if (!entry) return;

    // With the in-memory adapter there are no other instances: the node would wait in vain.
    if (topic.kind === "instance" && !entry.redis) node.warn(RED._("socket-io-on.warn.instanceNeedsRedis"));
    const hub = entry.namespace(namespace, true)!;
    kit.onClose(
      hub.watchCount(() => {
        if (entry.state === "listening") showStatus(entry);
      }),
    );
    const includePrivate = def.privateRooms === true;
    kit.onClose(
      hub.subscribe(topic, (e) => {
        if (e.kind === "room" && e.privateRoom && !includePrivate) return;
        node.send(toMessage(e, namespace));
      }),
    );
  }

  // The edit dialog offers and checks what the router knows.
  registerFlowNode(RED, "socket-io-on", setup, {
    socketIoOnLifecycleEvents: LIFECYCLE_EVENTS,
    socketIoOnRoomEvents: ROOM_EVENTS,
    socketIoOnReservedInstanceEvents: RESERVED_INSTANCE_EVENTS,
  });
};
