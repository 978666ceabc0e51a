// What the locale specs share: the catalogs of nodes/locales, flattened, and the TypeScript sources
// of src/nodes read with the compiler's parser.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

export const ROOT = join(__dirname, "..");
export const LOCALES = join(ROOT, "nodes", "locales", "en-US");
export const MODULE = "node-red-contrib-socket-io";
export const SERVER = "socket-io-server";
/** `SHARED` in src/nodes/lib/wording.ts: the server node's catalog, which every node type shares. */
export const SHARED = `${MODULE}/${SERVER}:${SERVER}`;
/** Node-RED shows at most this much of a status; core nodes keep theirs to about 20 characters. */
export const STATUS_MAX = 32;
/** What a status may be filled in with, at its longest in practice. */
export const REALISTIC: Record<string, string> = {
  count: "999",
  clients: "999 clients",
  namespace: "/notifications",
  // fitPath() cuts a longer one to fit
  path: "/api/socket.io",
};
/** Wire strings of the core: HTTP, and what engine.io and Socket.IO clients are told. */
export const WIRE = [
  'Basic realm="Authorization Required"',
  "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  "text/plain; charset=utf-8",
  "origin not allowed",
  // What the Admin UI shows for a wrong login (admin-ui's own words, admin-logins.ts).
  "invalid credentials",
  // The connect_error a client with the other parser gets (wrong-parser.ts).
  "this server uses the default (JSON) parser: connect without socket.io-msgpack-parser",
  "this server uses the msgpack parser: connect with socket.io-msgpack-parser as the client's parser",
];

type Tree = { [key: string]: string | Tree };

/** Each node type's catalog, by type ("socket-io-on"), flattened to "socket-io-on.status.clients" -> text. */
export const catalogs = new Map<string, Map<string, string>>();
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
export const has = (keys: Map<string, string>, key: string): boolean => keys.has(key) || keys.has(`${key}_one`);

/** A key pattern with `*` for a part the code fills in at run time; true when some key of `keys` matches. */
export function matches(keys: Map<string, string>, pattern: string): boolean {
  if (!pattern.includes("*")) return has(keys, pattern);
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^.]+")}(_one)?$`);
  return [...keys.keys()].some((k) => re.test(k));
}

/** The node adapters' sources: src/nodes/*.ts and their helpers in src/nodes/lib (not the core). */
export const adapterSources = (): Array<{ file: string; sf: ts.SourceFile }> => [
  ...source("nodes"),
  ...source("nodes/lib"),
];

/** The TypeScript files directly in src/<dir>, parsed. */
export function source(dir: string): Array<{ file: string; sf: ts.SourceFile }> {
  return readdirSync(join(ROOT, "src", dir))
    .filter((f) => f.endsWith(".ts"))
    .map((file) => ({
      file: `src/${dir}/${file}`,
      sf: ts.createSourceFile(file, readFileSync(join(ROOT, "src", dir, file), "utf8"), ts.ScriptTarget.ES2022, true),
    }));
}

export function visit(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  ts.forEachChild(node, (child) => visit(child, fn));
}

/**
 * The texts an expression can be: literals, both sides of a `?:`, a template with `*` for each
 * `${...}` (SHARED is resolved), and the initializer of a const it names.
 */
export function texts(expr: ts.Expression | undefined, sf: ts.SourceFile): string[] {
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

export const callee = (call: ts.CallExpression | ts.NewExpression): string => {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return e.kind === ts.SyntaxKind.SuperKeyword ? "super" : "";
};

/** True when `node` lies in the initializer of the variable `name`. */
export function isInside(node: ts.Node, name: string, sf: ts.SourceFile): boolean {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if (ts.isVariableDeclaration(n) && n.name.getText(sf) === name) return true;
  }
  return false;
}

/** True when `node` lies in the arguments of a call of the function `name`. */
export function isInCallOf(node: ts.Node, name: string): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === name) return true;
  }
  return false;
}
