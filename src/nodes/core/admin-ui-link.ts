import type { Server } from "socket.io";
import { AdminInstrumentation, newAdminStore } from "./admin-instrument";
import { adminUiFingerprint, type AdminUiSettings } from "./admin-ui-settings";

/** Turns a password into the bcrypt hash admin-ui checks logins against. */
export type PasswordHasher = (password: string) => Promise<string>;

/**
 * The Admin UI of one running server: on, off, or on with other credentials, one change at a time,
 * without a restart. Its session store outlives the changes, so a deploy keeps the UI logged in.
 */
export class AdminUiLink {
  private live?: AdminInstrumentation;
  private wanted = "";
  private queue: Promise<void> = Promise.resolve();
  private readonly store = newAdminStore();

  /** @param serverId how the UI tells this server from other instances' */
  constructor(
    private readonly io: Server,
    private readonly serverId: string,
  ) {}

  /** What the UI is set to (adminUiFingerprint), for two config nodes that share the server. */
  get fingerprint(): string {
    return this.wanted;
  }

  /** Whether the instrumentation is in place now. */
  get active(): boolean {
    return this.live !== undefined;
  }

  /**
   * Applies the setting: undefined turns the UI off. Resolves once it is in place; rejects when the
   * instrumentation cannot be applied (a namespace of the flows already has its name).
   */
  set(settings: AdminUiSettings | undefined, hash: PasswordHasher): Promise<void> {
    const fingerprint = adminUiFingerprint(settings);
    if (fingerprint === this.wanted) return this.queue;
    this.wanted = fingerprint;
    const change = async (): Promise<void> => {
      // A later change was asked for meanwhile: leave it to that one.
      if (this.wanted !== fingerprint) return;
      const passwordHash = settings ? await hash(settings.password) : "";
      if (this.wanted !== fingerprint) return;
      await this.live?.remove();
      this.live = undefined;
      if (!settings) return;
      try {
        this.live = AdminInstrumentation.apply(this.io, {
          username: settings.username,
          passwordHash,
          serverId: this.serverId,
          store: this.store,
        });
      } catch (err) {
        // Not in place: the same setting deployed again tries again.
        if (this.wanted === fingerprint) this.wanted = "";
        throw err;
      }
    };
    this.queue = this.queue.catch(() => undefined).then(change);
    return this.queue;
  }

  /** Removes the instrumentation, for a server that closes. */
  stop(): Promise<void> {
    return this.set(undefined, async () => "");
  }
}
