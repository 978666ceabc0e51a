import { strict as assert } from "node:assert";
import ts from "typescript";
import {
  adapterSources,
  callee,
  catalogs,
  has,
  matches,
  MODULE,
  REALISTIC,
  SERVER,
  SHARED,
  source,
  STATUS_MAX,
  texts,
  visit,
} from "./locale-tools";

// Every word a Node-RED user sees comes from nodes/locales: the node layer words its own, the core
// gives codes and values that the node layer words from the server node's catalog.

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
    for (const { file, sf } of adapterSources()) {
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
        const candidates = [...catalogs].filter(([t]) => type === "*" || t === type).map(([, keys]) => keys);
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
});
