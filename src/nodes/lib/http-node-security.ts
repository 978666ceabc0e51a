import type { Node, NodeAPI } from "node-red";
import {
  basicAuth,
  HttpGuard,
  middlewareList,
  type BcryptCompare,
  type Express,
  type Middleware,
} from "../core/http-guard";
import { parseCookies } from "../core/http-request-parts";
import type { Logger } from "../core/logger";
import { nodeRedModule } from "./node-red-modules";

/** The settings.js values Node-RED's HTTP security is made of (RED.settings exposes settings.js). */
interface HttpNodeSettings {
  httpNodeAuth?: unknown;
  /** The older name red.js still reads when httpNodeAuth is not set. */
  httpAuth?: unknown;
  httpNodeMiddleware?: unknown;
}

/** What `httpNodeAuth` stands for: middleware, or `{user, pass}` checked as red.js checks it. */
function authMiddleware(RED: NodeAPI, auth: unknown): Middleware[] {
  if (typeof auth === "function" || Array.isArray(auth)) return middlewareList(auth, "httpNodeAuth");
  const { user, pass } = (auth ?? {}) as { user?: unknown; pass?: unknown };
  if (typeof auth !== "object" || typeof user !== "string" || typeof pass !== "string") {
    throw new Error(RED._("socket-io-server.errors.httpNodeAuth"));
  }
  const bcrypt = nodeRedModule<{ compare: BcryptCompare }>(RED, "bcryptjs");
  return [basicAuth(user, pass, (given, hash) => bcrypt.compare(given, hash))];
}

/**
 * Node-RED's HTTP security for a Socket.IO endpoint on Node-RED's own server, as Node-RED applies it
 * to http in routes: `httpNodeAuth` first, then cookie parsing and `httpNodeMiddleware`, on Node-RED's
 * own express. Settings that cannot run give a guard that refuses every request, and one error on the
 * server node now.
 * @param log where the guard reports requests it refused
 */
export function httpNodeGuard(RED: NodeAPI, node: Node, log: Logger): HttpGuard {
  const settings = RED.settings as unknown as HttpNodeSettings;
  try {
    const auth = settings.httpNodeAuth || settings.httpAuth;
    const middleware = settings.httpNodeMiddleware;
    return HttpGuard.of(
      nodeRedModule<Express>(RED, "express"),
      [
        auth ? authMiddleware(RED, auth) : [],
        middleware ? [parseCookies as Middleware, middlewareList(middleware, "httpNodeMiddleware")] : [],
      ],
      log,
    );
  } catch (err) {
    const error = (err as Error).message;
    node.error(RED._("socket-io-server.errors.httpNodeSecurity", { error }));
    return HttpGuard.refusing(error, log);
  }
}
