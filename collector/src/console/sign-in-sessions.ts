import { randomBytes } from 'node:crypto';
import type { Caller } from '../auth/token-registry.js';

/** A signed-in console user, kept in server memory only. */
export interface ConsoleSession {
  /** Random id, the only value stored in the browser (in an HttpOnly cookie). */
  id: string;
  caller: Caller;
  /**
   * The bearer token the user signed in with. The console sends it on the
   * in-process API calls it makes for the user, so the API's role checks and
   * audit log apply to console actions too. It never leaves the server.
   */
  token: string;
  /** Per-session token every console form must send back. */
  csrfToken: string;
  expiresAt: number;
  /** Message the next page shows once, such as the outcome of a Terminate. */
  flash?: string;
}

/** Options of `SignInSessions`. */
export interface SignInSessionOptions {
  now: () => number;
  /** Lifetime of a sign-in, in ms. @default 8 hours */
  ttlMs?: number;
  /** Sign-ins kept at once; the oldest is dropped beyond it. @default 1000 */
  maxSessions?: number;
}

/** Console sign-ins by id, in memory: a restart signs everyone out. */
export class SignInSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxSessions: number;

  constructor(options: SignInSessionOptions) {
    const ttlMs = options.ttlMs ?? 8 * 3_600_000;
    const maxSessions = options.maxSessions ?? 1000;
    if (!Number.isInteger(ttlMs) || ttlMs < 60_000) {
      throw new Error(`ttlMs must be an integer of at least 60000, received ${ttlMs}`);
    }
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new Error(`maxSessions must be a positive integer, received ${maxSessions}`);
    }
    this.#now = options.now;
    this.#ttlMs = ttlMs;
    this.#maxSessions = maxSessions;
  }

  /** Creates a sign-in for `caller` and returns it. */
  create(caller: Caller, token: string): ConsoleSession {
    if (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      caller,
      token,
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: this.#now() + this.#ttlMs,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** Returns the sign-in with this id, or undefined when it is unknown or expired. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session && session.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Ends a sign-in. */
  delete(id: string): void {
    this.#sessions.delete(id);
  }
}
