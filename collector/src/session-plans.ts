import type { PolicyRegistry } from './policy/policy-registry.js';
import { applyResolution, auditSessionEnd, endAndAudit, SYSTEM_ACTOR } from './session-ending.js';
import { endSession, expireSession } from './session-rules.js';
import { settingsOfRow } from './session-state.js';
import type { AuditActor, SessionRow, WriteView } from './storage/index.js';

/**
 * Ends a live session with reason `terminated` and the admin's note, and
 * audits it. An already ended session stays as it is, but the attempt is
 * audited too. Returns the row (undefined for an unknown id) and whether it
 * ended now.
 */
export function planTerminate(
  view: WriteView,
  id: string,
  note: string | null,
  actor: AuditActor,
  now: number,
): { row: SessionRow | undefined; hasEnded: boolean } {
  const row = view.getSession(id);
  if (!row) return { row, hasEnded: false };

  if (row.endedAt !== null) {
    view.addAudit({
      createdAt: now,
      actorName: actor.name,
      actorRole: actor.role,
      action: 'session.terminate',
      targetType: 'session',
      targetId: row.id,
      reason: note,
      details: { alreadyEnded: true, endReason: row.endReason, endedAt: row.endedAt },
    });
    return { row, hasEnded: false };
  }

  terminateRow(view, row, note, actor, now);
  return { row, hasEnded: true };
}

/**
 * Terminates every live session of a user, in one app or in all, and returns
 * them. Audits one `user.sessions.terminate` entry besides each session's.
 */
export function planTerminateUser(
  view: WriteView,
  target: { userId: string; appId?: string },
  note: string | null,
  actor: AuditActor,
  now: number,
  isAudited = true,
): SessionRow[] {
  const live = view.listLiveSessionsOfUser(target.userId, target.appId);
  for (const row of live) terminateRow(view, row, note, actor, now);

  if (!isAudited) return live;
  view.addAudit({
    createdAt: now,
    actorName: actor.name,
    actorRole: actor.role,
    action: 'user.sessions.terminate',
    targetType: 'user',
    targetId: target.userId,
    reason: note,
    details: { appId: target.appId ?? null, sessionIds: live.map((row) => row.id) },
  });
  return live;
}

function terminateRow(
  view: WriteView,
  row: SessionRow,
  note: string | null,
  actor: AuditActor,
  now: number,
): void {
  endSession(row, 'terminated', now, note);
  row.updatedAt = now;
  view.putSession(row);
  auditSessionEnd(view, row, actor, now);
}

/**
 * Ends the sessions among `ids` that are expired or closed at `now`, each
 * checked against its own policy, audits each end and returns them.
 */
export function planExpire(
  view: WriteView,
  ids: readonly string[],
  policies: PolicyRegistry,
  now: number,
): SessionRow[] {
  const rows: SessionRow[] = [];
  for (const id of ids) {
    // Rechecked here, because a batch may have arrived since the query.
    const row = view.getSession(id);
    if (!row) continue;
    const closeAfterMs = 2 * settingsOfRow(row, policies).heartbeatMs;
    if (!expireSession(row, now, closeAfterMs)) continue;

    row.updatedAt = now;
    view.putSession(row);
    auditSessionEnd(view, row, SYSTEM_ACTOR, now);
    rows.push(row);
  }
  return rows;
}

/**
 * Resolves the policy of each live session among `ids` again and stores
 * what changed. A session whose tracking is now off ends with reason
 * `disabled`; one past a new, shorter limit ends at `now`. Each end is
 * audited with `actor`, the admin whose change caused it. Returns every
 * session that was live, changed or not.
 */
export function planReapply(
  view: WriteView,
  ids: readonly string[],
  policies: PolicyRegistry,
  actor: AuditActor,
  now: number,
): SessionRow[] {
  const rows: SessionRow[] = [];
  for (const id of ids) {
    const row = view.getSession(id);
    if (!row || row.endedAt !== null) continue;

    const resolution = policies.resolve(row);
    if (!resolution.settings.enabled) {
      endAndAudit(view, row, 'disabled', now, actor);
    } else if (applyResolution(row, resolution, now)) {
      row.updatedAt = now;
      view.putSession(row);
      if (row.endedAt !== null) auditSessionEnd(view, row, actor, now);
    }
    rows.push(row);
  }
  return rows;
}
