// The Admin UI setting through the server node, in Node-RED (node-red-node-test-helper): on with
// its credentials, off again at the next deploy with no client disconnected, refused without
// credentials, and two config nodes sharing one server must agree on it.
import { strict as assert } from "node:assert";
import { ADMIN_NAMESPACE } from "../src/nodes/core/admin-instrument";
import { registry } from "../src/nodes/core/server-registry";
import { adminClient } from "./admin-ui-kit";
import { joinPayloadNode, onEvent, onTab, serverConfig, type FlowNode } from "./flow-fixtures";
import { allNodes, cleanup, connected, freePort, helper, next, until } from "./helpers";

const LOGIN = { username: "sio", password: "s3cret" };
const CREDENTIALS = { srv: { adminUiUsername: LOGIN.username, adminUiPassword: LOGIN.password } };

/** A server on `port` whose clients join the room they name in "setup". */
const flow = (port: number, adminUi: boolean): FlowNode[] => [
  serverConfig(port, { adminUi }),
  ...onTab("admin ui", [onEvent("on-setup", "setup", ["join"]), joinPayloadNode("join", [])]),
];

/** The error lines logged since the flows were loaded. */
const errors = (): string[] =>
  (helper.log().args as Array<[{ level: number; msg: unknown }]>)
    .map(([entry]) => entry)
    .filter((entry) => entry.level === 20)
    .map((entry) => String(entry.msg));

/** What an admin client gets: admitted with the sockets the UI lists, or refused with its reason. */
async function adminView(
  url: string,
  auth: Record<string, unknown>,
): Promise<{ sockets?: unknown[]; refused?: string }> {
  const admin = adminClient(url, auth);
  const sockets = next<unknown[]>(admin, "all_sockets");
  const refused = next<Error>(admin, "connect_error").then((err) => ({ refused: err.message }));
  return Promise.race([sockets.then((list) => ({ sockets: list })), refused]);
}

describe("the Admin UI setting of the server node", function () {
  this.timeout(15_000);
  afterEach(cleanup);

  it("deployed on, an admin with the credentials sees the sockets and their rooms; deployed off, its namespace is gone and no client was disconnected", async function () {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await helper.load(allNodes, flow(port, true), CREDENTIALS);
    const entry = registry.get(`port:${port}`)!;
    await until(() => entry.adminUi.active, 5000, "the Admin UI to be applied");
    const c = await connected(url);
    let disconnects = 0;
    c.on("disconnect", () => disconnects++);
    c.emit("setup", "lobby");
    await until(() => entry.io.of("/").adapter.rooms.get("lobby")?.has(c.id!) === true, 3000, "the join");

    assert.deepEqual(await adminView(url, { ...LOGIN, password: "wrong" }), { refused: "invalid credentials" });
    const { sockets } = await adminView(url, LOGIN);
    const listed = (sockets as Array<{ id: string; nsp: string; rooms: string[] }>).find((s) => s.id === c.id);
    assert.ok(listed, `the client's socket among ${JSON.stringify(sockets)}`);
    assert.deepEqual([...listed.rooms].sort(), [c.id, "lobby"].sort());

    await helper.setFlows(flow(port, false), "full", CREDENTIALS);
    assert.equal(registry.get(`port:${port}`), entry, "the server was not restarted");
    await until(() => !entry.adminUi.active, 5000, "the Admin UI to be removed");
    assert.deepEqual(await adminView(url, LOGIN), { refused: "Invalid namespace" });
    assert.equal(entry.io._nsps.has(ADMIN_NAMESPACE), false);
    // Still connected and served, through both deploys.
    c.emit("setup", "garden");
    await until(() => entry.io.of("/").adapter.rooms.get("garden")?.has(c.id!) === true, 3000, "a join after");
    assert.equal(disconnects, 0);
    assert.deepEqual(errors(), []);
  });

  it("a flow node may not use the UI's namespace: its error says so, and the UI keeps its own", async function () {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const intruder = { ...onEvent("on-admin", "hello", []), z: "t-admin", namespace: ADMIN_NAMESPACE };
    await helper.load(
      allNodes,
      [...flow(port, true), { id: "t-admin", type: "tab", label: "x" }, intruder],
      CREDENTIALS,
    );
    const entry = registry.get(`port:${port}`)!;
    await until(() => entry.adminUi.active, 5000, "the Admin UI to be applied");
    assert.deepEqual(errors(), ["socket-io-on.errors.badNamespace"]);
    assert.ok((await adminView(url, LOGIN)).sockets, "the UI's namespace still admits the UI");
  });

  it("ticked without a username or password, the server does not start and the error says what to set", async function () {
    const port = await freePort();
    await helper.load(allNodes, flow(port, true), {
      srv: { adminUiUsername: LOGIN.username },
    });
    await until(() => errors().length > 0, 3000, "an error");
    assert.deepEqual(errors(), ["socket-io-server.errors.settings"]);
    const srv = helper.getNode("srv") as unknown as { failure?: { text: string } };
    assert.match(srv.failure?.text ?? "", /setting\.adminUiCredentials/);
    assert.equal(registry.get(`port:${port}`), undefined);
  });

  it("two config nodes on one port must agree on it: the second gets an error naming the setting", async function () {
    const port = await freePort();
    const other = { ...serverConfig(port, { adminUi: false }), id: "srv2" };
    await helper.load(allNodes, [...flow(port, true), other], CREDENTIALS);
    await until(() => errors().length > 0, 3000, "an error");
    const failures = ["srv", "srv2"].map(
      (id) => (helper.getNode(id) as unknown as { failure?: { text: string } }).failure?.text ?? "",
    );
    assert.equal(failures.filter(Boolean).length, 1, JSON.stringify(failures));
    assert.match(failures.find(Boolean)!, /server\.conflictPort/);
  });
});
