import { createHash } from "node:crypto";
import { flag, SettingsError } from "./setting-fields";

/** The namespace the Admin UI connects to; the flows' nodes may not use it. */
export const ADMIN_NAMESPACE = "/socket-io-admin";

/**
 * The Admin UI setting: @socket.io/admin-ui instruments the server, and whoever logs in to the UI
 * with these credentials (the config node's Node-RED credentials, never in the flow file) sees its
 * sockets, rooms and events.
 */
export interface AdminUiSettings {
  username: string;
  password: string;
}

/** The Admin UI setting, or undefined when it is off (also for servers saved before it existed). */
export function adminUiSettings(
  raw: Record<string, unknown>,
  credentials: { adminUiUsername?: string; adminUiPassword?: string },
): AdminUiSettings | undefined {
  if (!flag(raw.adminUi, false)) return undefined;
  const username = typeof credentials.adminUiUsername === "string" ? credentials.adminUiUsername.trim() : "";
  const password = typeof credentials.adminUiPassword === "string" ? credentials.adminUiPassword : "";
  // Without credentials anyone who can reach the server would see and drive every client.
  if (!username || !password) throw new SettingsError("adminUiCredentials");
  return { username, password };
}

/**
 * What the Admin UI setting is, as a string two config nodes sharing one server must agree on. The
 * server's own fingerprint leaves it out: turning it on or off applies without a restart.
 */
export function adminUiFingerprint(admin: AdminUiSettings | undefined): string {
  return admin ? createHash("sha256").update(`${admin.username}\0${admin.password}`).digest("hex") : "";
}
