// What the reverse-proxy tests share (test/proxy.spec.ts, test/browser/proxy.browser.ts): the two
// nginx configurations of docs/proxy.md, and a real node-red with the examples behind one of them.
import { exampleFlows } from "../demo/start";
import { answerNodes, onTab, type FlowNode } from "./flow-fixtures";
import { freePort, until } from "./helpers";
import { startNginx, type Nginx } from "./nginx";
import { startNodeRed, type NodeRedProcess } from "./node-red-process";

/** Where the proxy publishes Node-RED: http://proxy/prefix/... */
export const PREFIX = "/prefix";
/** What clients behind the proxy pass as `path`, in both configurations. */
export const CLIENT_PATH = `${PREFIX}/socket.io`;

/**
 * The headers a location needs to pass WebSocket upgrades on and tell Node-RED who asked. Host is
 * the client's, port included ($host has none): the same-origin check compares it with the Origin.
 */
const PROXY_HEADERS = `    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;`;

export interface ProxySetup {
  title: string;
  /** Node-RED's settings.js properties in this configuration. */
  settings: Record<string, unknown>;
  /** Where the endpoint lives on Node-RED itself (what its log line says). */
  endpoint: string;
  /** The nginx `location` block for a Node-RED on 127.0.0.1:`port`, as docs/proxy.md shows it (port 1880). */
  location(port: number): string;
}

/** The two configurations; the server config node's Path is `/socket.io` in both. */
export const SETUPS: Record<"strip" | "keep", ProxySetup> = {
  strip: {
    title: "nginx strips the prefix (proxy_pass with a trailing /), Node-RED without httpNodeRoot",
    settings: {},
    endpoint: "/socket.io",
    location: (port) => `  location ${PREFIX}/ {
    proxy_pass http://127.0.0.1:${port}/;
${PROXY_HEADERS}
  }`,
  },
  keep: {
    title: "nginx keeps the prefix (proxy_pass without a URI), Node-RED with httpNodeRoot /prefix",
    settings: { httpNodeRoot: PREFIX },
    endpoint: `${PREFIX}/socket.io`,
    location: (port) => `  location ${PREFIX}/ {
    proxy_pass http://127.0.0.1:${port};
${PROXY_HEADERS}
  }`,
  },
};

/** The examples' shared server config node: "Node-RED's server", Path /socket.io. */
export const EXAMPLE_SERVER = String(exampleFlows().find((n) => n.type === "socket-io-server")!.id);

/** Every example, and a flow on the examples' server that answers a client's "ping" with "pong". */
export const proxiedFlows = (): FlowNode[] => [
  ...(exampleFlows() as FlowNode[]),
  ...onTab("proxy echo", answerNodes("proxy-on", "ping", "proxy-emit", "pong", { server: EXAMPLE_SERVER }), "proxy"),
];

export interface Proxied {
  red: NodeRedProcess;
  nginx: Nginx;
  /** The proxy's address of Node-RED's pages: http://127.0.0.1:<nginx>/prefix */
  base: string;
  stop(): Promise<void>;
}

/** A real node-red with `proxiedFlows()` deployed in `setup`, and nginx in front of it. */
export async function startBehindNginx(setup: ProxySetup): Promise<Proxied> {
  const red = await startNodeRed({
    port: await freePort(),
    settings: { telemetry: { enabled: false }, ...setup.settings },
  });
  let nginx: Nginx | undefined;
  try {
    await red.deploy(proxiedFlows());
    // A deploy answers before its flows start; the server says where it listens once it does.
    const line = `socket.io listening on Node-RED's HTTP server at ${setup.endpoint}\n`;
    await until(() => red.output().includes(line), 10_000, `"${line.trim()}" in the log`);
    nginx = await startNginx(setup.location(red.port));
  } catch (err) {
    await red.stop();
    throw err;
  }
  const proxy = nginx;
  return {
    red,
    nginx: proxy,
    base: proxy.url + PREFIX,
    async stop() {
      await proxy.stop();
      await red.stop();
    },
  };
}
