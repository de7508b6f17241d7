import { electLeader } from './tab-leader.js';
import { openServerStream } from './server-stream.js';
import { applyServerState } from './session-flow.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';

/**
 * Brings the timers in line with the session, the leadership and the timing: the idle
 * phase restarts for an active session, and only the leader of a live session sends
 * heartbeats. The leader also keeps the server stream open once the collector accepted a
 * batch of the session.
 */
export function refresh(ctx: TrackerContext): void {
  const sessionId = isLive(ctx) && ctx.isLeader ? ctx.sessionRecord?.id : undefined;
  const intervalMs = sessionId && ctx.timing.heartbeatMs;

  if (ctx.trackerState === 'active') ctx.idle.reset();
  // The interval restarts when the policy changes it.
  if (ctx.heartbeat?.intervalMs !== intervalMs) {
    clearInterval(ctx.heartbeat?.timer);
    ctx.heartbeat = intervalMs ? { timer: setInterval(() => sendHeartbeat(ctx), intervalMs), intervalMs } : undefined;
  }

  const streamId = ctx.sessionRecord?.isAccepted ? sessionId : undefined;
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

  enqueue(ctx, 'heartbeat', { tabs: ctx.tabRegistry.count(), lastActivityAt: ctx.latestInputAt ?? undefined });
}

/** Enters this tab in the app's leader election; `ctx.resign()` leaves it. */
export function joinElection(ctx: TrackerContext): void {
  ctx.resign();
  ctx.resign = electLeader(ctx.options.appId, ctx.instanceId, (isLeader) => {
    ctx.isLeader = isLeader;
    ctx.refresh();
  });
}
