import type { ActivityKind } from '../../shared/src/index.js';
import { trackActivity } from './activity-tracker.js';
import { openChannel } from './channel.js';
import { startDelivery } from './delivery.js';
import { createEmitter } from './emitter.js';
import { createEventQueue } from './event-queue.js';
import { createId } from './ids.js';
import { startIdleTimer } from './idle-timer.js';
import { recoverStoredEvents, refresh, reportTabCount } from './leader-duties.js';
import type { ResolvedOptions } from './options.js';
import { watchPageLifecycle } from './page-lifecycle.js';
import { watchNavigation } from './page-views.js';
import { beginSession, canRestart, enqueuePageView, enterIdle, syncSharedSession } from './session-flow.js';
import { createSessionStore } from './session-store.js';
import { handleResult, handleTabMessage } from './tab-sync.js';
import { createTabRegistry } from './tab-registry.js';
import { electLeader } from './tab-leader.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';
import type { TrackerEvents } from './types.js';

/** A new tab reports `tab_opened` once other tabs had this long to reply to its hello, in ms. */
const SETTLE_MS = 300;
/** Interval between looks for stored events that no open page will send, in ms. */
const RECOVER_INTERVAL_MS = 60_000;

/** Builds the parts of a tracker; nothing runs until `startTracker`. */
export function buildTracker(options: ResolvedOptions): TrackerContext {
  const log = (message: string, detail?: unknown) => {
    if (options.debug) console.info(`[process-sessions] ${message}`, detail ?? '');
  };
  const ctx = {
    options,
    timing: { idleTimeoutMs: options.idleTimeoutMs, warningMs: options.warningMs, heartbeatMs: options.heartbeatMs },
    instanceId: createId(),
    emitter: createEmitter<TrackerEvents>((error) => log('event listener failed', error)),
    store: createSessionStore(options.appId),
    queue: createEventQueue((error) => log('IndexedDB failed, events kept in memory', error)),
    // Not live until startTracker joins or begins a session, which then emits `active`.
    state: 'stopped',
    endReason: null,
    lastActivityAt: null,
    isLeader: false,
    lastUrl: '',
    lastBroadcastAt: 0,
    cleanups: [],
    refresh: () => refresh(ctx),
    log,
  } as Partial<TrackerContext> as TrackerContext;

  ctx.channel = openChannel(options.appId, (message) => handleTabMessage(ctx, message));
  ctx.tabs = createTabRegistry(options.appId, ctx.instanceId, ctx.channel, {
    onCount: (count, expired) => reportTabCount(ctx, count, expired),
  });
  ctx.delivery = startDelivery(options, ctx.store.clientId, ctx.queue, {
    onResult: (result, sessionId) => handleResult(ctx, result, sessionId),
    log,
  });
  ctx.idle = startIdleTimer({
    read: () => readIdleInputs(ctx),
    onWarning(remainingMs, idleAt) {
      ctx.state = 'warning';
      ctx.emitter.emit('warning', { sessionId: ctx.session!.id, remainingMs, idleAt });
    },
    onDismiss() {
      ctx.state = 'active';
      ctx.emitter.emit('active', { sessionId: ctx.session!.id });
    },
    onIdle: (idleAt) => enterIdle(ctx, idleAt),
  });

  return ctx;
}

function readIdleInputs(ctx: TrackerContext) {
  syncSharedSession(ctx);
  if (!isLive(ctx)) return undefined;

  const { idleTimeoutMs, warningMs } = ctx.timing;

  return { lastActivityAt: ctx.lastActivityAt ?? Date.now(), idleTimeoutMs, warningMs };
}

/** Joins or begins the session and attaches the tracker to the page. */
export function startTracker(ctx: TrackerContext): void {
  syncSharedSession(ctx);
  if (ctx.session) enqueuePageView(ctx);
  else beginSession(ctx, Date.now());
  // Listeners added right after init() returns still receive the first `start` and `active`.
  queueMicrotask(() => ctx.emitter.release());

  ctx.tabs.start();
  ctx.activity = trackActivity({
    onInput: (kind, at) => recordInput(ctx, kind, at),
    onWindow(kind, firstAt, count) {
      if (isLive(ctx)) enqueue(ctx, 'activity', { kind, count }, firstAt);
    },
  });
  const settle = setTimeout(() => {
    if (isLive(ctx)) enqueue(ctx, 'tab_opened', { tabs: ctx.tabs.count() });
    void recoverStoredEvents(ctx, true);
  }, SETTLE_MS);
  const recover = setInterval(() => void recoverStoredEvents(ctx, false), RECOVER_INTERVAL_MS);

  ctx.cleanups.push(
    () => clearTimeout(settle),
    () => clearInterval(recover),
    watchNavigation(() => recordNavigation(ctx)),
    watchPageLifecycle(ctx),
    electLeader(ctx.options.appId, ctx.instanceId, (isLeader) => {
      ctx.isLeader = isLeader;
      ctx.refresh();
    }),
  );
}

/**
 * Handles a counted input. The idle check runs first, so an input after a sleep cannot
 * undo an idle that already passed: it ends the old session and begins a new one.
 */
function recordInput(ctx: TrackerContext, _kind: ActivityKind, at: number) {
  ctx.idle.check();
  if (!isLive(ctx)) {
    if (!canRestart(ctx)) return;
    beginSession(ctx, at);
  }

  const sessionId = ctx.session!.id;
  ctx.lastActivityAt = Math.max(ctx.lastActivityAt ?? 0, at);
  ctx.store.touch(sessionId, at);
  // Other tabs read the time from localStorage each second; the message ends their warning sooner.
  if (at - ctx.lastBroadcastAt >= 1000) {
    ctx.lastBroadcastAt = at;
    ctx.channel.post({ t: 'act', id: sessionId, at, from: ctx.instanceId });
  }
  if (ctx.state === 'warning') ctx.idle.check();
}

function recordNavigation(ctx: TrackerContext) {
  if (isLive(ctx) && location.href !== ctx.lastUrl) enqueuePageView(ctx);
}
