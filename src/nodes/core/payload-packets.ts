// Counting the packets of an Engine.IO polling payload without decoding it, for the engine guard's cap.

/** Engine.IO 4 joins the packets of one polling payload with this record separator. */
const SEPARATOR = "\x1e";

/** Packets in a polling payload, counted up to `cap + 1` without decoding any. */
export function payloadPackets(data: string | Buffer, protocol: number, cap: number): number {
  if (protocol === 4) {
    if (typeof data !== "string") return 1;
    let n = 1;
    for (let at = data.indexOf(SEPARATOR); at !== -1 && n <= cap; at = data.indexOf(SEPARATOR, at + 1)) n++;
    return n;
  }
  return typeof data === "string" ? v3TextPackets(data, cap) : v3BinaryPackets(data, cap);
}

// Engine.IO v3 (allowEIO3): "<length>:<packet>" repeated, the length in characters.
function v3TextPackets(data: string, cap: number): number {
  let n = 0;
  for (let at = 0; at < data.length && n <= cap; n++) {
    const colon = data.indexOf(":", at);
    if (colon === -1) break;
    const length = Number(data.slice(at, colon));
    if (!Number.isInteger(length) || length < 0) break;
    at = colon + 1 + length;
  }
  return n;
}

/**
 * Engine.IO v3 binary: a 0/1 byte, the length as one byte per decimal digit, 255, the packet. Counted
 * exactly as engine.io's decoder walks it, which joins the length bytes' decimal texts (a byte of 12
 * reads as "12") and then skips by that text's length: a reader that counted bytes would fall out of
 * step with it, and a client could make it see a few long packets where engine.io decodes thousands.
 */
function v3BinaryPackets(data: Buffer, cap: number): number {
  let n = 0;
  for (let at = 0; at < data.length && n <= cap; n++) {
    let digits = "";
    for (let i = at + 1; data[i] !== 255; i++) {
      // engine.io refuses the whole payload, before any packet is decoded.
      if (digits.length > 310) return n;
      digits += String(data[i]);
    }
    const length = parseInt(digits, 10);
    // A length that is no number makes engine.io step past the type byte and the digits only.
    at += digits.length + 1 + (Number.isNaN(length) ? 0 : length + 1);
  }
  return n;
}
