import type { SessionPolicy, SessionState } from '../../shared/src/index.js';
import { createId } from './ids.js';
import { isInRange } from './options.js';
import { isLiveSession, type SessionEndReason, type SessionRecord } from './session-store.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';
import { appKey, local, readJson, writeJson } from './web-storage.js';

/** End reasons after which the next input does not start a new session by itself. */
const FINAL_REASONS: (SessionEndReason | null | undefined)[] = ['evicted', 'disabled', 'session_limit', 'logout'];

/** Tells whether the next input may start a new session. */
export function canRestart(ctx: TrackerContext): boolean {
  return (ctx.trackerState === 'idle' || ctx.trackerState === 'terminated') && !FINAL_REASONS.includes(ctx.endReason);
}

/** Starts a new session in this tab at `now`, stores it for every tab, and queues its first events. */
export function beginSession(ctx: TrackerContext, now: number): void {
  const previous = ctx.store.read();
  // A user stays identified across an idle gap, but not across a logout.
  const isLogout = previous?.endReason === 'logout';
  const record: SessionRecord = {
    id: createId(),
    startedAt: now,
    lastActivityAt: now,
    userId: isLogout ? undefined : (previous?.userId ?? ctx.userId),
    userGroup: isLogout ? undefined : (previous?.userGroup ?? ctx.userGroup),
  };
  const followsIdle = previous && (previous.endReason === 'idle' || !previous.endReason);
  const idleMs = followsIdle ? Math.max(0, now - previous.lastActivityAt) : undefined;

  // NOTE: two tabs that begin a session at the same moment both write here. The last write
  // wins and the other tab adopts it, so the collector later ends the losing session as idle.
  ctx.store.write(record);
  ctx.channel.post({ t: 'session', record });
  enterSession(ctx, record, true, idleMs);

  enqueue(ctx, 'session_start', { tabs: ctx.tabRegistry.count() }, now);
  if (idleMs !== undefined) enqueue(ctx, 'active', { idleMs }, now);
  enqueuePageView(ctx);
}

/** Joins `record`: a session another tab began, unless `isNew`. */
export function enterSession(ctx: TrackerContext, record: SessionRecord, isNew: boolean, idleMs?: number) {
  const wasLive = isLive(ctx);

  ctx.sessionRecord = record;
  ctx.trackerState = 'active';
  ctx.endReason = null;
  ctx.latestInputAt = record.lastActivityAt;
  ctx.userId = record.userId;
  ctx.userGroup = record.userGroup;
  ctx.refresh();

  ctx.emitter.emit('start', { sessionId: record.id, isNew });
  if (!wasLive) ctx.emitter.emit('active', { sessionId: record.id, ...(idleMs === undefined ? {} : { idleMs }) });
}

/** Queues a `page_view` of the current page, within the collector's length limits. */
export function enqueuePageView(ctx: TrackerContext): void {
  ctx.lastUrl = location.href;
  enqueue(ctx, 'page_view', {
    url: location.href.slice(0, 2048),
    title: document.title.slice(0, 512) || undefined,
    referrer: document.referrer.slice(0, 2048) || undefined,
  });
}

/**
 * Ends the current session in this tab for `reason`. With `relay`, other tabs get a message
 * too. Tabs without BroadcastChannel read the end from localStorage on their next idle check.
 * Events of the session that are still queued are sent anyway, and the collector rejects
 * those it no longer accepts.
 */
export function endSession(ctx: TrackerContext, reason: SessionEndReason, relay: boolean): void {
  const id = ctx.sessionRecord?.id;

  if (!id || !isLive(ctx)) return;
  ctx.trackerState = reason === 'idle' ? 'idle' : 'terminated';
  ctx.endReason = reason;
  ctx.store.update(id, { endReason: reason });
  if (relay) ctx.channel.post({ t: 'end', id, reason });
  ctx.refresh();

  ctx.emitter.emit('terminated', { sessionId: id, reason });
}

/**
 * Moves the session to idle at `idleAt`. Every tab does this by its own clock, but only the
 * leader sends the `idle` event, so the collector gets it once.
 */
export function enterIdle(ctx: TrackerContext, idleAt: number): void {
  const id = ctx.sessionRecord?.id;

  if (!id || !isLive(ctx)) return;
  ctx.trackerState = 'idle';
  ctx.endReason = 'idle';
  if (ctx.isLeader) {
    enqueue(ctx, 'idle', { idleTimeoutMs: ctx.timing.idleTimeoutMs }, idleAt);
    ctx.store.update(id, { endReason: 'idle' });
    void ctx.delivery.flush();
  }
  ctx.refresh();

  ctx.emitter.emit('idle', { sessionId: id, idleAt });
}

/**
 * Reads the shared record and policy, before each idle check. Takes the latest activity and
 * an end that another tab stored, and joins a different live session, after ending the
 * current one as idle when its deadline passed first.
 */
export function syncSharedSession(ctx: TrackerContext): void {
  const stored = ctx.store.read();
  const now = Date.now();

  applyPolicy(ctx, readJson(local, appKey(ctx.options.appId, 'policy')));
  if (!stored) return;
  if (stored.id === ctx.sessionRecord?.id) {
    if (!isLive(ctx)) return;
    ctx.latestInputAt = Math.max(ctx.latestInputAt ?? 0, stored.lastActivityAt);
    ctx.userId = stored.userId ?? ctx.userId;
    ctx.userGroup = stored.userGroup ?? ctx.userGroup;
    if (stored.isAccepted && !ctx.sessionRecord.isAccepted) {
      ctx.sessionRecord.isAccepted = true;
      ctx.refresh();
    }
    if (stored.endReason && stored.endReason !== 'idle') endSession(ctx, stored.endReason, false);
    return;
  }
  if (!isLiveSession(stored, now, ctx.timing.idleTimeoutMs)) return;

  const idleAt = (ctx.latestInputAt ?? now) + ctx.timing.idleTimeoutMs;
  if (isLive(ctx) && now >= idleAt) enterIdle(ctx, idleAt);
  enterSession(ctx, stored, false);
}

/** Applies a session state from a reply, the stream or another tab. */
export function applyServerState(ctx: TrackerContext, state: SessionState): void {
  applyPolicy(ctx, state.policy);
  if (state.state === 'ended' && state.id === ctx.sessionRecord?.id) endSession(ctx, state.endReason ?? 'terminated', true);
}

/**
 * Overrides the idle, warning and heartbeat times with the collector's policy, which the
 * collector enforces anyway, and stores them in localStorage under `ps:<appId>:policy`.
 * Only one tab receives replies, so the others read them there on their next sync, and a
 * new tab starts with them. Values outside the option ranges are ignored.
 */
export function applyPolicy(ctx: TrackerContext, policy: Partial<SessionPolicy> | undefined): void {
  if (!policy) return;

  const next = { ...ctx.timing };
  for (const name of Object.keys(next) as (keyof typeof next)[]) {
    const value = policy[name];

    if (isInRange(name, value)) next[name] = value;
  }
  if (next.warningMs >= next.idleTimeoutMs) next.warningMs = Math.floor(next.idleTimeoutMs / 2);
  if (JSON.stringify(next) === JSON.stringify(ctx.timing)) return;

  Object.assign(ctx.timing, next);
  writeJson(local, appKey(ctx.options.appId, 'policy'), next);
  ctx.log('collector policy applied', next);
  ctx.refresh();
}
