/**
 * JSON access to localStorage and sessionStorage that never throws: storage can be
 * disabled, full, or blocked for third-party frames, and the SDK then runs per tab.
 */

/** Reads and parses `key`, or returns undefined when it is missing, unreadable or not JSON. */
export function readJson<T>(storage: () => Storage, key: string): T | undefined {
  try {
    const text = storage().getItem(key);

    return text === null ? undefined : (JSON.parse(text) as T);
  } catch {
    return undefined;
  }
}

/** Stores `value` as JSON under `key`, or removes the key when `value` is undefined. */
export function writeJson(storage: () => Storage, key: string, value: unknown): void {
  try {
    if (value === undefined) storage().removeItem(key);
    else storage().setItem(key, JSON.stringify(value));
  } catch {
    // Storage is unavailable or full; callers keep their values in memory.
  }
}

/** Returns the id stored under `key`, creating and storing one with `create` when missing. */
export function readOrCreateId(storage: () => Storage, key: string, create: () => string): string {
  const stored = readJson<unknown>(storage, key);

  if (typeof stored === 'string' && /^[\w-]{8,64}$/.test(stored)) return stored;

  const id = create();
  writeJson(storage, key, id);

  return id;
}

/** Returns `ps:<appId>:<name>`, the key of `name` for app `appId` in web storage and Web Locks. */
export const appKey = (appId: string, name: string) => `ps:${appId}:${name}`;

/** The profile-wide store, shared by every tab of the origin. */
export const local = () => localStorage;

/** The per-tab store, which survives reloads and is copied when a tab is duplicated. */
export const session = () => sessionStorage;
