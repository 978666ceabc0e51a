/**
 * Takes the acknowledgement callback off the end of `args`, where Socket.IO passes it when the sender
 * waits for an answer. It answers once: a later call returns false, so an emit to the ack can
 * report the second answer as an error.
 */
export function takeAck(args: unknown[]): ((...answer: unknown[]) => boolean) | undefined {
  if (typeof args[args.length - 1] !== "function") return undefined;
  const ack = args.pop() as (...answer: unknown[]) => void;
  let used = false;
  return (...answer) => {
    if (used) return false;
    used = true;
    ack(...answer);
    return true;
  };
}
