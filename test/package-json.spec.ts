import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as semver from "semver";
import { PACKAGE_DIR } from "./node-red-process";
import { editorDefinitions, filesUnder, htmlOf, nodeFiles, NODE_TYPES, packageJson } from "./package-tools";

const pkg = packageJson();
const NODE_FILES = nodeFiles();
/** package.json of a module installed in the repository's node_modules. */
const installedPackage = <T>(name: string): T =>
  JSON.parse(readFileSync(join(PACKAGE_DIR, "node_modules", name, "package.json"), "utf8")) as T;

describe("package.json, checked as the flow library's validator checks it", function () {
  it("maps each of the six types to a built file whose editor html registers exactly that type, inline", function () {
    assert.deepEqual(Object.keys(NODE_FILES).sort(), [...NODE_TYPES].sort());
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
