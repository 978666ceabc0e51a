// What the bounded decoder measures of a packet before socket.io-parser decodes it: where its JSON
// starts, how deep that nests and how many attachments it announces, read from the encoded text; and
// how big an attachment is.

/** Where a JSON text starts in an encoded packet: after type, attachment count, namespace and ack id. */
export function jsonStart(packet: string): number {
  let i = 1;
  if (packet[0] === "5" || packet[0] === "6") {
    const dash = packet.indexOf("-", 1);
    if (dash === -1) return packet.length;
    i = dash + 1;
  }
  if (packet[i] === "/") {
    const comma = packet.indexOf(",", i);
    i = comma === -1 ? packet.length : comma + 1;
  }
  while (i < packet.length && packet.charCodeAt(i) >= 0x30 && packet.charCodeAt(i) <= 0x39) i++;
  return i;
}

/**
 * How deep arrays and objects nest in JSON text from `start`, brackets inside strings not counted.
 * Stops as soon as the depth passes `limit`.
 */
export function nestingDepth(text: string, start = 0, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: the next quote not escaped by an odd number of backslashes.
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return max;
      i = end;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/** The attachment count a binary packet announces ("51-[...]"), or 0 for any other packet. */
export function announcedAttachments(packet: string): number {
  if (packet[0] !== "5" && packet[0] !== "6") return 0;
  const match = /^[56](\d+)-/.exec(packet);
  return match ? Number(match[1]) : 0;
}

/** The bytes an attachment holds: its byteLength, the data's length for a `{ base64, data }` frame, else its length. */
export function byteSize(data: unknown): number {
  const d = data as { byteLength?: unknown; length?: unknown; base64?: unknown; data?: unknown };
  if (typeof d.byteLength === "number") return d.byteLength;
  if (d.base64 && typeof (d.data as { length?: unknown })?.length === "number")
    return (d.data as { length: number }).length;
  return typeof d.length === "number" ? d.length : 0;
}

/**
 * How deep arrays and objects nest in a decoded value, counted without recursion and given up once
 * over `limit`: a msgpack packet arrives decoded, so its depth is measured on the value.
 */
export function valueDepth(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object" || ArrayBuffer.isView(item)) continue;
    if (depth > max) {
      max = depth;
      if (max > limit) return max;
    }
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return max;
}
