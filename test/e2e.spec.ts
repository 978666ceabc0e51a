import { strict as assert } from "node:assert";
import { client, connected, freePort, next, until } from "./helpers";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";
import { NODE_TYPES } from "./package-tools";
import { waitListening } from "./ports";

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** A chat: every "chat message" from a client goes to every client. */
function chatFlow(ioPort: number, onName = "chat in"): unknown[] {
  return [
    { id: "tab", type: "tab", label: "chat" },
    {
      id: "srv",
      type: "socket-io-server",
      name: "chat server",
      listen: "port",
      port: ioPort,
      path: "/socket.io",
      corsOrigins: "*",
      serveClient: true,
    },
    {
      id: "on",
      type: "socket-io-on",
      z: "tab",
      name: onName,
      server: "srv",
      namespace: "/",
      listenFor: "event",
      event: "chat message",
      x: 150,
      y: 60,
      wires: [["emit"]],
    },
    {
      id: "emit",
      type: "socket-io-emit",
      z: "tab",
      name: "to everyone",
      server: "srv",
      namespace: "/",
      event: "chat message",
      eventType: "str",
      target: "all",
      x: 400,
      y: 60,
      wires: [],
    },
  ];
}

describe("a real node-red process with the package installed", function () {
  this.timeout(60_000);
  let red: NodeRedProcess | undefined;

  afterEach(async function () {
    if (red) await red.stop();
    red = undefined;
  });

  it("loads exactly the six types with no load errors, lets two clients chat, keeps them across a deploy and stops promptly", async function () {
    red = await startNodeRed({ port: await freePort() });
    const sets = await red.getJson<NodeSet[]>("/nodes");
    const ours = sets.filter((s) => s.module === "node-red-contrib-socket-io");
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...NODE_TYPES].sort());
    for (const set of ours) {
      assert.equal(set.err, undefined, `${set.types.join()} failed to load: ${set.err}`);
      assert.ok(set.enabled, `${set.types.join()} is not enabled`);
    }

    const ioPort = await freePort();
    await red.deploy(chatFlow(ioPort));
    await waitListening(ioPort);
    const url = `http://127.0.0.1:${ioPort}`;
    const alice = await connected(url);
    const bob = await connected(url);
    let disconnects = 0;
    for (const c of [alice, bob]) c.on("disconnect", () => disconnects++);

    const toBob = next(bob, "chat message");
    const toAlice = next(alice, "chat message");
    alice.emit("chat message", "hi bob");
    assert.equal(await toBob, "hi bob");
    assert.equal(await toAlice, "hi bob");

    // A full deploy that only renames the on node leaves the server as it is.
    await red.deploy(chatFlow(ioPort, "renamed"), "full");
    const again = next(alice, "chat message");
    bob.emit("chat message", "still here");
    assert.equal(await again, "still here");
    assert.equal(disconnects, 0);
    assert.match(red.output(), /socket\.io listening on port \d+ at \/socket\.io/);

    const ms = await red.stop();
    red = undefined;
    assert.ok(ms < 5000, `node-red took ${ms} ms to exit`);
    await until(() => alice.disconnected, 5000, "the client to see the server go");
    // The port is free again: a new client cannot connect.
    const late = client(url);
    await next(late, "connect_error");
  });
});
