import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Socket } from "socket.io";

/** Compares a password given at login with the Admin UI's (a bcrypt comparison, made by the caller). */
export type PasswordCheck = (given: string) => Promise<boolean>;

/** What the Admin UI is told for any refused login (admin-ui's own words, which the UI shows). */
export const INVALID_CREDENTIALS = "invalid credentials";

/** Logins the UI keeps (a reload or a reconnect presents its session id instead of the password). */
const MAX_SESSIONS = 50;
const SESSION_MS = 12 * 60 * 60 * 1000;
/** bcrypt comparisons at once, and logins waiting for one: more are refused at once. */
const MAX_CHECKS = 2;
const MAX_WAITING = 20;

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * The Admin UI's login, in place of admin-ui's own: its check rejects unhandled on a login without a
 * password (which would stop Node-RED), its sessions never end, and a wrong username is answered
 * faster than a wrong password. Here every login costs one bcrypt comparison, a few at a time, and
 * sessions end after 12 hours, beyond 50, and with these credentials (a change of them or turning
 * the UI off makes a new login).
 */
export class AdminLogins {
  private readonly sessions = new Map<string, number>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly username: string,
    private readonly check: PasswordCheck,
  ) {}

  /** Socket.IO middleware for the admin namespace. */
  readonly middleware = (socket: Socket, next: (err?: Error) => void): void => {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const refuse = (): void => next(new Error(INVALID_CREDENTIALS));
    if (typeof auth.sessionId === "string" && this.sessionValid(auth.sessionId)) return next();
    const { username, password } = auth;
    if (typeof username !== "string" || typeof password !== "string") return refuse();
    this.verify(username, password).then((ok) => {
      if (!ok) return refuse();
      // As admin-ui does: the UI keeps the id, and presents it when it connects again.
      socket.emit("session", this.newSession());
      next();
    }, refuse);
  };

  private sessionValid(id: string): boolean {
    const until = this.sessions.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.sessions.delete(id);
    return false;
  }

  private newSession(): string {
    const id = randomBytes(16).toString("hex");
    // A Map keeps insertion order: the oldest session goes first.
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(id, Date.now() + SESSION_MS);
    return id;
  }

  /** Whether the login is right; the password is compared even for a wrong username (no timing hint). */
  private async verify(username: string, password: string): Promise<boolean> {
    if (this.running >= MAX_CHECKS) {
      if (this.waiting.length >= MAX_WAITING) return false;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      const passwordOk = await this.check(password);
      return timingSafeEqual(digest(username), digest(this.username)) && passwordOk;
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
