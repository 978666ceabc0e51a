import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { freePort } from "./helpers";
import { PACKAGE_DIR, startNodeRed, type NodeRedProcess } from "./node-red-process";
import {
  editorDefinitions,
  htmlOf,
  exampleFiles,
  exampleNames,
  installLikePalette,
  listedExamples,
  filesUnder,
  localRequires,
  nodeFiles,
  pack,
  packageJson,
  NODE_TYPES,
  type Packed,
} from "./package-tools";

const pkg = packageJson();
const NODE_FILES = nodeFiles();

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

/** Files a node file brings along besides its editor html: its en-US messages and help, named after the .js file. */
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

  it("installs with npm into a fresh Node-RED user dir, loads all six types without errors, serves the help of each and the shared editor script, and lists every example under Import > Examples", async function () {
    const userDir = join(work, "user");
    await installLikePalette(userDir, packed.tarball);
    const installed = join(userDir, "node_modules", pkg.name);
    assert.equal(realpathSync(installed), installed, "the package should be an installed copy, not a link");
    assert.ok(!existsSync(join(installed, "src")), "the installed copy has no src/");

    const runtime = (red = await startNodeRed({ port: await freePort(), userDir }));
    const ours = (await runtime.getJson<NodeSet[]>("/nodes")).filter((s) => s.module === pkg.name);
    assert.deepEqual(
      ours.flatMap((s) => s.types).sort(),
      [...NODE_TYPES].sort(),
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

    // Every script an editor file loads from the package's resources/ is served from the installed copy.
    const scripts = new Set([...editor.matchAll(/<script src="(resources\/[^"]+)"/g)].map((m) => m[1]));
    assert.ok(scripts.size > 0, "no editor file loads the shared script from resources/");
    for (const src of scripts) {
      assert.ok(src.startsWith(`resources/${pkg.name}/`), `${src} is not under resources/${pkg.name}/`);
      const res = await fetch(`${runtime.url}/${src}`);
      assert.equal(res.status, 200, `GET /${src}`);
      const file = join(installed, "resources", src.slice(`resources/${pkg.name}/`.length));
      assert.equal(await res.text(), readFileSync(file, "utf8"), `GET /${src} serves ${file}`);
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
