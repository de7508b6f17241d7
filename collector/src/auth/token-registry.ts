import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken, Role } from './api-tokens.js';

/** Who made a request: the name and role of the token it presented. */
export interface Caller {
  name: string;
  role: Role;
}

interface Entry {
  caller: Caller;
  digest: Buffer;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Returns whether a caller of role `role` may use routes that require `required`. */
export function hasRole(role: Role, required: Role): boolean {
  return role === 'admin' || role === required;
}

/** The configured bearer tokens, looked up in constant time. */
export class TokenRegistry {
  readonly #entries: Entry[];

  constructor(tokens: readonly ApiToken[]) {
    this.#entries = tokens.map(({ name, role, token }) => ({
      caller: { name, role },
      digest: sha256(token),
    }));
  }

  /** Number of configured tokens. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Returns the caller that owns `token`, or undefined. Both sides are hashed
   * first, so every comparison has equal lengths, and every entry is compared
   * without an early exit, so the time does not depend on which token matched.
   */
  find(token: string): Caller | undefined {
    const presented = sha256(token);
    let match: Caller | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(presented, entry.digest)) match = entry.caller;
    }
    return match;
  }
}
