import type { z } from 'zod';
import type { Policy, PolicyRegistry } from '../policy/policy-registry.js';
import type {
  AuditActor,
  AuditRow,
  EventRow,
  IngestErrorRow,
  SessionCursor,
  SessionRow,
} from '../storage/index.js';
import { toJsonObject } from '../storage/admin-rows.js';
import type {
  adminEventSchema,
  adminSessionSchema,
  auditEntrySchema,
  ingestErrorSchema,
  policySchema,
} from './admin-schemas.js';
import type { AppEnv } from './app-env.js';
import type { Context } from 'hono';

/** Converts a session row into the admin API's session object. */
export function toAdminSession(row: SessionRow): z.infer<typeof adminSessionSchema> {
  return {
    id: row.id,
    state: row.endedAt === null ? 'active' : 'ended',
    appId: row.appId,
    clientId: row.clientId,
    userId: row.userId,
    userGroup: row.userGroup,
    policyId: row.policyId,
    startedAt: row.startedAt,
    lastActivityAt: row.lastActivityAt,
    lastSeenAt: row.lastSeenAt,
    endedAt: row.endedAt,
    endReason: row.endReason,
    endNote: row.endNote,
    tabsNow: row.tabsNow,
    maxTabs: row.maxTabs,
    interactions: row.interactions,
    pageViews: row.pageViews,
    engagedMs: row.engagedMs,
    idleMs: row.idleMs,
    eventCount: row.eventCount,
    idleTimeoutMs: row.idleTimeoutMs,
    absoluteTimeoutMs: row.absoluteTimeoutMs,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Converts an event row into the admin API's event object, with `data` parsed. */
export function toAdminEvent(row: EventRow): z.infer<typeof adminEventSchema> {
  return {
    id: row.id,
    tabId: row.tabId,
    type: row.type,
    ts: row.ts,
    clientTs: row.clientTs,
    receivedAt: row.receivedAt,
    data: toJsonObject(row.data),
  };
}

/** Converts a policy into the admin API's policy object, with its settings in force. */
export function toPolicyView(policy: Policy, registry: PolicyRegistry): z.infer<typeof policySchema> {
  return { ...policy, effective: registry.settingsOf(policy) };
}

/** Converts an audit row into the admin API's audit entry. */
export function toAuditEntry(row: AuditRow): z.infer<typeof auditEntrySchema> {
  return {
    seq: row.seq,
    at: row.createdAt,
    actor: { name: row.actorName, role: row.actorRole },
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    reason: row.reason,
    details: row.details,
  };
}

/** Converts an ingest error row into the admin API's object. */
export function toIngestError(row: IngestErrorRow): z.infer<typeof ingestErrorSchema> {
  const { createdAt, ...rest } = row;
  return { ...rest, at: createdAt };
}

/** Returns the audit actor of an authorized request: the token's name and role. */
export function actorOf(c: Context<AppEnv>): AuditActor {
  const caller = c.get('caller');
  if (!caller) throw new Error('actorOf called on a route without authorize()');
  return { name: caller.name, role: caller.role };
}

/** Encodes the position after a session as an opaque cursor. */
export function encodeSessionCursor(row: SessionRow): string {
  return Buffer.from(JSON.stringify([row.startedAt, row.id])).toString('base64url');
}

/** Decodes a session cursor; undefined when it is not one. */
export function decodeSessionCursor(cursor: string): SessionCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [startedAt, id] = value as unknown[];
    if (!Number.isSafeInteger(startedAt) || typeof id !== 'string') return undefined;
    return { startedAt: startedAt as number, id };
  } catch {
    return undefined;
  }
}

/** Encodes a sequence number as a cursor. */
export function encodeSeqCursor(seq: number): string {
  return String(seq);
}

/** Decodes a sequence cursor; undefined when it is not one. */
export function decodeSeqCursor(cursor: string): number | undefined {
  if (!/^\d{1,15}$/.test(cursor)) return undefined;
  return Number(cursor);
}
