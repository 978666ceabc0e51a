import type { Server } from "socket.io";
import { AdminInstrumentation } from "./admin-instrument";
import type { PasswordCheck } from "./admin-logins";
import { adminUiFingerprint, type AdminUiSettings } from "./admin-ui-settings";

/** Makes the check of logins against a password: hashes it once (bcrypt), then compares with the hash. */
export type PasswordChecker = (password: string) => Promise<PasswordCheck>;

/**
 * The Admin UI of one running server: on, off, or on with other credentials, one change at a time,
 * without a restart. A deploy that leaves the setting as it was keeps the instrumentation, and the
 * UI's logins with it; other credentials or turning it off end them.
 */
export class AdminUiLink {
  private live?: AdminInstrumentation;
  private wanted = "";
  private queue: Promise<void> = Promise.resolve();

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
  set(settings: AdminUiSettings | undefined, checker: PasswordChecker): Promise<void> {
    const fingerprint = adminUiFingerprint(settings);
    if (fingerprint === this.wanted) return this.queue;
    this.wanted = fingerprint;
    const change = async (): Promise<void> => {
      // A later change was asked for meanwhile: leave it to that one.
      if (this.wanted !== fingerprint) return;
      const checkPassword = settings ? await checker(settings.password) : undefined;
      if (this.wanted !== fingerprint) return;
      await this.live?.remove();
      this.live = undefined;
      if (!settings || !checkPassword) return;
      try {
        this.live = AdminInstrumentation.apply(this.io, {
          username: settings.username,
          checkPassword,
          serverId: this.serverId,
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
    return this.set(undefined, async () => async () => false);
  }
}
