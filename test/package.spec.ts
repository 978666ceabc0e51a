import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import * as semver from "semver";
import { freePort } from "./helpers";
import { PACKAGE_DIR, startNodeRed, type NodeRedProcess } from "./node-red-process";
import {
  editorDefinitions,
  exampleFiles,
  filesUnder,
  localRequires,
  pack,
  packageJson,
  run,
  type Packed,
} from "./package-tools";

const TYPES = [
  "socket-io-server",
  "socket-io-on",
  "socket-io-emit",
  "socket-io-room",
  "socket-io-middleware-start",
  "socket-io-middleware-end",
];

const pkg = packageJson();
/** package.json of a module installed in the repository's node_modules. */
const installedPackage = <T>(name: string): T =>
  JSON.parse(readFileSync(join(PACKAGE_DIR, "node_modules", name, "package.json"), "utf8")) as T;
/** node-red.nodes: type -> compiled file. */
const NODE_FILES = pkg["node-red"]?.nodes ?? {};

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: unknown;
}

interface ModuleInfo {
  path: string;
  version: string;
  user: boolean;
}

/** Files a node file brings along: its editor html, its en-US messages and help, named after the .js file. */
const htmlOf = (file: string): string => file.replace(/\.js$/, ".html");
const localeOf = (file: string): string =>
  posix.join(posix.dirname(file), "locales", "en-US", posix.basename(file, ".js") + ".json");
const helpOf = (file: string): string => localeOf(file).replace(/\.json$/, ".html");

/** Where a shipped .js is compiled from: its path under src/, as a .ts (nodes/lib/x.js <- src/nodes/lib/x.ts). */
const sourceOf = (file: string): string => posix.join("src", file.replace(/\.js$/, ".ts"));

/** What may be in the tarball. Anything else (tests, src, *.ts and *.d.ts, tsconfig, tsbuildinfo, demo, screenshots) is a leak. */
const SHIPPABLE = [
  /^package\.json$/,
  /^README\.md$/,
  /^CHANGELOG\.md$/,
  /^LICENSE$/,
  /^nodes\/((core|lib)\/)?[\w-]+\.js$/,
  /^nodes\/[\w-]+\.html$/,
  /^nodes\/locales\/[\w-]+\/[\w-]+\.(json|html)$/,
  /^nodes\/icons\/[\w-]+\.(svg|png)$/,
  /^resources\/[\w-]+\.js$/,
  /^examples\/[\w/-]+\.json$/,
];

/** Example names as Node-RED lists them: path under examples/ without ".json". */
const exampleNames = (): string[] => exampleFiles().map((f) => f.replace(/^examples\//, "").replace(/\.json$/, ""));

/** Walks the runtime's examples library for one module, as Import > Examples does: folders are strings, flows `{fn}`. */
async function listedExamples(red: NodeRedProcess, module: string, dir = ""): Promise<string[]> {
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

describe("the npm package, as the palette manager gets it", function () {
  this.timeout(120_000);
  let work = "";
  let packed: Packed;
  let red: NodeRedProcess | undefined;

  before(async function () {
    work = realpathSync(mkdtempSync(join(tmpdir(), "nr-socket-io-pack-")));
    packed = await pack(work);
  });

  afterEach(async function () {
    if (red) await red.stop();
    red = undefined;
  });

  after(function () {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("holds each node's compiled code with everything it requires, its editor html, messages, help and icon, the shared editor script, plus the examples, README, CHANGELOG and LICENSE", function () {
    const examples = exampleFiles();
    assert.ok(examples.length > 0, "examples/ holds no flow (*.json) to ship");
    const expected = new Set([
      "package.json",
      "README.md",
      "CHANGELOG.md",
      "LICENSE",
      ...examples,
      ...filesUnder("nodes/locales"),
      ...filesUnder("nodes/icons"),
      // The editor script the node files share (Node-RED serves it at resources/<module>/).
      ...filesUnder("resources"),
    ]);
    for (const [type, file] of Object.entries(NODE_FILES)) {
      for (const f of localRequires(file)) expected.add(f);
      expected.add(htmlOf(file));
      expected.add(localeOf(file));
      expected.add(helpOf(file));
      const icon = editorDefinitions(htmlOf(file)).get(type)?.icon;
      // "font-awesome/..." and "node-red/..." icons come with the editor; a bare file name is ours.
      if (icon && !icon.includes("/")) expected.add(posix.join(posix.dirname(file), "icons", icon));
    }
    const shipped = new Set(packed.files);
    assert.deepEqual([...expected].filter((f) => !shipped.has(f)).sort(), [], "missing from the tarball");
  });

  it("ships nothing the runtime does not need: no tests, TypeScript sources or declarations, tsconfig, build info, demo or screenshots, and no stale build output", function () {
    assert.deepEqual(
      packed.files.filter((f) => !SHIPPABLE.some((re) => re.test(f))),
      [],
      "files that should not be in the tarball",
    );
    // Compiled: the .js under nodes/ (resources/ holds the hand-written editor script).
    const stale = packed.files.filter(
      (f) => f.startsWith("nodes/") && f.endsWith(".js") && !existsSync(join(PACKAGE_DIR, sourceOf(f))),
    );
    assert.deepEqual(stale, [], "compiled files without a source in src/ (left over from an old build)");
  });

  it("installs with npm into a fresh Node-RED user dir, loads all six types without errors, serves the help of each and lists every example under Import > Examples", async function () {
    const userDir = join(work, "user");
    mkdirSync(userDir);
    writeFileSync(
      join(userDir, "package.json"),
      JSON.stringify({ name: "node-red-project", version: "0.0.1", private: true }),
    );
    // The palette manager's own npm arguments (@node-red/registry lib/installer.js), offline-first.
    const paletteArgs = [
      "--no-audit",
      "--no-update-notifier",
      "--no-fund",
      "--save",
      "--save-prefix=~",
      "--omit=dev",
      "--engine-strict",
    ];
    await run(
      "npm",
      ["install", ...paletteArgs, "--prefer-offline", "--prefix", userDir, "--", packed.tarball],
      userDir,
    );
    const installed = join(userDir, "node_modules", pkg.name);
    assert.equal(realpathSync(installed), installed, "the package should be an installed copy, not a link");
    assert.ok(!existsSync(join(installed, "src")), "the installed copy has no src/");

    const runtime = (red = await startNodeRed({ port: await freePort(), userDir }));
    const ours = (await runtime.getJson<NodeSet[]>("/nodes")).filter((s) => s.module === pkg.name);
    assert.deepEqual(
      ours.flatMap((s) => s.types).sort(),
      [...TYPES].sort(),
      `the types Node-RED loaded; its log:\n${runtime.output()}`,
    );
    for (const set of ours) {
      assert.equal(set.err, undefined, `${set.types.join()} failed to load: ${JSON.stringify(set.err)}`);
      assert.ok(set.enabled, `${set.types.join()} is not enabled`);
    }
    // Loaded from the installed copy, and user-installed (in the user dir's package.json), so the
    // palette manager offers to update and remove it.
    const info = await runtime.getJson<ModuleInfo>(`/nodes/${pkg.name}`);
    assert.deepEqual(
      { path: info.path, version: info.version, user: info.user },
      { path: installed, version: pkg.version, user: true },
    );

    // The editor gets each type's help once, read from the installed locales/en-US/<type>.html.
    const editor = await (await fetch(`${runtime.url}/nodes`, { headers: { accept: "text/html" } })).text();
    for (const [type, file] of Object.entries(NODE_FILES)) {
      assert.equal(editor.split(`data-help-name="${type}"`).length - 1, 1, `help blocks of ${type} in GET /nodes`);
      assert.ok(
        editor.includes(readFileSync(join(installed, helpOf(file)), "utf8")),
        `GET /nodes serves ${helpOf(file)} as the help of ${type}`,
      );
    }

    const modules = await runtime.getJson<string[]>("/library/examples/flows/");
    assert.ok(
      modules.includes(pkg.name),
      `Node-RED lists no examples for ${pkg.name}, only for: ${modules.join(", ")}`,
    );
    assert.deepEqual((await listedExamples(runtime, pkg.name)).sort(), exampleNames());
    for (const name of exampleNames()) {
      const flow = await runtime.getJson(`/library/examples/flows/${pkg.name}/${name}`);
      assert.deepEqual(
        flow,
        JSON.parse(readFileSync(join(PACKAGE_DIR, "examples", name + ".json"), "utf8")),
        `example ${name}`,
      );
    }
  });
});

describe("package.json, checked as the flow library's validator checks it", function () {
  it("maps each of the six types to a built file whose editor html registers exactly that type, inline", function () {
    assert.deepEqual(Object.keys(NODE_FILES).sort(), [...TYPES].sort());
    for (const [type, file] of Object.entries(NODE_FILES)) {
      assert.ok(existsSync(join(PACKAGE_DIR, file)), `${file} (${type}) does not exist after the build`);
      assert.deepEqual([...editorDefinitions(htmlOf(file)).keys()], [type], htmlOf(file));
    }
  });

  it("has the node-red keyword, a licence matching LICENSE, a git repository, and a node-red version range admitting 3.1 and the Node-RED it is tested with", function () {
    assert.ok(pkg.keywords?.includes("node-red"), "keywords must include node-red");
    assert.ok(pkg.license, "no license");
    assert.match(readFileSync(join(PACKAGE_DIR, "LICENSE"), "utf8").split("\n")[0], new RegExp(pkg.license));
    const repo = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
    assert.match(repo ?? "", /^(git\+)?(https?|git|ssh):\/\/.+/, "repository url");

    const range = pkg["node-red"]?.version ?? "";
    assert.ok(semver.validRange(range), `node-red.version "${range}" is not a semver range`);
    const tested = installedPackage<{ version: string }>("node-red").version;
    for (const version of ["3.1.0", tested])
      assert.ok(semver.satisfies(version, range), `node-red.version "${range}" excludes Node-RED ${version}`);
  });

  it("admits Node 18, 20 and 22 in engines.node, including the minimum of Node-RED 4 (18.5) and Node-RED 5 (22), and every dependency accepts its lowest version", function () {
    const range = pkg.engines?.node ?? "";
    assert.ok(semver.validRange(range), `engines.node "${range}" is not a semver range`);
    const nodeRedEngines = installedPackage<{ engines: { node: string } }>("node-red").engines.node;
    const nodeRedMin = semver.minVersion(nodeRedEngines)!.version;
    for (const version of ["18.20.0", "20.0.0", "22.0.0", nodeRedMin]) {
      assert.ok(semver.satisfies(version, range), `engines.node "${range}" excludes Node ${version}`);
    }
    const lowest = semver.minVersion(range)!.version;
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const depRange = installedPackage<{ engines?: { node?: string } }>(dep).engines?.node;
      if (depRange)
        assert.ok(semver.satisfies(lowest, depRange), `${dep} needs Node ${depRange}, engines.node admits ${lowest}`);
    }
  });

  it("has examples, each a flow, that together use every non-config node type", function () {
    // The validator parses every file under examples/ as a flow.
    const files = filesUnder("examples");
    assert.ok(files.length > 0, "examples/ is empty");
    const used = new Set<string>();
    for (const file of files) {
      let flow: unknown;
      try {
        flow = JSON.parse(readFileSync(join(PACKAGE_DIR, file), "utf8"));
      } catch (err) {
        assert.fail(`${file} is not JSON: ${String(err)}`);
      }
      assert.ok(Array.isArray(flow), `${file} is not an array of nodes`);
      for (const n of flow as Array<{ type?: string }>) if (n.type) used.add(n.type);
    }
    const isConfig = ([type, file]: [string, string]): boolean =>
      editorDefinitions(htmlOf(file)).get(type)?.category === "config";
    const entries = Object.entries(NODE_FILES);
    assert.deepEqual(
      entries.filter(isConfig).map(([type]) => type),
      ["socket-io-server"],
      "config node types",
    );
    const unused = entries.filter((e) => !isConfig(e) && !used.has(e[0])).map(([type]) => type);
    assert.deepEqual(unused, [], "types no example uses");
  });

  it("has at most 6 dependencies and none on node-red itself", function () {
    const deps = Object.keys(pkg.dependencies ?? {});
    assert.ok(deps.length <= 6, `${deps.length} dependencies: ${deps.join(", ")}`);
    assert.ok(!deps.some((d) => d === "node-red" || d.startsWith("@node-red/")), "node-red must not be a dependency");
  });
});
