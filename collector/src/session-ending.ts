import type { EndReason } from '../../shared/src/index.js';
import type { Resolution } from './policy/policy-registry.js';
import { endSession, nextLimit } from './session-rules.js';
import type { AuditActor, SessionRow, WriteView } from './storage/index.js';

/** Actor of ends the server decides by itself: idle, absolute, closed and evicted. */
export const SYSTEM_ACTOR: AuditActor = { name: 'system', role: 'system' };

/** Actor of ends an SDK reports: a logout, or an idle end the browser detected. */
export const CLIENT_ACTOR: AuditActor = { name: 'client', role: 'client' };

/**
 * Records the end of `row` in the audit log: `session.terminate` when an
 * admin terminated it, `session.end` for every other reason.
 */
export function auditSessionEnd(
  view: WriteView,
  row: SessionRow,
  actor: AuditActor,
  at: number,
  details: Record<string, unknown> = {},
): void {
  const isTermination = row.endReason === 'terminated';
  view.addAudit({
    createdAt: at,
    actorName: actor.name,
    actorRole: actor.role,
    action: isTermination ? 'session.terminate' : 'session.end',
    targetType: 'session',
    targetId: row.id,
    reason: isTermination ? row.endNote : row.endReason,
    details: { appId: row.appId, userId: row.userId, endedAt: row.endedAt, ...details },
  });
}

/** Ends a live session at `at` for `reason`, stores it and records the end. */
export function endAndAudit(
  view: WriteView,
  row: SessionRow,
  reason: EndReason,
  at: number,
  actor: AuditActor,
  details?: Record<string, unknown>,
): void {
  endSession(row, reason, at);
  row.updatedAt = at;
  view.putSession(row);
  auditSessionEnd(view, row, actor, at, details);
}

/**
 * Applies a policy resolution to a live session row: its policy id and
 * timeouts. Returns whether any of them changed. When the new
 * timeouts put the session past a limit, it ends at `now` with that reason,
 * not at the earlier limit, because the events stored up to now were valid.
 */
export function applyResolution(row: SessionRow, resolution: Resolution, now: number): boolean {
  const { settings } = resolution;
  const policyId = resolution.policy?.id ?? null;
  const isChanged =
    row.policyId !== policyId ||
    row.idleTimeoutMs !== settings.idleTimeoutMs ||
    row.absoluteTimeoutMs !== settings.absoluteTimeoutMs;
  if (!isChanged) return false;

  row.policyId = policyId;
  row.idleTimeoutMs = settings.idleTimeoutMs;
  row.absoluteTimeoutMs = settings.absoluteTimeoutMs;

  const limit = nextLimit(row);
  if (row.endedAt === null && now > limit.at) endSession(row, limit.reason, now);
  return true;
}

/** Sorts sessions oldest first: by start, then creation, then id. */
export function byAge(a: SessionRow, b: SessionRow): number {
  return a.startedAt - b.startedAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
}
