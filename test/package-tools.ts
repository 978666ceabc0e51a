import { parse, type CallExpression } from "acorn";
import { simple } from "acorn-walk";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { SavedNode } from "./flow-fixtures";
import { PACKAGE_DIR, type NodeRedProcess } from "./node-red-process";

/** The node types the package registers, in the order package.json lists them. */
export const NODE_TYPES = [
  "socket-io-server",
  "socket-io-on",
  "socket-io-emit",
  "socket-io-room",
  "socket-io-middleware-start",
  "socket-io-middleware-end",
];

/** The parts of package.json the packaging checks read. */
export interface PackageJson {
  name: string;
  version: string;
  license?: string;
  repository?: string | { type?: string; url?: string };
  keywords?: string[];
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  "node-red"?: { version?: string; nodes?: Record<string, string> };
}

/** node-red.nodes of package.json: type -> compiled file. */
export const nodeFiles = (): Record<string, string> => packageJson()["node-red"]?.nodes ?? {};

/** The editor html of a node file, named after the .js file. */
export const htmlOf = (file: string): string => file.replace(/\.js$/, ".html");

export function packageJson(): PackageJson {
  return JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as PackageJson;
}

/** Runs a command; resolves with its stdout, rejects with everything it printed. */
export function run(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface Packed {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Package-relative paths of every file in it, sorted. */
  files: string[];
}

/**
 * `npm pack` of the repository into `dest`, as `npm publish` would pack it (the prepare script builds
 * first); the file list is read back from the tarball itself.
 */
export async function pack(dest: string): Promise<Packed> {
  const out = await run("npm", ["pack", "--json", "--pack-destination", dest], PACKAGE_DIR);
  const [{ filename }] = JSON.parse(out) as Array<{ filename: string }>;
  const tarball = join(dest, filename);
  const listing = await run("tar", ["-tzf", tarball], dest);
  const files = listing
    .split("\n")
    .filter((line) => line && !line.endsWith("/"))
    .map((line) => line.replace(/^package\//, ""))
    .sort();
  return { tarball, files };
}

/** Package-relative paths of every file under `dir` (a package-relative folder), recursively. */
export function filesUnder(dir: string): string[] {
  const abs = join(PACKAGE_DIR, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const rel = posix.join(dir, name);
    return statSync(join(PACKAGE_DIR, rel)).isDirectory() ? filesUnder(rel) : [rel];
  });
}

/** The example flows in the repository right now (package-relative, sorted): what Node-RED lists. */
export function exampleFiles(): string[] {
  return filesUnder("examples")
    .filter((f) => f.endsWith(".json"))
    .sort();
}

/** Every example flow in the repository, by file name ("01-chat-room.json"), sorted. */
export function readExamples(): Array<{ file: string; flow: SavedNode[] }> {
  return exampleFiles().map((path) => ({
    file: posix.basename(path),
    flow: JSON.parse(readFileSync(join(PACKAGE_DIR, path), "utf8")) as SavedNode[],
  }));
}

/** A compiled file and every file it loads through relative `require`s, transitively (package-relative). */
export function localRequires(entry: string, seen = new Set<string>()): string[] {
  if (seen.has(entry)) return [...seen];
  seen.add(entry);
  const source = readFileSync(join(PACKAGE_DIR, entry), "utf8");
  for (const [, spec] of source.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
    const target = posix.normalize(posix.join(posix.dirname(entry), spec));
    localRequires(target.endsWith(".js") ? target : `${target}.js`, seen);
  }
  return [...seen].sort();
}

/** What the flow library's validator reads from one `RED.nodes.registerType(...)` call. */
export interface EditorDefinition {
  category?: string;
  icon?: string;
}

/** Definition properties the validator reports as errors unless written inline, and the form it wants. */
const INLINE: Record<string, "Literal" | "ObjectExpression"> = {
  category: "Literal",
  icon: "Literal",
  color: "Literal",
  inputs: "Literal",
  outputs: "Literal",
  defaults: "ObjectExpression",
  credentials: "ObjectExpression",
};

/**
 * The node types an editor html registers, read the way the flow library's validator
 * (node-red-dev validate) reads them: `<script type="text/javascript">` blocks parsed with acorn, a
 * `registerType` call whose type is a string literal and whose definition is an object literal, with
 * category, icon, colour, inputs, outputs, defaults and credentials written inline.
 * Throws when a block does not parse or a call is not in that form.
 */
export function editorDefinitions(htmlFile: string): Map<string, EditorDefinition> {
  const html = readFileSync(join(PACKAGE_DIR, htmlFile), "utf8");
  const defs = new Map<string, EditorDefinition>();
  for (const [, script] of html.matchAll(/<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi)) {
    registerTypeCalls(script, ([type, def]) => {
      if (type?.type !== "Literal" || typeof type.value !== "string")
        throw new Error(`${htmlFile}: registerType with a non-literal type`);
      if (def?.type !== "ObjectExpression")
        throw new Error(`${htmlFile}: registerType('${type.value}') without an inline definition`);
      const found: EditorDefinition = {};
      for (const prop of def.properties) {
        if (prop.type !== "Property" || prop.key.type !== "Identifier") continue;
        const key = prop.key.name;
        const inline = INLINE[key];
        if (inline && prop.value.type !== inline)
          throw new Error(`${htmlFile}: ${type.value}.${key} is not inline (${inline})`);
        if ((key === "category" || key === "icon") && prop.value.type === "Literal")
          found[key] = String(prop.value.value);
      }
      defs.set(type.value, found);
    });
  }
  return defs;
}

/** Calls `visit` with the arguments of every `<x>.registerType(...)` call in `script`, parsed, not run. */
export function registerTypeCalls(script: string, visit: (args: CallExpression["arguments"]) => void): void {
  simple(parse(script, { ecmaVersion: "latest" }), {
    CallExpression(call) {
      const callee = call.callee;
      if (
        callee.type === "MemberExpression" &&
        callee.property.type === "Identifier" &&
        callee.property.name === "registerType"
      )
        visit(call.arguments);
    },
  });
}

/** The palette manager's own npm arguments (@node-red/registry lib/installer.js). */
const PALETTE_NPM_ARGS = [
  "--no-audit",
  "--no-update-notifier",
  "--no-fund",
  "--save",
  "--save-prefix=~",
  "--omit=dev",
  "--engine-strict",
];

/**
 * Makes `userDir` a Node-RED user dir and installs `tarball` into it as the palette manager does
 * (offline-first); `env` can put another Node first on the PATH, so that npm runs on it.
 */
export async function installLikePalette(userDir: string, tarball: string, env?: NodeJS.ProcessEnv): Promise<void> {
  mkdirSync(userDir, { recursive: true });
  writeFileSync(
    join(userDir, "package.json"),
    JSON.stringify({ name: "node-red-project", version: "0.0.1", private: true }),
  );
  await run(
    "npm",
    ["install", ...PALETTE_NPM_ARGS, "--prefer-offline", "--prefix", userDir, "--", tarball],
    userDir,
    env,
  );
}

/** The examples' names, as Import > Examples lists them: `examples/01-chat-room.json` is `01-chat-room`. */
export const exampleNames = (): string[] =>
  exampleFiles().map((f) => f.replace(/^examples\//, "").replace(/\.json$/, ""));

/** Walks the runtime's examples library for one module, as Import > Examples does: folders are strings, flows `{fn}`. */
export async function listedExamples(red: NodeRedProcess, module: string, dir = ""): Promise<string[]> {
  const entries = await red.getJson<Array<string | { fn: string }>>(
    `/library/examples/flows/${module}${dir ? "/" + dir : ""}`,
  );
  const names: string[] = [];
  for (const entry of entries) {
    if (typeof entry === "string") names.push(...(await listedExamples(red, module, posix.join(dir, entry))));
    else names.push(posix.join(dir, entry.fn));
  }
  return names;
}
