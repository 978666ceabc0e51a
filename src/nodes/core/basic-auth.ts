import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type express from "express";
import type { Middleware, Next } from "./http-guard";
import { basicCredentials } from "./http-request-parts";

/** bcryptjs's `compare`: whether a password matches a bcrypt hash. */
export type BcryptCompare = (given: string, hash: string) => Promise<boolean>;

/**
 * Node-RED's `httpNodeAuth` with `{user, pass}`, as Node-RED itself applies it: Basic authentication
 * against a bcrypt hash, or a 32-character MD5 hash (Node-RED's legacy form). OPTIONS requests pass
 * (CORS preflights carry no credentials). The last good password is remembered, so polling requests
 * do not pay for bcrypt each time.
 *
 * @param compare bcryptjs's `compare`, from the bcryptjs Node-RED itself uses
 * @example
 * const check = basicAuth("admin", "$2b$08$...", bcrypt.compare);  // node-red admin hash-pw
 */
export function basicAuth(user: string, pass: string, compare: BcryptCompare): Middleware {
  const matches: (given: string) => Promise<boolean> =
    pass.length === 32
      ? async (given) => {
          const hash = Buffer.from(createHash("md5").update(given, "utf8").digest("hex"));
          const want = Buffer.from(pass);
          return hash.length === want.length && timingSafeEqual(hash, want);
        }
      : (given) => compare(given, pass).catch(() => false);
  let remembered: string | undefined;
  return async (req: IncomingMessage, res: express.Response, next: Next) => {
    if (req.method === "OPTIONS") return next();
    const given = basicCredentials(req);
    const ok = !!given && given.name === user && (given.pass === remembered || (await matches(given.pass)));
    if (!ok) {
      res.set("WWW-Authenticate", 'Basic realm="Authorization Required"');
      res.sendStatus(401);
      return;
    }
    remembered = given.pass;
    next();
  };
}
