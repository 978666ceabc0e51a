// Preloaded into a Node-RED process started with --expose-gc: answers "heap" on the IPC channel
// with the memory held after full collections: the V8 heap plus ArrayBuffer memory (Buffers, such as
// held binary attachments, live outside the heap), so tests measure inside the runtime, not RSS.
"use strict";
if (typeof process.send === "function" && typeof global.gc === "function") {
  process.on("message", (message) => {
    if (message !== "heap") return;
    // Several passes: weak maps and finalizers free more on the second and third.
    for (let i = 0; i < 3; i++) global.gc();
    setImmediate(() => {
      global.gc();
      const m = process.memoryUsage();
      process.send({ heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers });
    });
  });
  // The IPC channel must not keep a runtime alive that was asked to stop.
  process.channel?.unref();
}
