import type { TabMessage } from './channel.js';
import { ProcessSessionsError } from './errors.js';
import { applyServerState, endSession, enterSession } from './session-flow.js';
import { isLiveSession, type SessionEndReason } from './session-store.js';
import { isLive, type TrackerContext } from './tracker-context.js';
import type { SendResult } from './transport.js';

/** Collector error codes that end the session, with the end reason each stands for. */
const ENDING_CODES: Record<string, SessionEndReason> = {
  session_ended: 'terminated',
  session_limit: 'session_limit',
  tracking_disabled: 'disabled',
};

/** Applies a message from another tracker of the app. */
export function handleTabMessage(ctx: TrackerContext, message: TabMessage): void {
  switch (message.t) {
    case 'act':
      if (message.id === ctx.sessionRecord?.id && isLive(ctx)) {
        ctx.latestInputAt = Math.max(ctx.latestInputAt ?? 0, message.at);
        ctx.idle.check();
      }
      break;
    case 'session':
      joinAnnouncedSession(ctx, message.record);
      break;
    case 'end':
      if (message.id === ctx.sessionRecord?.id) endSession(ctx, message.reason, false);
      break;
    case 'sent':
      ctx.queue.remove(message.ids, true);
      break;
    default:
      ctx.tabRegistry.handle(message);
  }
}

/**
 * Joins a session another tab began. localStorage usually has it already, but writes of
 * other processes can arrive later than the message, so the message's copy is used then.
 */
function joinAnnouncedSession(ctx: TrackerContext, record: Extract<TabMessage, { t: 'session' }>['record']) {
  ctx.idle.check();

  const isNewer = record.startedAt >= (ctx.sessionRecord?.startedAt ?? 0);
  if (record.id !== ctx.sessionRecord?.id && isNewer && isLiveSession(record, Date.now(), ctx.timing.idleTimeoutMs)) {
    enterSession(ctx, record, false);
  }
}

/** Applies the collector's reply to a batch of session `sessionId`. */
export function handleResult(ctx: TrackerContext, result: SendResult, sessionId: string): void {
  // A stopped tracker ignores late replies, which must not write storage after an opt-out.
  if (ctx.trackerState === 'stopped') return;
  if (result.session) applyServerState(ctx, result.session);
  if (result.ok) {
    const [first] = result.rejected ?? [];
    // The batch arrived, but the collector did not store these events, so the app hears of it.
    if (first) ctx.emitter.emit('error', new ProcessSessionsError(first.code, `Events not delivered: ${first.message}`));
    if (sessionId === ctx.sessionRecord?.id && !ctx.sessionRecord.isAccepted) {
      ctx.sessionRecord.isAccepted = true;
      ctx.store.update(sessionId, { isAccepted: true });
      ctx.refresh();
    }
    return;
  }

  // A 410 means the session ended, whatever the body contains, and is final.
  const code = result.status === 410 ? 'session_ended' : result.code;
  const reason = code ? ENDING_CODES[code] : undefined;
  if (reason && sessionId === ctx.sessionRecord?.id) endSession(ctx, reason, true);
  // Retryable failures stay queued, and session_ended is reported as `terminated`.
  if (!result.isRetryable && code !== 'session_ended') {
    ctx.emitter.emit('error', new ProcessSessionsError(code ?? `http_${result.status}`, `Events not delivered: ${result.message}`));
  }
}
