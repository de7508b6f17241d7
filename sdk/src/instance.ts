import { detachTracker, leavePage } from './page-lifecycle.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';
import type { ProcessSessions, TrackerSnapshot } from './types.js';
import { validateProps, validateText } from './validate.js';

/** Creates the public API of a started tracker. */
export function createInstance(ctx: TrackerContext): ProcessSessions {
  return {
    on: (name, listener) => ctx.emitter.on(name, listener),
    track(name, props) {
      const data = { name: validateText('name', name, 128), props: validateProps(props) };

      if (isLive(ctx)) enqueue(ctx, 'custom', data);
      else ctx.log(`custom event "${name}" dropped: no running session`);
    },
    identify(userId) {
      ctx.userId = validateText('userId', userId, 256);
      if (ctx.session) ctx.store.update(ctx.session.id, { userId: ctx.userId });
    },
    end: () => endTracker(ctx),
    stop() {
      if (ctx.state === 'stopped') return;
      leavePage(ctx, true);
      detachTracker(ctx);
      ctx.delivery.stop();
    },
    getState: () => snapshot(ctx),
  };
}

/** Ends the session with reason `logout` in every tab, sends the queue, and stops. */
async function endTracker(ctx: TrackerContext) {
  const id = ctx.session?.id;

  if (ctx.state === 'stopped') return;
  ctx.activity.drain();
  if (id && isLive(ctx)) {
    enqueue(ctx, 'session_end', { reason: 'logout' });
    ctx.store.update(id, { endReason: 'logout' });
    ctx.channel.post({ t: 'end', id, reason: 'logout', from: ctx.instanceId });
    ctx.endReason = 'logout';
  }
  ctx.tabs.stop();
  detachTracker(ctx);

  await ctx.delivery.flushAll();
  ctx.delivery.stop();
}

function snapshot(ctx: TrackerContext): TrackerSnapshot {
  const { lastActivityAt } = ctx;
  const hasDeadline = lastActivityAt !== null && (isLive(ctx) || ctx.state === 'idle');

  return {
    sessionId: ctx.session?.id ?? null,
    tabId: ctx.tabs.tabId,
    state: ctx.state,
    tabs: ctx.tabs.count(),
    isLeader: ctx.isLeader,
    endReason: ctx.endReason,
    idleDeadline: hasDeadline ? lastActivityAt + ctx.timing.idleTimeoutMs : null,
    lastActivityAt,
    userId: ctx.userId ?? null,
  };
}
