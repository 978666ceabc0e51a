import { hashSync } from "bcryptjs";
import { request } from "./http-get";

/** The password of every user `adminAuthSettings` makes. */
export const PASSWORD = "test-password";

/**
 * settings.js `adminAuth` with the credentials strategy: `admin` may do everything, `reader` may only
 * read, both with `PASSWORD`, and anyone without a token may read too (the `default` user), so
 * `startNodeRed`, which waits for GET /settings to answer 200, sees the runtime start.
 */
export function adminAuthSettings(): Record<string, unknown> {
  const password = hashSync(PASSWORD, 8);
  return {
    adminAuth: {
      type: "credentials",
      users: [
        { username: "admin", password, permissions: "*" },
        { username: "reader", password, permissions: "read" },
      ],
      default: { permissions: "read" },
    },
  };
}

// Plain requests, as the tests of the Admin UI page make them.
export { request, type HttpAnswer as Reply } from "./http-get";

/**
 * Logs in as the editor does (POST `<adminRoot>auth/token`, the password grant) and returns the
 * access token.
 * @param adminUrl Node-RED's admin root, ending with a slash, e.g. "http://127.0.0.1:1880/red/"
 */
export async function login(adminUrl: string, username: string, scope = "*", password = PASSWORD): Promise<string> {
  const form = new URLSearchParams({ client_id: "node-red-editor", grant_type: "password", scope, username });
  form.set("password", password);
  const res = await request(`${adminUrl}auth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  if (res.status !== 200) throw new Error(`login as ${username}: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

/** Logs out as the editor does: the token stops working. */
export async function revoke(adminUrl: string, token: string): Promise<void> {
  const res = await request(`${adminUrl}auth/revoke`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
  if (res.status !== 200) throw new Error(`revoke: ${res.status} ${res.body}`);
}
