import type { Batch } from '../../shared/src/index.js';
import type { PolicyRegistry, Resolution } from './policy/policy-registry.js';
import type { SessionSettings } from './policy/session-settings.js';
import {
  applyResolution,
  auditSessionEnd,
  byAge,
  CLIENT_ACTOR,
  endAndAudit,
  SYSTEM_ACTOR,
} from './session-ending.js';
import { applyBatch, type BatchOutcome, createSessionRow, expireSession } from './session-rules.js';
import type { SessionRow, WriteView } from './storage/index.js';
import { admitTab, rejectTab, releaseClosedTab } from './tab-limit.js';

/** What `planBatch` decided for one batch, one variant per HTTP outcome. */
export type IngestPlan =
  | {
      status: 'stored';
      row: SessionRow;
      outcome: BatchOutcome;
      isCreated: boolean;
      /** Whether the session's policy changed with this batch, such as a new user group. */
      isPolicyChanged: boolean;
      /** Other sessions this batch ended: the user's sessions evicted at the limit. */
      ended: SessionRow[];
    }
  | { status: 'ended'; row: SessionRow; isEndedNow: boolean }
  /** The session's data was erased on request; the batch is dropped and the session stays gone. */
  | { status: 'erased' }
  | { status: 'mismatch'; field: 'appId' | 'clientId' }
  | { status: 'disabled'; row: SessionRow | undefined; resolution: Resolution }
  | { status: 'limit'; userId: string; maxSessionsPerUser: number }
  /** The user limit applies, but the request did not declare the user; run it again with `userIds`. */
  | { status: 'retry_with_user' };

/** Inputs of `planBatch` besides the view and the batch. */
export interface PlanContext {
  policies: PolicyRegistry;
  /** Server time the batch arrived. */
  receivedAt: number;
  /** Whether the request declared the batch's user id, so the user's sessions can be read. */
  hasUserIds: boolean;
  /** Truncated network of the client, stored on a session this batch creates. */
  clientNetwork: string | null;
}

/**
 * Decides and records the changes of one batch inside a write transaction:
 * the policy, the `enabled` switch, the per-user limit, the tab limit, then
 * the events. Counting the user's sessions and inserting the new one happen
 * in the same transaction of the serialized write queue, so simultaneous
 * starts cannot pass the limit together.
 */
export function planBatch(view: WriteView, batch: Batch, context: PlanContext): IngestPlan {
  const { receivedAt } = context;
  if (view.isErased(batch.sessionId)) return { status: 'erased' };

  const existing = view.getSession(batch.sessionId);
  if (existing && existing.endedAt !== null) return { status: 'ended', row: existing, isEndedNow: false };
  if (existing && existing.clientId !== batch.clientId) return { status: 'mismatch', field: 'clientId' };
  if (existing && existing.appId !== batch.appId) return { status: 'mismatch', field: 'appId' };

  const userId = batch.userId ?? existing?.userId ?? null;
  const resolution = context.policies.resolve({
    appId: batch.appId,
    userId,
    userGroup: batch.userGroup ?? existing?.userGroup ?? null,
  });
  const { settings } = resolution;
  if (!settings.enabled) {
    if (existing) endAndAudit(view, existing, 'disabled', receivedAt, SYSTEM_ACTOR);
    return { status: 'disabled', row: existing, resolution };
  }

  const row = existing ?? createSessionRow(batch, receivedAt, settings, context.clientNetwork);
  const isPolicyChanged = applyResolution(row, resolution, receivedAt) && existing !== undefined;
  if (row.endedAt !== null) {
    view.putSession(row);
    auditSessionEnd(view, row, SYSTEM_ACTOR, receivedAt);
    return { status: 'ended', row, isEndedNow: true };
  }

  const isNewToUser = userId !== null && existing?.userId !== userId;
  const cap = settings.maxSessionsPerUser;
  let ended: SessionRow[] = [];
  if (isNewToUser && cap !== null) {
    if (!context.hasUserIds) return { status: 'retry_with_user' };
    const limit = enforceUserLimit(view, row, userId, settings, receivedAt);
    // NOTE: a live anonymous session that identifies at the limit stays live and anonymous; the
    // SDK stops on 409, so the session ends later by the idle rule, not at once.
    if (limit === 'rejected') return { status: 'limit', userId, maxSessionsPerUser: cap };
    ended = limit;
  }

  const staleAfterMs = 2 * settings.heartbeatMs;
  if (!admitTab(row, batch, receivedAt, { maxTabs: settings.maxTabs, staleAfterMs })) {
    view.putSession(row);
    const rejected = rejectTab(batch, settings.maxTabs ?? 0);
    const outcome: BatchOutcome = { events: [], duplicates: 0, rejected, hasEnded: false };
    return { status: 'stored', row, outcome, isCreated: false, isPolicyChanged, ended };
  }

  const outcome = applyBatch(row, batch, receivedAt, (id) => view.hasEvent(row.id, id));
  releaseClosedTab(row, batch);
  // Events may be old (an upload delayed while offline), so the limits are checked against
  // server time too.
  if (expireSession(row, receivedAt)) outcome.hasEnded = true;

  view.putSession(row);
  for (const event of outcome.events) view.addEvent(event);
  if (outcome.hasEnded) auditSessionEnd(view, row, endActor(outcome), receivedAt);
  return { status: 'stored', row, outcome, isCreated: !existing, isPolicyChanged, ended };
}

/**
 * Applies the per-user limit to a session that is new to `userId`. Returns
 * `rejected`, or the sessions it evicted (oldest first) to make room.
 */
function enforceUserLimit(
  view: WriteView,
  row: SessionRow,
  userId: string,
  settings: SessionSettings,
  now: number,
): SessionRow[] | 'rejected' {
  const cap = settings.maxSessionsPerUser ?? Number.POSITIVE_INFINITY;
  const others = view
    .listLiveSessionsOfUser(userId, row.appId)
    .filter((other) => other.id !== row.id)
    .sort(byAge);
  if (others.length < cap) return [];
  if (settings.sessionLimitBehavior === 'reject') return 'rejected';

  const evicted = others.slice(0, others.length - cap + 1);
  for (const other of evicted) {
    endAndAudit(view, other, 'evicted', now, SYSTEM_ACTOR, { evictedBy: row.id });
  }
  return evicted;
}

/** An end the batch's own `idle` or `session_end` event caused is the client's, any other the server's. */
function endActor(outcome: BatchOutcome) {
  const isReported = outcome.events.some((event) => event.type === 'idle' || event.type === 'session_end');
  return isReported ? CLIENT_ACTOR : SYSTEM_ACTOR;
}
