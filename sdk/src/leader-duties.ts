import { openServerStream } from './server-stream.js';
import { applyServerState } from './session-flow.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';

/** A tab resends its own stored events that left memory this long ago, such as by beacon, in ms. */
const RESEND_AFTER_MS = 30_000;
/** The leader sends stored events of a closed tab once they are this old, in ms. */
const ORPHAN_AFTER_MS = 10_000;

/**
 * Brings the timers in line with the session, the leadership and the timing: the idle
 * phase restarts for an active session, and only the leader of a live session sends
 * heartbeats. The leader also keeps the server stream open once the collector accepted a
 * batch of the session.
 */
export function refresh(ctx: TrackerContext): void {
  const sessionId = isLive(ctx) && ctx.isLeader ? ctx.session?.id : undefined;
  const { heartbeatMs } = ctx.timing;

  if (ctx.state === 'active') ctx.idle.reset();
  if (ctx.heartbeat && (!sessionId || ctx.heartbeat.intervalMs !== heartbeatMs)) {
    clearInterval(ctx.heartbeat.timer);
    ctx.heartbeat = undefined;
  }
  if (sessionId && !ctx.heartbeat) {
    ctx.heartbeat = { timer: setInterval(() => sendHeartbeat(ctx), heartbeatMs), intervalMs: heartbeatMs };
  }

  const streamId = sessionId === ctx.acceptedSessionId ? sessionId : undefined;
  if (ctx.stream?.sessionId !== streamId) {
    ctx.stream?.close();
    ctx.stream = undefined;
  }
  if (streamId && !ctx.stream) {
    const close = openServerStream(ctx.options.endpoint, streamId, (state) => applyServerState(ctx, state));
    ctx.stream = { sessionId: streamId, close };
  }
}

function sendHeartbeat(ctx: TrackerContext) {
  if (!isLive(ctx)) return;

  enqueue(ctx, 'heartbeat', { tabs: ctx.tabs.count(), lastActivityAt: ctx.lastActivityAt ?? undefined });
}

/** Emits the tab count; the leader reports tabs that closed without saying `bye`. */
export function reportTabCount(ctx: TrackerContext, count: number, expired: number): void {
  ctx.emitter.emit('tabs', { tabs: count });
  if (expired && ctx.isLeader && isLive(ctx)) enqueue(ctx, 'tab_closed', { tabs: count });
}

/**
 * Queues stored events that no open page will send: this tab's own from an earlier page
 * (all of them at start, else once RESEND_AFTER_MS old) and, for the leader, those of tabs
 * that closed. Sending one twice is safe because the collector drops duplicate event ids.
 */
export async function recoverStoredEvents(ctx: TrackerContext, isStart: boolean): Promise<void> {
  const now = Date.now();
  const count = await ctx.queue.recover((item) => {
    const age = now - item.savedAt;

    if (item.tabId === ctx.tabs.tabId) return isStart || age >= RESEND_AFTER_MS;

    return ctx.isLeader && !ctx.tabs.isOpen(item.tabId) && age >= ORPHAN_AFTER_MS;
  });

  if (count) {
    ctx.log(`${count} stored events queued again`);
    void ctx.delivery.flush();
  }
}
