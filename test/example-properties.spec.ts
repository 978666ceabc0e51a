// The example flows as files: what they hold, placed as the editor exports them; and as the current
// editor saves them: every property a node's editor definition has, and one server config node that
// the editor merges when several examples are imported.
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { exampleFlows } from "../demo/start";
import type { SavedNode } from "./flow-fixtures";
import { NODE_TYPES, readExamples, registerTypeCalls } from "./package-tools";

const OUR_EDITOR_DIR = join(__dirname, "..", "nodes");
const CORE_EDITOR_DIR = dirname(dirname(require.resolve("@node-red/nodes/core/common/90-comment.js")));

const examples = readExamples();
/** Every example in one flow, as the demo deploys them: the shared server config node once. */
const everything = (): SavedNode[] => exampleFlows() as SavedNode[];
/** The device example: a server config node of its own (/devices/socket.io, v2 clients, device origins), no page. */
const DEVICES = "06-devices.json";
/** The examples with a page, which share one server config node. */
const pageExamples = examples.filter((e) => e.file !== DEVICES);

/** The one server config node of an example file. */
function serverOf(file: string, flow: SavedNode[]): SavedNode {
  const found = flow.filter((n) => n.type === "socket-io-server");
  assert.equal(found.length, 1, `${file}: one server config node`);
  return found[0];
}

const CORE_TYPES = [
  "tab",
  "comment",
  "http in",
  "http response",
  "template",
  "function",
  "change",
  "switch",
  "debug",
  "catch",
  "inject",
];

/** The editor files: ours (nodes/*.html) and Node-RED's core nodes (@node-red/nodes/core/<group>/*.html). */
function editorFiles(): string[] {
  const html = (dir: string): string[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".html"))
      .map((f) => join(dir, f));
  const groups = readdirSync(CORE_EDITOR_DIR, { withFileTypes: true }).filter((d) => d.isDirectory());
  return [...html(OUR_EDITOR_DIR), ...groups.flatMap((d) => html(join(CORE_EDITOR_DIR, d.name)))];
}

/** The name of an object literal's key: `a` or `"a"`. */
function keyOf(key: unknown): string | undefined {
  const k = key as { type: string; name?: string; value?: unknown };
  if (k.type === "Identifier") return k.name;
  return k.type === "Literal" ? String(k.value) : undefined;
}

/**
 * The `defaults` keys of every `RED.nodes.registerType("<type>", { defaults: {...} })` in the
 * editor files, read from the source as the flow library's validator reads it: without running it.
 */
function editorDefaults(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of editorFiles()) {
    const source = readFileSync(file, "utf8");
    for (const [, attributes, code] of source.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      if (/type\s*=\s*["']text\/(html|x-red)["']/.test(attributes)) continue; // a template or help text
      try {
        registerTypeCalls(code, ([type, definition]) => {
          if (type?.type !== "Literal" || typeof type.value !== "string" || definition?.type !== "ObjectExpression")
            return;
          const defaults = definition.properties.find((p) => p.type === "Property" && keyOf(p.key) === "defaults");
          const keys =
            defaults?.type === "Property" && defaults.value.type === "ObjectExpression"
              ? defaults.value.properties.map((p) => (p.type === "Property" ? keyOf(p.key) : undefined))
              : [];
          found.set(
            type.value,
            keys.filter((k): k is string => k !== undefined),
          );
        });
      } catch (err) {
        throw new Error(`${file}: its editor script does not parse: ${(err as Error).message}`);
      }
    }
  }
  return found;
}

describe("the example flows as the editor saves them", function () {
  const defaults = editorDefaults();

  it("reads the editor defaults of every node type the examples use", function () {
    const used = new Set(examples.flatMap((e) => e.flow.map((n) => n.type)).filter((type) => type !== "tab"));
    for (const type of used) assert.ok(defaults.get(type)?.length, `no editor defaults found for ${type}`);
    // What the room node gained after the first examples were written: the parser sees it.
    assert.deepEqual(
      ["target", "server", "namespace", "inRooms", "inRoomsType", "close"].filter(
        (k) => !defaults.get("socket-io-room")!.includes(k),
      ),
      [],
    );
  });

  it("give every node every property of its type's editor defaults, so none opens with a red triangle", function () {
    const missing: string[] = [];
    for (const { file, flow } of examples) {
      for (const node of flow) {
        if (node.type === "tab") continue;
        const absent = (defaults.get(node.type) ?? []).filter((key) => !(key in node));
        if (absent.length) missing.push(`${file}: ${node.type} ${node.id} lacks ${absent.join(", ")}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it("share one global server config node, with the same id and settings in every file, and every node uses it", function () {
    const servers = pageExamples.map(({ file, flow }) => serverOf(file, flow));
    const [shared] = servers;
    assert.equal(shared.name, "Node-RED's server");
    assert.equal(shared.listen, "nodered");
    assert.equal(shared.path, "/socket.io");
    // Global, as Node-RED exports a config node that several tabs use: no tab, no position.
    for (const key of ["z", "x", "y"]) assert.ok(!(key in shared), `the server config node has ${key}`);
    servers.forEach((server, i) =>
      assert.deepEqual(server, shared, `${pageExamples[i].file}: the server differs from ${pageExamples[0].file}'s`),
    );
    for (const { file, flow } of pageExamples) {
      for (const node of flow) {
        if ("server" in node)
          assert.equal(node.server, shared.id, `${file}: ${node.type} ${node.id} uses another server`);
      }
    }
  });

  it("give the device example a global server config node of its own, for v2 clients and the origins devices send, used by all its nodes", function () {
    const shared = serverOf(pageExamples[0].file, pageExamples[0].flow);
    const { flow } = examples.find((e) => e.file === DEVICES)!;
    const devices = serverOf(DEVICES, flow);
    assert.notEqual(devices.id, shared.id);
    assert.equal(devices.listen, "nodered");
    assert.equal(devices.path, "/devices/socket.io");
    assert.equal(devices.allowEIO3, true, "Accept Socket.IO v2 clients: arduinoWebSockets speaks EIO=3");
    assert.equal(devices.corsOrigins, "file://, null");
    for (const key of ["z", "x", "y"]) assert.ok(!(key in devices), `the device server config node has ${key}`);
    for (const node of flow) {
      if ("server" in node)
        assert.equal(node.server, devices.id, `${DEVICES}: ${node.type} ${node.id} uses another server`);
    }
  });

  it("serve pages that find socket.io.js and the Socket.IO endpoint relative to their own address", function () {
    const pages = examples.flatMap(({ file, flow }) =>
      flow.filter((n) => n.type === "template" && n.format === "html").map((n) => ({ file, html: String(n.template) })),
    );
    assert.equal(pages.length, pageExamples.length);
    assert.ok(!pages.some((p) => p.file === DEVICES), "the device example serves no page");
    for (const { file, html } of pages) {
      assert.match(html, /<script src="socket\.io\/socket\.io\.js"><\/script>/, file);
      assert.doesNotMatch(html, /["']\/socket\.io/, `${file}: an absolute /socket.io path`);
      assert.match(html, /const path = new URL\("socket\.io", location\.href\)\.pathname;/, file);
      const calls = html.match(/\bio\(/g) ?? [];
      const withPath = html.match(/\bio\((?:"[^"]*", )?\{ path\b/g) ?? [];
      assert.ok(calls.length > 0, `${file}: no io() call`);
      assert.equal(withPath.length, calls.length, `${file}: an io() call without the page's path`);
    }
  });
});

describe("the example flows", function () {
  it("are six tabs of core nodes and ours, each with a comment, placed as the editor exports them", function () {
    assert.equal(examples.length, 6);
    for (const { file, flow } of examples) {
      const tabs = flow.filter((n) => n.type === "tab");
      assert.equal(tabs.length, 1, `${file}: one tab`);
      assert.ok(
        flow.some((n) => n.type === "comment" && n.name && n.info),
        `${file}: a comment node that explains it`,
      );
      for (const n of flow) {
        assert.ok(
          [...NODE_TYPES, ...CORE_TYPES].includes(n.type),
          `${file}: ${n.type} is neither a core node nor ours`,
        );
        if (n.type === "tab" || n.type === "socket-io-server") continue;
        assert.equal(n.z, tabs[0].id, `${file}: ${n.type} ${n.id} is on the tab`);
        assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${file}: ${n.type} ${n.id} has a position`);
        for (const out of n.wires!)
          for (const id of out)
            assert.ok(
              flow.some((m) => m.id === id),
              `${file}: ${n.id} is wired to ${id}, which is not in the file`,
            );
      }
    }
  });

  it("use every node type of the package, on a server config node on Node-RED's server", function () {
    const used = new Set(examples.flatMap((e) => e.flow.map((n) => n.type)));
    for (const type of NODE_TYPES) assert.ok(used.has(type), `no example uses ${type}`);
    for (const { file, flow } of examples) {
      const servers = flow.filter((n) => n.type === "socket-io-server");
      assert.equal(servers.length, 1, `${file}: one server config node`);
      assert.equal(servers[0].listen, "nodered", `${file}: the server listens on Node-RED's server`);
    }
  });

  it("can be deployed together: node ids are unique across files but for the shared server, and never equal a setting's value", function () {
    const all = everything();
    const servers = all.filter((n) => n.type === "socket-io-server").map((n) => n.id);
    assert.equal(servers.length, 2, "the demo deploys the shared server config node and the device example's");
    const ids = [
      ...servers,
      ...examples.flatMap((e) => e.flow.filter((n) => n.type !== "socket-io-server").map((n) => n.id)),
    ];
    assert.equal(new Set(ids).size, ids.length, "a node id appears twice");
    // Node-RED takes a string setting equal to a node id for a reference to that node.
    const values = new Set(
      all.flatMap((n) =>
        Object.entries(n)
          .filter(([k, v]) => typeof v === "string" && !["id", "z", "server"].includes(k))
          .map(([, v]) => v),
      ),
    );
    for (const { id } of all) assert.ok(!values.has(id), `node id ${id} equals a setting's value`);
  });
});
