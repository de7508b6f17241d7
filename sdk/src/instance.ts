import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';
import { byteLength } from './batches.js';
import { choiceKey, forgetStoredIds, isTrackingAllowed } from './consent.js';
import { ProcessSessionsError } from './errors.js';
import { createEmitter } from './emitter.js';
import { createEventQueue } from './event-queue.js';
import { listen } from './listen.js';
import type { ResolvedOptions } from './options.js';
import { detachTracker, leavePage } from './page-lifecycle.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';
import { buildTracker, startTracker } from './tracker.js';
import type { ProcessSessions, TrackerEvents, TrackerSnapshot, TrackProps } from './types.js';
import { validateProps, validateText } from './validate.js';
import { local, writeJson } from './web-storage.js';

/**
 * Largest custom event `track()` queues, as JSON, in bytes. The rest of the 64 KiB beacon
 * limit leaves room for the batch's ids, user id and group.
 */
export const MAX_EVENT_BYTES = MAX_BEACON_BYTES - 4096;

/**
 * Creates the public API. The tracker is built, and stores or sends anything, only while
 * tracking is allowed: see `isTrackingAllowed`. A choice stored in another tab reaches this
 * one by the `storage` event and starts or stops its tracker.
 */
export function createInstance(options: ResolvedOptions): ProcessSessions {
  const emitter = createEmitter<TrackerEvents>((error) => {
    if (options.debug) console.info('[process-sessions] event listener failed', error);
  });
  let ctx: TrackerContext | undefined;
  let hasConsent = options.consent === 'granted';
  let isStopped = false;
  let identity: Pick<TrackerContext, 'userId' | 'userGroup'> = { userId: undefined, userGroup: undefined };

  const start = () => {
    if (ctx || isStopped || !isTrackingAllowed(options, hasConsent)) return;
    ctx = buildTracker(options, emitter);
    // A session this tab begins carries the identity at once; one it joins gets it after.
    Object.assign(ctx, identity);
    startTracker(ctx);
    if (identity.userId) applyIdentity(ctx, identity);
  };
  const turnOff = () => {
    if (ctx) {
      const sessionId = isLive(ctx) && ctx.sessionRecord?.id;

      detachTracker(ctx);
      if (sessionId) emitter.emit('terminated', { sessionId, reason: 'disabled' });
    }
    (ctx?.queue ?? createEventQueue(options.appId, () => {})).clear();
    ctx = undefined;
  };
  const onStorage = (event: StorageEvent) => {
    if (event.key !== choiceKey(options.appId)) return;
    if (isTrackingAllowed(options, hasConsent)) start();
    else if (ctx) turnOff();
  };
  const stopListening = listen(window, 'storage', onStorage);
  const stop = () => {
    isStopped = true;
    stopListening();
  };
  start();

  return {
    on: (name, listener) => emitter.on(name, listener),
    track(name, props) {
      const data = { name: validateText('name', name, 128), props: validateProps(props) };

      if (ctx) trackCustom(ctx, data);
    },
    identify(userId, traits) {
      identity = {
        userId: validateText('userId', userId, 256),
        userGroup: traits?.group === undefined ? undefined : validateText('traits.group', traits.group, 128),
      };
      if (ctx) applyIdentity(ctx, identity);
    },
    async end() {
      stop();
      if (ctx) await endTracker(ctx);
    },
    stop() {
      stop();
      if (!ctx || ctx.trackerState === 'stopped') return;
      leavePage(ctx, true);
      detachTracker(ctx);
    },
    getState: () => snapshot(ctx, isStopped),
    grantConsent() {
      hasConsent = true;
      start();
    },
    optOut() {
      writeJson(local, choiceKey(options.appId), 'out');
      turnOff();
      forgetStoredIds(options.appId);
    },
    optIn() {
      writeJson(local, choiceKey(options.appId), 'in');
      start();
    },
  };
}

/**
 * Queues a custom event. It first checks the shared record, so that a tab whose first event
 * follows another tab's new session sends it in that session, not in an ended one.
 */
function trackCustom(ctx: TrackerContext, data: { name: string; props?: TrackProps }) {
  ctx.idle.check();
  if (!isLive(ctx)) return ctx.log(`custom event "${data.name}" dropped: no running session`);

  if (byteLength(JSON.stringify(data)) > MAX_EVENT_BYTES) {
    ctx.droppedEvents += 1;
    ctx.emitter.emit(
      'error',
      new ProcessSessionsError('event_too_large', `custom event "${data.name}" dropped: its JSON is over ${MAX_EVENT_BYTES} bytes`),
    );
    return;
  }
  enqueue(ctx, 'custom', data);
}

function applyIdentity(ctx: TrackerContext, identity: Pick<TrackerContext, 'userId' | 'userGroup'>) {
  Object.assign(ctx, identity);
  if (ctx.sessionRecord) ctx.store.update(ctx.sessionRecord.id, identity);
}

/** Ends the session with reason `logout` in every tab, sends the queue, and stops. */
async function endTracker(ctx: TrackerContext) {
  const id = ctx.sessionRecord?.id;

  if (ctx.trackerState === 'stopped') return;
  ctx.activity.drain();
  if (id && isLive(ctx)) {
    enqueue(ctx, 'session_end', { reason: 'logout' });
    ctx.store.update(id, { endReason: 'logout' });
    ctx.channel.post({ t: 'end', id, reason: 'logout' });
    ctx.endReason = 'logout';
  }
  detachTracker(ctx);

  await ctx.delivery.flushAll();
}

/** Reads the state of `ctx`, or of a tracker that is off or stopped when there is none. */
function snapshot(ctx: TrackerContext | undefined, isStopped: boolean): TrackerSnapshot {
  const lastActivityAt = ctx?.latestInputAt ?? null;
  const hasDeadline = lastActivityAt !== null && (isLive(ctx!) || ctx!.trackerState === 'idle');

  return {
    sessionId: ctx?.sessionRecord?.id ?? null,
    tabId: ctx?.tabRegistry.tabId ?? null,
    state: ctx?.trackerState ?? (isStopped ? 'stopped' : 'off'),
    tabs: ctx?.tabRegistry.count() ?? 0,
    isLeader: !!ctx?.isLeader,
    endReason: ctx?.endReason ?? null,
    idleDeadline: hasDeadline ? lastActivityAt + ctx!.timing.idleTimeoutMs : null,
    lastActivityAt,
    userId: ctx?.userId ?? null,
    droppedEvents: ctx?.droppedEvents ?? 0,
  };
}
