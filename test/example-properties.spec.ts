// The example flows as the current editor saves them: every property a node's editor definition has,
// and one server config node that the editor merges when several examples are imported.
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "acorn";
import { simple } from "acorn-walk";

type FlowNode = Record<string, any>;

const EXAMPLES_DIR = join(__dirname, "..", "examples");
const OUR_EDITOR_DIR = join(__dirname, "..", "nodes");
const CORE_EDITOR_DIR = dirname(dirname(require.resolve("@node-red/nodes/core/common/90-comment.js")));

const examples: Array<{ file: string; flow: FlowNode[] }> = readdirSync(EXAMPLES_DIR)
  .filter((file) => file.endsWith(".json"))
  .sort()
  .map((file) => ({ file, flow: JSON.parse(readFileSync(join(EXAMPLES_DIR, file), "utf8")) as FlowNode[] }));

/** The editor files: ours (nodes/*.html) and Node-RED's core nodes (@node-red/nodes/core/<group>/*.html). */
function editorFiles(): string[] {
  const html = (dir: string): string[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".html"))
      .map((f) => join(dir, f));
  const groups = readdirSync(CORE_EDITOR_DIR, { withFileTypes: true }).filter((d) => d.isDirectory());
  return [...html(OUR_EDITOR_DIR), ...groups.flatMap((d) => html(join(CORE_EDITOR_DIR, d.name)))];
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
      let program;
      try {
        program = parse(code, { ecmaVersion: "latest" });
      } catch (err) {
        throw new Error(`${file}: its editor script does not parse: ${(err as Error).message}`);
      }
      simple(program, {
        CallExpression(call) {
          const callee = call.callee;
          if (
            callee.type !== "MemberExpression" ||
            callee.property.type !== "Identifier" ||
            callee.property.name !== "registerType"
          )
            return;
          const [type, definition] = call.arguments;
          if (type?.type !== "Literal" || typeof type.value !== "string" || definition?.type !== "ObjectExpression")
            return;
          const keyOf = (key: unknown): string | undefined => {
            const k = key as { type: string; name?: string; value?: unknown };
            return k.type === "Identifier" ? k.name : k.type === "Literal" ? String(k.value) : undefined;
          };
          const defaults = definition.properties.find((p) => p.type === "Property" && keyOf(p.key) === "defaults");
          const keys =
            defaults?.type === "Property" && defaults.value.type === "ObjectExpression"
              ? defaults.value.properties.map((p) => (p.type === "Property" ? keyOf(p.key) : undefined))
              : [];
          found.set(
            type.value,
            keys.filter((k): k is string => k !== undefined),
          );
        },
      });
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
    const servers = examples.map(({ file, flow }) => {
      const found = flow.filter((n) => n.type === "socket-io-server");
      assert.equal(found.length, 1, `${file}: one server config node`);
      return found[0];
    });
    const [shared] = servers;
    assert.equal(shared.name, "Node-RED's server");
    assert.equal(shared.listen, "nodered");
    assert.equal(shared.path, "/socket.io");
    // Global, as Node-RED exports a config node that several tabs use: no tab, no position.
    for (const key of ["z", "x", "y"]) assert.ok(!(key in shared), `the server config node has ${key}`);
    servers.forEach((server, i) =>
      assert.deepEqual(server, shared, `${examples[i].file}: the server differs from ${examples[0].file}'s`),
    );
    for (const { file, flow } of examples) {
      for (const node of flow) {
        if ("server" in node)
          assert.equal(node.server, shared.id, `${file}: ${node.type} ${node.id} uses another server`);
      }
    }
  });

  it("serve pages that find socket.io.js and the Socket.IO endpoint relative to their own address", function () {
    const pages = examples.flatMap(({ file, flow }) =>
      flow.filter((n) => n.type === "template" && n.format === "html").map((n) => ({ file, html: String(n.template) })),
    );
    assert.equal(pages.length, examples.length);
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
