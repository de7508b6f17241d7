import type { EndReason } from '../../shared/src/index.js';
import { createId } from './ids.js';
import { appKey, local, readJson, readOrCreateId, writeJson } from './web-storage.js';

/** Why this tab's session is over: a collector end reason, or the collector's session limit. */
export type SessionEndReason = EndReason | 'session_limit';

/** The session every tab of the app shares, stored in localStorage under `ps:<appId>:session`. */
export interface SessionRecord {
  id: string;
  startedAt: number;
  /** Wall-clock time of the latest input in any tab, in epoch ms. */
  lastActivityAt: number;
  /** Set once the session is over, so no tab keeps using it. */
  endReason?: SessionEndReason;
  userId?: string;
  userGroup?: string;
  /**
   * Set once the collector stored a batch of the session, which any tab may have sent. The
   * leader opens the session stream only then, because the collector replies 404 before.
   */
  isAccepted?: boolean;
}

/** Reads and writes the shared session record; keeps a copy in memory when storage fails. */
export interface SessionStore {
  /** The stored record, or the last one written here when localStorage is unavailable. */
  read(): SessionRecord | undefined;
  write(record: SessionRecord): void;
  /**
   * Changes fields of session `id`, unless it ended or the stored record is a newer
   * session's. `lastActivityAt` only moves forward.
   */
  update(id: string, change: Partial<Omit<SessionRecord, 'id' | 'startedAt'>>): void;
  /** A random id per browser profile and app, kept in localStorage. */
  readonly clientId: string;
}

/** Creates the store of app `appId`. */
export function createSessionStore(appId: string): SessionStore {
  const key = appKey(appId, 'session');
  let fallback: SessionRecord | undefined;

  const read = () => {
    const stored = readJson<SessionRecord>(local, key);

    return isRecord(stored) ? stored : fallback;
  };
  const write = (record: SessionRecord) => {
    fallback = record;
    writeJson(local, key, record);
  };

  return {
    read,
    write,
    update(id, change) {
      const record = read();

      if (record?.id !== id || record.endReason) return;
      write({ ...record, ...change, lastActivityAt: Math.max(record.lastActivityAt, change.lastActivityAt ?? 0) });
    },
    clientId: readOrCreateId(local, appKey(appId, 'client'), createId),
  };
}

/** Tells whether `record` is a session that has not ended and is not idle at `now`. */
export function isLiveSession(record: SessionRecord | undefined, now: number, idleTimeoutMs: number) {
  return !!record && !record.endReason && now < record.lastActivityAt + idleTimeoutMs;
}

function isRecord(value: unknown): value is SessionRecord {
  const record = value as SessionRecord | undefined;

  return (
    typeof record?.id === 'string' &&
    typeof record.startedAt === 'number' &&
    typeof record.lastActivityAt === 'number'
  );
}
