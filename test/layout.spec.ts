// The source layout a newcomer reads: every relative import names a file on disk (no rootDirs),
// tests import the sources and never the compiled nodes/, the core cannot import the adapters, and
// a source file over 250 lines says why in its opening comment.
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
const CORE = join(ROOT, "src", "nodes", "core");

/** Every file below `dir` whose name ends with one of `endings`. */
function filesUnder(dir: string, endings: string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "artifacts" ? [] : filesUnder(path, endings);
    return endings.some((e) => name.endsWith(e)) ? [path] : [];
  });
}

const sources = (): string[] => [
  ...filesUnder(join(ROOT, "src"), [".ts"]),
  ...filesUnder(join(ROOT, "test"), [".ts"]),
  ...filesUnder(join(ROOT, "bench"), [".ts", ".mjs"]),
  ...filesUnder(join(ROOT, "demo"), [".ts"]),
];

/** The relative module names a file imports, requires or resolves. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = text.matchAll(
    /(?:from\s+|import\s+|require\(|import\(|require\.resolve\()\s*["'](\.{1,2}\/[^"']+)["']/g,
  );
  return [...found].map((m) => m[1]);
}

/** The file a relative module name resolves to, as tsx and tsc resolve it, or undefined. */
function resolveOnDisk(from: string, name: string): string | undefined {
  const base = resolve(dirname(from), name);
  const candidates = [base, `${base}.ts`, `${base}.js`, `${base}.mjs`, join(base, "index.ts")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

describe("the source layout", function () {
  it("has no rootDirs in any tsconfig", function () {
    const configs = [join(ROOT, "tsconfig.json"), ...filesUnder(join(ROOT, "src"), ["tsconfig.json"])];
    configs.push(join(ROOT, "test", "tsconfig.json"));
    for (const config of configs) assert.ok(!readFileSync(config, "utf8").includes("rootDirs"), config);
  });

  it("resolves every relative import of src, test, bench and demo to a file on disk", function () {
    const dangling: string[] = [];
    for (const file of sources()) {
      for (const name of relativeImports(file)) {
        if (!resolveOnDisk(file, name)) dangling.push(`${relative(ROOT, file)}: ${name}`);
      }
    }
    assert.deepEqual(dangling, []);
  });

  it("tests and the benchmark import the sources, never the compiled nodes/", function () {
    const compiled = join(ROOT, "nodes");
    const offenders = sources()
      .filter((file) => !file.startsWith(join(ROOT, "src")))
      .flatMap((file) =>
        relativeImports(file)
          .filter((name) => resolveOnDisk(file, name)?.startsWith(compiled + "/"))
          .map((name) => `${relative(ROOT, file)}: ${name}`),
      );
    assert.deepEqual(offenders, []);
  });

  it("keeps the core free of the node adapters and of Node-RED", function () {
    const offenders = filesUnder(CORE, [".ts"]).flatMap((file) => {
      const out = relativeImports(file)
        .filter((name) => !resolveOnDisk(file, name)?.startsWith(CORE + "/"))
        .map((name) => `${relative(ROOT, file)}: ${name}`);
      if (/from\s+["']node-red["']|require\(["']node-red["']\)/.test(readFileSync(file, "utf8"))) {
        out.push(`${relative(ROOT, file)}: node-red`);
      }
      return out;
    });
    assert.deepEqual(offenders, []);
  });

  it("gives the reason in the opening comment of every source file over 250 lines", function () {
    const editor = [...filesUnder(join(ROOT, "nodes"), [".html"]), ...filesUnder(join(ROOT, "resources"), [".js"])];
    const long = [...sources(), ...editor.filter((f) => !f.includes(`${join("nodes", "locales")}`))].filter(
      (file) => readFileSync(file, "utf8").split("\n").length > 251,
    );
    const unexplained = long.filter((file) => {
      const opening = readFileSync(file, "utf8").split("\n").slice(0, 12).join("\n");
      return !/\b(one feature's cases|over 250 lines)\b/i.test(opening);
    });
    assert.deepEqual(
      unexplained.map((f) => relative(ROOT, f)),
      [],
    );
  });
});
