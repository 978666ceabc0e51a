// ESLint: typescript-eslint's recommended rules for the TypeScript (src, test, bench, demo) and for
// the editor script in resources/; Prettier owns the layout (`npm run lint` runs both).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "nodes/**/*.js", "nodes/**/*.d.ts", ".demo/", "test/artifacts/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { globals: globals.node },
    rules: {
      "no-nested-ternary": "error",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: globals.node, sourceType: "commonjs" },
  },
  {
    files: ["resources/**/*.js"],
    languageOptions: { globals: { ...globals.browser, RED: "readonly", $: "readonly" }, sourceType: "script" },
  },
);
