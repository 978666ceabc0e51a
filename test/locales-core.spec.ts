import { strict as assert } from "node:assert";
import ts from "typescript";
import { callee, catalogs, isInCallOf, isInside, matches, SERVER, source, texts, visit, WIRE } from "./locale-tools";

// The core gives codes and values, never words: the node layer words them from the server node's catalog.

describe("locale files: the core", function () {
  const core = source("nodes/core");

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
        let parts: string[] = [];
        if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) parts = [n.text];
        else if (ts.isTemplateExpression(n)) parts = [n.head.text, ...n.templateSpans.map((s) => s.literal.text)];
        for (const text of parts) {
          if (WIRE.includes(text) || (text.match(/[A-Za-z]{2,}/g) ?? []).length < 2 || !/\s/.test(text)) continue;
          // What a refused client is told in connect_error is protocol: it lives in REFUSALS.
          if (isInside(n, "REFUSALS", sf)) continue;
          // A DEBUG trace line (debugChannel) is for whoever debugs the package, not for the user.
          if (isInCallOf(n, "debug")) continue;
          english.push(`${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${JSON.stringify(text)}`);
        }
      });
    }
    assert.deepEqual(english, []);
  });
});
