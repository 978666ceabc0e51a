import type { Server as HttpServer } from "node:http";
import { debugChannel } from "./debug-channel";
import { Problem, settingLabel } from "./problem";
import { adminUiFingerprint } from "./admin-ui-settings";
import { ServerEntry, type EntryContext } from "./server-entry";
import { differences, fingerprint } from "./server-fingerprint";
import type { ServerSettings } from "./server-settings";

/**
 * Raised when a config node wants a port (or a path of Node-RED's server) that another one uses with other
 * settings. `values.other` holds that config node's id: the node layer words it by the node's name.
 */
export class ServerConflictError extends Problem {
  /**
   * @param entry the server already running there, with the other settings
   * @param other the id of a config node using it
   */
  constructor(
    settings: ServerSettings,
    readonly entry: ServerEntry,
    readonly other: string,
    differing: string[],
  ) {
    // The Scale-out tab holds every Redis setting; its first field is the adapter.
    const labels = differing.map((property) => settingLabel(property === "scaleOut" ? "adapter" : property));
    const values = { other, settings: labels };
    super(
      settings.listen === "port" ? "server.conflictPort" : "server.conflictNodeRed",
      settings.listen === "port" ? { ...values, port: settings.port } : { ...values, path: settings.path },
    );
  }
}

const debug = debugChannel("registry");

/** How long an unused server waits for a deploy to reclaim it before it closes. */
export const DEFAULT_PARK_MS = 15_000;

const nodeRedServerIds = new WeakMap<HttpServer, number>();
let nextNodeRedServerId = 1;

/** The registry key of the server these settings describe: one Server per port, or per path of Node-RED's server. */
export function serverKey(settings: ServerSettings, nodeRedServer?: HttpServer): string {
  if (settings.listen === "port") return `port:${settings.port}`;
  if (!nodeRedServer) return "nodered:none";
  let id = nodeRedServerIds.get(nodeRedServer);
  if (id === undefined) {
    id = nextNodeRedServerId++;
    nodeRedServerIds.set(nodeRedServer, id);
  }
  return `nodered:${id}:${settings.path}`;
}

/**
 * The per-port registry: config nodes that name the same port (or the same path on Node-RED's
 * server) share one Socket.IO Server.
 *
 * A deploy stops every node before it starts the new ones. A server whose last config node stops
 * is parked rather than closed; when the new config node asks for the same settings it takes the
 * server back with every client still connected. Changed settings restart it once; a deleted
 * config node closes it; a parked server nobody reclaims closes after the deploy (or a grace time).
 *
 * @example
 * const entry = registry.acquire(node.id, settings, { gate, log, nodeRedServer: RED.server });
 * // ... on close:
 * await registry.release(node.id, entry, removed);
 */
export class ServerRegistry {
  private readonly entries = new Map<string, ServerEntry>();

  constructor(private readonly parkMs = DEFAULT_PARK_MS) {}

  /**
   * The server for these settings, shared, reclaimed or started as needed.
   * @throws ServerConflictError when a config node in use has the same port and other settings
   */
  acquire(ownerId: string, settings: ServerSettings, context: EntryContext): ServerEntry {
    const key = serverKey(settings, context.nodeRedServer);
    const existing = this.entries.get(key);
    let after: Promise<void> | undefined;
    if (existing) {
      const fp = fingerprint(settings);
      const usable = existing.state !== "error" && existing.state !== "closed";
      if (existing.fingerprint === fp && usable) {
        // The Admin UI applies to a running server, but two config nodes sharing it must agree on it.
        const sharers = [...existing.owners].filter((id) => id !== ownerId);
        if (sharers.length > 0 && existing.adminUiAsked !== adminUiFingerprint(settings.adminUi)) {
          throw new ServerConflictError(settings, existing, sharers[0], ["adminUi"]);
        }
        debug("%s: %s by %s", key, existing.owners.size > 0 ? "shared" : "taken back", ownerId);
        clearTimeout(existing.parkTimer);
        existing.parkTimer = undefined;
        existing.owners.add(ownerId);
        return existing;
      }
      const others = [...existing.owners].filter((id) => id !== ownerId);
      if (others.length > 0 && usable) {
        throw new ServerConflictError(settings, existing, others[0], differences(existing.fingerprint, fp));
      }
      debug(
        "%s: restarted for %s (%s)",
        key,
        ownerId,
        differences(existing.fingerprint, fp).join(", ") || existing.state,
      );
      existing.owners.clear();
      after = this.drop(existing);
    }
    const entry = new ServerEntry(key, settings, context, after);
    debug("%s: started for %s", key, ownerId);
    entry.owners.add(ownerId);
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * A config node stops using its server. `removed` (the node was deleted) closes an unused server
   * at once; otherwise it is parked for the deploy that follows.
   */
  async release(ownerId: string, entry: ServerEntry, removed: boolean): Promise<void> {
    entry.owners.delete(ownerId);
    if (entry.owners.size > 0 || this.entries.get(entry.key) !== entry) return;
    if (removed || entry.state === "error") {
      await this.drop(entry);
      return;
    }
    debug("%s: parked for %d ms after %s stopped", entry.key, this.parkMs, ownerId);
    clearTimeout(entry.parkTimer);
    entry.parkTimer = setTimeout(() => void this.drop(entry), this.parkMs);
    entry.parkTimer.unref();
  }

  /** Closes every parked server: the deploy has finished and nobody reclaimed them. */
  async closeUnused(): Promise<void> {
    const unused = [...this.entries.values()].filter((e) => e.owners.size === 0);
    await Promise.all(unused.map((e) => this.drop(e)));
  }

  /** Closes every server (tests, and a runtime that shuts down). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.drop(e)));
  }

  /** The server under a key, if any (for tests and diagnostics). */
  get(key: string): ServerEntry | undefined {
    return this.entries.get(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(entry: ServerEntry): Promise<void> {
    if (this.entries.get(entry.key) === entry) debug("%s: closed", entry.key);
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    return entry.close();
  }
}

/** The registry of this process: every Node-RED runtime in it shares the ports of the machine. */
export const registry = new ServerRegistry();
