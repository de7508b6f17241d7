import { trackActivity } from './activity-tracker.js';
import { openChannel } from './channel.js';
import { startDelivery } from './delivery.js';
import type { Emitter } from './emitter.js';
import { createEventQueue } from './event-queue.js';
import { createId } from './ids.js';
import { startIdleTimer } from './idle-timer.js';
import { joinElection, refresh } from './leader-duties.js';
import type { ResolvedOptions } from './options.js';
import { watchPageLifecycle } from './page-lifecycle.js';
import { watchNavigation } from './page-views.js';
import { beginSession, canRestart, enqueuePageView, enterIdle, syncSharedSession } from './session-flow.js';
import { createSessionStore } from './session-store.js';
import { handleTabMessage } from './tab-sync.js';
import { createTabRegistry } from './tab-registry.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';
import type { TrackerEvents } from './types.js';

/** A new tab reports `tab_opened` once other tabs had this long to reply to its hello, in ms. */
const SETTLE_MS = 300;
/**
 * A tab stores its latest input for other tabs and messages them at most this often, in ms.
 * Their idle deadlines can lag this much behind.
 */
const SHARE_INTERVAL_MS = 1000;

/** Builds the parts of a tracker that reports to `emitter`; nothing runs until `startTracker`. */
export function buildTracker(options: ResolvedOptions, emitter: Emitter<TrackerEvents>): TrackerContext {
  const log = (message: string, detail?: unknown) => {
    if (options.debug) console.info(`[process-sessions] ${message}`, detail ?? '');
  };
  const ctx = {
    options,
    timing: { idleTimeoutMs: options.idleTimeoutMs, warningMs: options.warningMs, heartbeatMs: options.heartbeatMs },
    instanceId: createId(),
    emitter,
    store: createSessionStore(options.appId),
    queue: createEventQueue(options.appId, (error) => log('IndexedDB failed', error)),
    // Not live until startTracker joins or begins a session, which then emits `active`.
    trackerState: 'stopped',
    resign: () => {},
    lastSharedAt: 0,
    droppedEvents: 0,
    cleanups: [],
    refresh: () => refresh(ctx),
    log,
  } as Partial<TrackerContext> as TrackerContext;

  ctx.channel = openChannel(options.appId, ctx.instanceId, (message) => handleTabMessage(ctx, message));
  ctx.tabRegistry = createTabRegistry(ctx);
  ctx.delivery = startDelivery(ctx);
  ctx.idle = startIdleTimer({
    read: () => readIdleInputs(ctx),
    onWarning(remainingMs, idleAt) {
      ctx.trackerState = 'warning';
      ctx.emitter.emit('warning', { sessionId: ctx.sessionRecord!.id, remainingMs, idleAt });
    },
    onDismiss() {
      ctx.trackerState = 'active';
      ctx.emitter.emit('active', { sessionId: ctx.sessionRecord!.id });
    },
    onIdle: (idleAt) => enterIdle(ctx, idleAt),
  });

  return ctx;
}

function readIdleInputs(ctx: TrackerContext) {
  syncSharedSession(ctx);
  if (!isLive(ctx)) return undefined;

  return { ...ctx.timing, lastActivityAt: ctx.latestInputAt ?? Date.now() };
}

/** Joins or begins the session and attaches the tracker to the page. */
export function startTracker(ctx: TrackerContext): void {
  syncSharedSession(ctx);
  if (ctx.sessionRecord) enqueuePageView(ctx);
  else beginSession(ctx, Date.now());
  // Listeners added right after init() returns still receive the first `start` and `active`.
  queueMicrotask(() => ctx.emitter.release());

  ctx.tabRegistry.start();
  ctx.activity = trackActivity({
    onInput: (_, at) => recordInput(ctx, at),
    onWindow(kind, firstAt, count) {
      if (isLive(ctx)) enqueue(ctx, 'activity', { kind, count }, firstAt);
    },
  });
  const settle = setTimeout(() => {
    if (isLive(ctx)) enqueue(ctx, 'tab_opened', { tabs: ctx.tabRegistry.count() });
  }, SETTLE_MS);
  joinElection(ctx);

  ctx.cleanups.push(
    () => clearTimeout(settle),
    watchNavigation(() => recordNavigation(ctx)),
    watchPageLifecycle(ctx),
  );
}

/**
 * Handles a counted input at `at`. When the deadline may have passed, such as after a sleep,
 * the idle check runs first, so the input cannot undo an idle that already happened: it
 * begins a new session instead.
 */
function recordInput(ctx: TrackerContext, at: number) {
  if (!isLive(ctx) || at >= (ctx.latestInputAt ?? at) + ctx.timing.idleTimeoutMs) ctx.idle.check();
  if (!isLive(ctx)) {
    if (!canRestart(ctx)) return;
    beginSession(ctx, at);
  }

  const sessionId = ctx.sessionRecord!.id;
  ctx.latestInputAt = Math.max(ctx.latestInputAt ?? 0, at);
  if (at - ctx.lastSharedAt >= SHARE_INTERVAL_MS) {
    ctx.lastSharedAt = at;
    ctx.store.update(sessionId, { lastActivityAt: at });
    ctx.channel.post({ t: 'act', id: sessionId, at });
  }
  if (ctx.trackerState === 'warning') ctx.idle.check();
}

function recordNavigation(ctx: TrackerContext) {
  if (isLive(ctx) && location.href !== ctx.lastUrl) enqueuePageView(ctx);
}
