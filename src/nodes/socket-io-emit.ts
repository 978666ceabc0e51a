import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { inBatch } from "./core/emit-batch";
import { emitTo, resolveReply, TARGET_KINDS, toRoomList, type EmitRequest, type TargetKind } from "./core/emit-target";
import { kindOf } from "./core/problem";
import { SocketGoneError, SocketHandle } from "./core/socket-handle";
import { registerFlowNode, type FlowNodeKit } from "./lib/flow-node-kit";
import { argumentsToSend, RESERVED_INSTANCE_EVENTS } from "./core/event-router";
import { isBlank, readPerMessage, roomsOf, settingReader, type SettingReader } from "./lib/node-setting";
import { checkNamespace, linkServer, namespaceFor, serverStatus } from "./lib/server-link";
import { useCatalog } from "./lib/wording";

interface EmitDef extends NodeDef {
  server: string;
  namespace: string;
  event: string;
  eventType: string;
  target: string;
  rooms: string;
  roomsType: string;
  except: string;
  exceptType: string;
  volatile: boolean;
  compress: boolean;
  waitAck: boolean;
  ackTimeout: number | string;
}

type Send = (msg: NodeMessageInFlow) => void;
type Done = (err?: Error) => void;

/** The room lists of a target that uses none: one shared, never-changed empty list. */
const NO_ROOMS: string[] = Object.freeze([]) as unknown as string[];

export = function (RED: NodeAPI): void {
  useCatalog(RED);

  function setup(node: Node, def: EmitDef, kit: FlowNodeKit): void {
    // What errors call the room settings: their dialog labels.
    const [roomsLabel, exceptLabel] = [RED._("socket-io-emit.label.rooms"), RED._("socket-io-emit.label.except")];

    // A setting left blank is taken from the msg (msg.event, msg.namespace, msg.room, msg.except).
    const target = (TARGET_KINDS as readonly string[]).includes(def.target) ? (def.target as TargetKind) : "all";
    // Rooms and except apply to these targets only; for the others msg.room is not even read.
    const usesRooms = target === "rooms" || target === "broadcast";
    let read: { event: SettingReader; rooms: SettingReader; except: SettingReader };
    let namespaceSetting: string | undefined;
    let ackTimeoutMs: number | undefined;
    try {
      if (!isBlank(def.namespace)) {
        namespaceSetting = checkNamespace(def.namespace);
        if (!namespaceSetting)
          throw new Error(RED._("socket-io-emit.errors.badNamespace", { namespace: String(def.namespace) }));
      }
      const ackTimeout = Number(def.ackTimeout ?? 5000);
      if (def.waitAck && target !== "ack") {
        if (!Number.isFinite(ackTimeout) || ackTimeout <= 0) throw new Error(RED._("socket-io-emit.errors.badTimeout"));
        ackTimeoutMs = ackTimeout;
      }
      read = {
        event: settingReader(RED, node, def.event ?? "", def.eventType),
        rooms: settingReader(RED, node, def.rooms ?? "", def.roomsType),
        except: settingReader(RED, node, def.except ?? "", def.exceptType),
      };
      const fixedEvent = !def.eventType || def.eventType === "str" ? String(def.event ?? "").trim() : "";
      if (target === "instances" && RESERVED_INSTANCE_EVENTS.includes(fixedEvent)) {
        throw new Error(
          RED._("socket-io-emit.errors.reservedInstanceEvent", {
            event: fixedEvent,
            reserved: RESERVED_INSTANCE_EVENTS.join(", "),
          }),
        );
      }
      // Fixed room settings of the target in use are checked now rather than on the first msg.
      if (usesRooms && !readPerMessage(def.roomsType)) toRoomList(read.rooms({}), roomsLabel);
      if (usesRooms && !readPerMessage(def.exceptType)) toRoomList(read.except({}), exceptLabel);
    } catch (err) {
      kit.refuse(err);
      node.on("input", (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) =>
        kit.fail(err, done, "badSetting"),
      );
      return;
    }

    const link = linkServer(RED, node, def.server, kit.status, (entry) => kit.show(serverStatus(RED, entry)));
    kit.onClose(link.unlink);
    const entry = link.entry;
    // The configured namespace exists from deploy on, so a msg may name it.
    if (entry && target !== "ack") entry.namespace(namespaceSetting ?? "/", true);
    const pick = (setting: unknown, fromMsg: unknown): unknown => (isBlank(setting) ? fromMsg : setting);

    /**
     * Emits one msg's request (in its batch) and finishes the msg. A client may leave at any moment
     * (a page reload): an emit to it, or a wait for its answer, is then nothing to do. No error, no
     * log line, and no msg out.
     */
    const emitOne = (request: EmitRequest, msg: NodeMessageInFlow, send: Send, done: Done): void => {
      let answers: Promise<unknown> | undefined;
      try {
        answers = emitTo(request);
      } catch (err) {
        if (err instanceof SocketGoneError && request.target === "socket") kit.succeeded();
        else return kit.fail(err, done);
        return done();
      }
      if (!answers) {
        kit.succeeded();
        return done();
      }
      answers.then(
        (answer) => {
          kit.succeeded();
          msg.payload = answer;
          send(msg);
          done();
        },
        (err: unknown) => {
          const departed = request.target === "socket" && SocketHandle.is(msg.socket) && !msg.socket.live;
          if (!departed) return kit.fail(err, done);
          kit.succeeded();
          done();
        },
      );
    };

    node.on("input", (msg: NodeMessageInFlow, send: Send, done: Done) => {
      const fail = (err: unknown): void => kit.fail(err, done);
      try {
        // "reply" answers the sender when the msg has one, else goes to everyone.
        const to = resolveReply(target, msg.socket);
        if (!entry && to !== "socket" && to !== "broadcast" && to !== "ack") {
          throw new Error(RED._("socket-io-emit.errors.noServer"));
        }
        const namespace =
          to === "all" || to === "rooms" || to === "instances"
            ? namespaceFor(RED, "socket-io-emit", entry!, namespaceSetting, msg.namespace).nsp
            : undefined;
        if (to === "instances") {
          // The in-memory adapter only warns on the console that it cannot: say it here, catchably.
          if (!entry!.redis) throw new Error(RED._("socket-io-emit.errors.instancesNeedRedis"));
          // Nothing reaches the other instances while Redis is down: the msg fails (and is counted).
          if (!entry!.redis.reachable)
            throw entry!.redis.unreachableError(RED._("socket-io-emit.errors.instancesUnreachable"));
        }
        const event = pick(read.event(msg), msg.event);
        if (msg.args !== undefined && !Array.isArray(msg.args))
          throw new Error(RED._("socket-io-emit.errors.argsType", { kind: String(kindOf(msg.args)) }));
        const request: EmitRequest = {
          target: to,
          namespace,
          event: event as string,
          args: argumentsToSend(msg.payload, msg.args),
          rooms: usesRooms ? roomsOf(read.rooms(msg), roomsLabel, msg.room, "msg.room") : NO_ROOMS,
          except: usesRooms ? roomsOf(read.except(msg), exceptLabel, msg.except, "msg.except") : NO_ROOMS,
          socket: msg.socket,
          ack: msg.ack,
          volatile: def.volatile === true,
          compress: def.compress !== false,
          ackTimeoutMs,
        };
        inBatch(() => emitOne(request, msg, send, done));
      } catch (err) {
        fail(err);
      }
    });
  }

  // The edit dialog checks the Target setting against what the runtime can emit to.
  registerFlowNode(RED, "socket-io-emit", setup, { socketIoEmitTargets: TARGET_KINDS });
};
