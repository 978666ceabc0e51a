import type { Node, NodeAPI, NodeMessage } from "node-red";
import { toRoomList } from "../core/emit-target";

/** Reads one setting of a node for a msg. */
export type SettingReader = (msg: NodeMessage) => unknown;

const PER_MESSAGE = new Set(["msg", "flow", "global"]);

/** True for TypedInput kinds read for each msg (their value is unknown at deploy). */
export function readPerMessage(type: string | undefined): boolean {
  return type !== undefined && PER_MESSAGE.has(type);
}

/**
 * A reader for a setting that may come from a TypedInput. Fixed kinds (str, json, env, num...) are
 * read once at deploy; msg, flow and global are read for each msg.
 * @throws Error when a fixed value cannot be read (e.g. invalid JSON)
 */
export function settingReader(RED: NodeAPI, node: Node, value: unknown, type: string | undefined): SettingReader {
  if (!type || type === "str") return () => value;
  if (PER_MESSAGE.has(type)) {
    // A blank property name is a blank setting: the node falls back to its msg property.
    if (isBlank(value)) return () => undefined;
    return (msg) => RED.util.evaluateNodeProperty(String(value), type, node, msg);
  }
  const fixed: unknown = RED.util.evaluateNodeProperty(String(value), type, node, {});
  return () => fixed;
}

/** True for a setting left blank, so that the msg property is used instead. */
export function isBlank(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === "string" && value.trim() === "") ||
    (Array.isArray(value) && value.length === 0)
  );
}

/**
 * The rooms of a setting (named `label` in errors), or of the msg property `msgLabel` holding
 * `fromMsg` when the setting is blank.
 * @throws EmitError when the value is not a room name or a list of them
 */
export function roomsOf(setting: unknown, label: string, fromMsg: unknown, msgLabel: string): string[] {
  return isBlank(setting) ? toRoomList(fromMsg, msgLabel) : toRoomList(setting, label);
}
