import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

// Every word a Node-RED user sees comes from nodes/locales: the node layer words its own, the core
// gives codes and values that the node layer words from the server node's catalog.

const ROOT = join(__dirname, "..");
const LOCALES = join(ROOT, "nodes", "locales", "en-US");
const MODULE = "node-red-contrib-socket-io";
const SERVER = "socket-io-server";
/** `SHARED` in src/nodes/wording.ts: the server node's catalog, which every node type shares. */
const SHARED = `${MODULE}/${SERVER}:${SERVER}`;
/** Node-RED shows at most this much of a status; core nodes keep theirs to about 20 characters. */
const STATUS_MAX = 32;
/** What a status may be filled in with, at its longest in practice. */
const REALISTIC: Record<string, string> = { count: "999", clients: "999 clients", namespace: "/notifications" };
/** Wire strings of the core: HTTP, and what engine.io and Socket.IO clients are told. */
const WIRE = [
  'Basic realm="Authorization Required"',
  "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  "text/plain; charset=utf-8",
  "origin not allowed",
];

type Tree = { [key: string]: string | Tree };

/** Each node type's catalog, by type ("socket-io-on"), flattened to "socket-io-on.status.clients" -> text. */
const catalogs = new Map<string, Map<string, string>>();
for (const file of readdirSync(LOCALES).filter((f) => f.endsWith(".json"))) {
  const flat = new Map<string, string>();
  const walk = (tree: Tree, prefix: string): void => {
    for (const [key, value] of Object.entries(tree)) {
      if (typeof value === "string") flat.set(prefix + key, value);
      else walk(value, `${prefix}${key}.`);
    }
  };
  walk(JSON.parse(readFileSync(join(LOCALES, file), "utf8")) as Tree, "");
  catalogs.set(file.replace(/\.json$/, ""), flat);
}

/** A key as i18next finds it: itself, or the plural forms of Node-RED 4.1 (`_one`) and 3.1 (`_plural`). */
const has = (keys: Map<string, string>, key: string): boolean => keys.has(key) || keys.has(`${key}_one`);

/** A key pattern with `*` for a part the code fills in at run time; true when some key of `keys` matches. */
function matches(keys: Map<string, string>, pattern: string): boolean {
  if (!pattern.includes("*")) return has(keys, pattern);
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^.]+")}(_one)?$`);
  return [...keys.keys()].some((k) => re.test(k));
}

function source(dir: string): Array<{ file: string; sf: ts.SourceFile }> {
  return readdirSync(join(ROOT, "src", dir))
    .filter((f) => f.endsWith(".ts"))
    .map((file) => ({
      file: `src/${dir}/${file}`,
      sf: ts.createSourceFile(file, readFileSync(join(ROOT, "src", dir, file), "utf8"), ts.ScriptTarget.ES2022, true),
    }));
}

function visit(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  ts.forEachChild(node, (child) => visit(child, fn));
}

/**
 * The texts an expression can be: literals, both sides of a `?:`, a template with `*` for each
 * `${...}` (SHARED is resolved), and the initializer of a const it names.
 */
function texts(expr: ts.Expression | undefined, sf: ts.SourceFile): string[] {
  if (!expr) return [];
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return [expr.text];
  if (ts.isParenthesizedExpression(expr)) return texts(expr.expression, sf);
  if (ts.isConditionalExpression(expr)) return [...texts(expr.whenTrue, sf), ...texts(expr.whenFalse, sf)];
  if (ts.isTemplateExpression(expr)) {
    return [
      expr.head.text +
        expr.templateSpans.map((s) => (s.expression.getText(sf) === "SHARED" ? SHARED : "*") + s.literal.text).join(""),
    ];
  }
  if (ts.isIdentifier(expr)) {
    let init: ts.Expression | undefined;
    visit(sf, (n) => {
      if (ts.isVariableDeclaration(n) && n.name.getText(sf) === expr.text && n.initializer) init = n.initializer;
    });
    return texts(init, sf);
  }
  return [];
}

const callee = (call: ts.CallExpression | ts.NewExpression): string => {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return e.kind === ts.SyntaxKind.SuperKeyword ? "super" : "";
};

describe("locale files", function () {
  it("every status text fits a node's status, filled in with realistic values", function () {
    const long: string[] = [];
    for (const keys of catalogs.values()) {
      for (const [key, text] of keys) {
        if (!key.split(".").includes("status")) continue;
        const shown = text.replace(/__(\w+)__/g, (_m, name: string) => {
          assert.ok(name in REALISTIC, `${key}: no realistic value for __${name}__`);
          return REALISTIC[name]!;
        });
        if (shown.length > STATUS_MAX) long.push(`${key}: "${shown}" (${shown.length})`);
      }
    }
    assert.deepEqual(long, [], `status texts over ${STATUS_MAX} characters`);
  });

  it("a plural has the forms of Node-RED 4.1 (_one, _other) and of Node-RED 3.1 (the key, _plural)", function () {
    for (const keys of catalogs.values()) {
      for (const key of keys.keys()) {
        const base = key.replace(/_(one|other|plural)$/, "");
        if (base === key) continue;
        for (const form of [base, `${base}_plural`, `${base}_one`, `${base}_other`])
          assert.ok(keys.has(form), `${form} (a form of ${key})`);
      }
    }
  });

  it('every RED._("...") key of src/nodes is in the catalog it is looked up in', function () {
    const missing: string[] = [];
    const server = catalogs.get(SERVER)!;
    let count = 0;
    for (const { file, sf } of source("nodes")) {
      const ownType = /socket-io-[a-z-]+(?=\.ts$)/.exec(file)?.[0];
      const check = (pattern: string, where: string): void => {
        count++;
        if (pattern.includes(":")) {
          const [namespace, key] = pattern.split(":") as [string, string];
          const type = namespace.slice(`${MODULE}/`.length);
          if (!namespace.startsWith(`${MODULE}/`) || !catalogs.has(type) || !matches(catalogs.get(type)!, key))
            missing.push(`${where}: ${pattern}`);
          return;
        }
        // A key without a namespace is looked up in the catalog of the node type whose RED it is.
        const type = pattern.slice(0, pattern.indexOf("."));
        if (ownType && type !== ownType) missing.push(`${where}: ${pattern} (not ${ownType}'s own catalog)`);
        const candidates = type === "*" ? [...catalogs.values()] : catalogs.has(type) ? [catalogs.get(type)!] : [];
        if (!candidates.some((keys) => matches(keys, pattern))) missing.push(`${where}: ${pattern}`);
      };
      visit(sf, (n) => {
        if (!ts.isCallExpression(n)) return;
        const where = `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
        const name = callee(n);
        if (
          name === "_" &&
          ts.isPropertyAccessExpression(n.expression) &&
          n.expression.expression.getText(sf) === "RED"
        ) {
          const keys = texts(n.arguments[0], sf);
          assert.ok(keys.length > 0, `${where}: RED._ with a key the test cannot read: ${n.getText(sf)}`);
          for (const key of keys) check(key, where);
        }
        // Short statuses, by their key under `status` of the shared catalog.
        if (name === "statusText" || (name === "fail" && n.arguments.length === 3) || name === "failureOf") {
          for (const arg of n.arguments.slice(1)) {
            for (const status of texts(arg as ts.Expression, sf)) check(`${SHARED}.status.${status}`, where);
          }
          visit(n, (m) => {
            if (ts.isBinaryExpression(m) && m.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken) {
              for (const status of texts(m.right, sf)) check(`${SHARED}.status.${status}`, where);
            }
          });
        }
      });
      // A status a function falls back on: `status = "failed"`.
      visit(sf, (n) => {
        if (ts.isParameter(n) && n.name.getText(sf) === "status" && n.initializer) {
          for (const status of texts(n.initializer, sf)) check(`${SHARED}.status.${status}`, file);
        }
      });
      // The status of each core code, in wording.ts: [code, status] pairs.
      visit(sf, (n) => {
        if (!ts.isVariableDeclaration(n) || n.name.getText(sf) !== "STATUS_OF_CODE" || !n.initializer) return;
        visit(n.initializer, (m) => {
          if (!ts.isArrayLiteralExpression(m) || m.elements.length !== 2 || !m.elements.every(ts.isStringLiteral))
            return;
          const [code, status] = m.elements.map((e) => (e as ts.StringLiteral).text) as [string, string];
          count++;
          if (!has(server, `${SERVER}.status.${status}`)) missing.push(`${file}: status ${status}`);
          if (!matches(server, `${SERVER}.core.${code}`) && !matches(server, `${SERVER}.core.${code}.*`))
            missing.push(`${file}: code ${code}`);
        });
      });
    }
    assert.ok(count > 50, `only ${count} keys found: the test no longer reads the sources`);
    assert.deepEqual(missing, []);
  });

  it("every node module has the core worded from the catalog (useCatalog)", function () {
    const modules = source("nodes").filter(({ file }) => /socket-io-[a-z-]+\.ts$/.test(file));
    assert.equal(modules.length, catalogs.size, "a module per catalog");
    for (const { file, sf } of modules) assert.match(sf.text, /^ {2}useCatalog\(RED\);$/m, file);
  });

  describe("the core", function () {
    const core = source("core");

    /** Catalog paths the core names, from the top of the server node's catalog ("core.emit.noEvent", "kind.array"). */
    function corePaths(): Array<{ path: string; where: string }> {
      const found: Array<{ path: string; where: string }> = [];
      for (const { file, sf } of core) {
        visit(sf, (n) => {
          if (!ts.isCallExpression(n) && !ts.isNewExpression(n)) return;
          const where = `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
          const args = n.arguments ?? ts.factory.createNodeArray();
          const name = callee(n);
          const add = (prefix: string, arg: ts.Expression | undefined): void => {
            for (const text of texts(arg, sf)) found.push({ path: prefix + text, where });
          };
          if (name === "Problem" || name === "wordCode" || name === "super") add("core.", args[0]);
          else if (name === "EmitError") add("core.emit.", args[0]);
          else if (name === "SettingsError") add("core.setting.", args[0]);
          else if (name === "ClosedConnections") add("core.", args[1]);
          else if (name === "Term") add("", args[0]);
          else if (ts.isCallExpression(n) && ["warn", "error", "log"].includes(name)) add("core.", args[0]);
        });
      }
      return found;
    }

    it("names every code and term it uses in the server node's catalog", function () {
      const server = catalogs.get(SERVER)!;
      const paths = corePaths();
      assert.ok(paths.length > 60, `only ${paths.length} codes found: the test no longer reads the sources`);
      const missing = paths
        .filter(({ path }) => !matches(server, `${SERVER}.${path}`))
        .map(({ path, where }) => `${where}: ${path}`);
      assert.deepEqual(missing, []);
      for (const { path, where } of paths)
        assert.match(path, /^[a-z][A-Za-z]*(\.([a-zA-Z-]+|\*))+$/, `${where}: "${path}" is not a code`);
    });

    it("has no wording in the catalog that the core no longer uses", function () {
      const patterns = corePaths().map(({ path }) => path);
      const unused = [...catalogs.get(SERVER)!.keys()]
        .filter((key) => key.startsWith(`${SERVER}.core.`))
        .map((key) => key.slice(SERVER.length + 1).replace(/_(one|other|plural)$/, ""))
        .filter((key) => !patterns.some((p) => matches(new Map([[key, ""]]), p)));
      assert.deepEqual(unused, []);
    });

    it("holds no sentence for the user: only codes, and the wire strings clients are told", function () {
      const english: string[] = [];
      for (const { file, sf } of core) {
        visit(sf, (n) => {
          const parts =
            ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)
              ? [n.text]
              : ts.isTemplateExpression(n)
                ? [n.head.text, ...n.templateSpans.map((s) => s.literal.text)]
                : [];
          for (const text of parts) {
            if (WIRE.includes(text) || (text.match(/[A-Za-z]{2,}/g) ?? []).length < 2 || !/\s/.test(text)) continue;
            // What a refused client is told in connect_error is protocol: it lives in REFUSALS.
            if (isInside(n, "REFUSALS", sf)) continue;
            english.push(
              `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${JSON.stringify(text)}`,
            );
          }
        });
      }
      assert.deepEqual(english, []);
    });
  });
});

/** True when `node` lies in the initializer of the variable `name`. */
function isInside(node: ts.Node, name: string, sf: ts.SourceFile): boolean {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if (ts.isVariableDeclaration(n) && n.name.getText(sf) === name) return true;
  }
  return false;
}
