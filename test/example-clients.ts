// What real clients do with the examples deployed on Node-RED's server at `url`, and what they must
// see: one check per example, shared by the tests that run the examples in a real node-red process
// (old-flows.spec.ts on the examples as an earlier version shipped them, the version matrix).
import { strict as assert } from "node:assert";
import { admission, client, inbox, next, sleep, until, whenConnected } from "./helpers";

/** Connect timeouts here are 5 s: a runtime on a slow Node or a busy machine may take a while. */
const MS = 5000;

/** chat: a message reaches its room only, with join and leave notices. */
export async function chatInRooms(url: string): Promise<void> {
  const enter = async (room: string, name: string) => {
    const c = client(url, { query: { room, name } });
    const box = { c, said: inbox<string>(c, "chat message"), notices: inbox<string>(c, "notice") };
    await whenConnected(c, MS);
    await until(() => box.notices.includes(`${name} joined ${room}`), 3000, `${name}'s join notice`);
    return box;
  };
  const alice = await enter("a", "alice");
  const bob = await enter("a", "bob");
  await until(() => alice.notices.includes("bob joined a"), 3000, "bob's join notice at alice");
  const carol = await enter("b", "carol");
  alice.c.emit("chat message", "hi");
  await until(() => alice.said.includes("alice: hi") && bob.said.includes("alice: hi"), 3000, "alice's message in a");
  bob.c.disconnect();
  await until(() => alice.notices.includes("bob left"), 3000, "bob's leave notice");
  await sleep(100);
  assert.deepEqual(carol.said, [], "what carol, in room b, was told");
  assert.ok(!carol.notices.includes("bob left"), "carol, in room b, heard that bob left a");
}

/** echo: the client's acknowledgement is answered, and the server's question waits for the client's answer. */
export async function echoAcks(url: string): Promise<void> {
  const c = client(`${url}/echo`);
  c.on("question", (question: string, answer: (name: string) => void) =>
    answer(question === "What is your name?" ? "Ada" : "?"),
  );
  const thanks = next(c, "thanks", MS);
  await whenConnected(c, MS);
  assert.equal(await thanks, "Thanks, Ada!");
  const echoed = (await c.timeout(3000).emitWithAck("echo", "hello")) as { echo: unknown };
  assert.equal(echoed.echo, "hello");
}

/** auth: the middleware flow admits the right token and refuses a wrong one with its reason. */
export async function authMiddleware(url: string): Promise<void> {
  const good = client(`${url}/secure`, { auth: { token: "letmein" } });
  const welcome = next(good, "welcome", MS);
  assert.deepEqual(await admission(good, MS), { admitted: true });
  assert.equal(await welcome, "Welcome! Your token was accepted.");
  assert.deepEqual(await admission(client(`${url}/secure`, { auth: { token: "guess" } }), MS), {
    admitted: false,
    message: "invalid token",
  });
}

/** private messages: to a socket id, a shout to everyone but the sender, a room joined and left. */
export async function privateMessagesAndRooms(url: string): Promise<void> {
  const enter = async () => {
    const c = client(`${url}/dm`);
    const box = { c, dms: inbox(c, "private message"), shouts: inbox(c, "shout"), rooms: inbox(c, "my rooms") };
    await whenConnected(c, MS);
    return box;
  };
  const alice = await enter();
  const bob = await enter();
  alice.c.emit("private message", { to: bob.c.id, text: "psst" });
  await until(() => bob.dms.length === 1, 3000, "the private message");
  assert.deepEqual(bob.dms[0], { from: alice.c.id, to: bob.c.id, text: "psst" });
  bob.c.emit("shout", "hello all");
  await until(() => alice.shouts.length === 1, 3000, "the shout");
  alice.c.emit("join", "lobby");
  await until(() => alice.rooms.length === 1, 3000, "alice's rooms after the join");
  assert.deepEqual(alice.rooms[0], ["lobby"]);
  alice.c.emit("leave", "lobby");
  await until(() => alice.rooms.length === 2, 3000, "alice's rooms after the leave");
  assert.deepEqual(alice.rooms[1], []);
  assert.deepEqual([alice.dms, bob.shouts], [[], []], "what the sender was sent back");
}

/** namespaces: each runs its own middleware, and a headline published in /admin reaches /news. */
export async function namespacesWork(url: string): Promise<void> {
  const reader = client(`${url}/news`, { auth: { name: "Ann" } });
  const headlines = inbox(reader, "headline");
  assert.deepEqual(await admission(reader, MS), { admitted: true });
  await until(() => headlines.length === 1, 3000, "the welcome headline");
  assert.deepEqual(await admission(client(`${url}/admin`, { auth: { name: "Ann" } }), MS), {
    admitted: false,
    message: "wrong password",
  });
  const editor = client(`${url}/admin`, { auth: { password: "admin" } });
  assert.deepEqual(await admission(editor, MS), { admitted: true });
  assert.equal(await editor.timeout(3000).emitWithAck("publish", "Big news"), "published to /news");
  await until(() => headlines.length === 2, 3000, "the published headline");
  assert.equal(headlines[1], "Big news");
}
