import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import type { RejectedEvent } from '../../../shared/src/index.js';
import { truncateAddress } from '../privacy/client-network.js';
import type { SessionService } from '../session-service.js';
import type { AppEnv, IngestWarning } from './app-env.js';
import { sendError } from './errors.js';
import { type CheckedBatch, checkEvents, formatEpochMs } from './event-checks.js';
import { checkAppOrigin, type OriginRules } from './origins.js';
import type { RateLimiter } from './rate-limiter.js';
import { checkAppLimit } from './rate-limits.js';
import { readEnvelope } from './read-batch.js';
import { isContentTypeOf, unsupportedEncodingMessage } from './read-body.js';

const ACCEPTED_TYPES = ['application/json', 'text/plain'];

/**
 * Returns whether a Content-Type is JSON or plain text (what `sendBeacon`
 * sends), with no charset or charset UTF-8.
 */
export function isAcceptedContentType(header: string | undefined): boolean {
  return isContentTypeOf(header, ACCEPTED_TYPES);
}

/** Dependencies of the ingest route. */
export interface EventsRouteOptions {
  service: SessionService;
  /** Server clock in epoch ms, the receive time of the skew window. */
  now: () => number;
  /** Origins that may send batches, globally and per app. */
  origins: OriginRules;
  /** Limiter of `RATE_LIMIT_PER_APP`, or undefined for no limit. */
  perAppLimiter: RateLimiter | undefined;
  logger: Pick<Logger, 'warn'>;
}

/**
 * Registers `POST /v1/events`, which validates one batch and stores its valid
 * events. An invalid envelope rejects the whole batch, and so does a batch
 * with no valid event. Otherwise invalid events and events outside the skew
 * window are reported by index in `rejected`.
 */
export function registerEventsRoute(app: Hono<AppEnv>, options: EventsRouteOptions): void {
  app.post('/v1/events', async (c) => {
    const contentType = c.req.header('content-type');
    if (!isAcceptedContentType(contentType)) {
      return sendError(
        c,
        415,
        'unsupported_media_type',
        `Content-Type must be application/json or text/plain (charset utf-8), received ${contentType?.slice(0, 128) ?? 'none'}`,
      );
    }

    const encodingMessage = unsupportedEncodingMessage(c.req.raw);
    if (encodingMessage) return sendError(c, 415, 'unsupported_media_type', encodingMessage);

    const envelope = await readEnvelope(c);
    if (envelope instanceof Response) return envelope;

    const refusal =
      checkAppOrigin(c, options.origins, envelope.appId) ??
      checkAppLimit(c, options.perAppLimiter, envelope.appId, options.logger);
    if (refusal) return refusal;

    const checked = checkEvents(envelope, options.now());
    if (checked.batch.events.length === 0) return sendNoValidEvent(c, checked);

    recordWarnings(c, checked);
    return storeBatch(c, options.service, checked);
  });

  // Registered after POST, so it handles only the other methods.
  // The CORS middleware handles OPTIONS before any route.
  app.all('/v1/events', (c) => {
    c.header('Allow', 'POST, OPTIONS');
    const message = `Method ${c.req.method} is not allowed; send batches with POST`;
    return sendError(c, 405, 'method_not_allowed', message);
  });
}

/** Rejects a batch whose every event failed, with the issues of all of them. */
function sendNoValidEvent(c: Context<AppEnv>, checked: CheckedBatch): Response {
  const first = checked.rejected[0];
  const count = checked.rejected.length;
  const where = first ? first.message : 'events';
  const message = `Invalid batch at ${where} (${count} of ${count} events invalid, so none was stored)`;
  return sendError(c, 400, 'invalid_batch', message, { issues: checked.issues });
}

/** Adds the rejected and clamped events of a stored batch to the integration log. */
function recordWarnings(c: Context<AppEnv>, checked: CheckedBatch): void {
  const total = checked.batch.events.length + checked.rejected.length;
  const warnings: IngestWarning[] = [];
  for (const code of ['invalid_event', 'timestamp_out_of_range']) {
    const events = checked.rejected.filter((event) => event.code === code);
    if (events.length === 0) continue;
    const details = events
      .slice(0, 5)
      .map((event) => event.message)
      .join('; ');
    warnings.push({ code, message: `${events.length} of ${total} events rejected: ${details}` });
  }
  if (checked.clamped.length > 0) {
    const details = checked.clamped
      .slice(0, 5)
      .map((event) => `events[${event.index}] (${event.id}) at ${formatEpochMs(event.ts)}`)
      .join('; ');
    const message =
      `${checked.clamped.length} of ${total} events more than 5 min ahead of the server, ` +
      `stored at the receive time: ${details}`;
    warnings.push({ code: 'timestamp_clamped', message });
  }
  if (warnings.length > 0) c.set('ingestWarnings', warnings);
}

/**
 * Adds a warning for each code of the events the session rules rejected in a
 * stored batch, such as a tab over `maxTabs`, so the integration log lists
 * them next to invalid events.
 */
function recordRuleRejections(
  c: Context<AppEnv>,
  ruleRejected: RejectedEvent[],
  total: number,
): void {
  const warnings = [...(c.get('ingestWarnings') ?? [])];
  for (const code of new Set(ruleRejected.map((event) => event.code))) {
    const events = ruleRejected.filter((event) => event.code === code);
    const message = `${events.length} of ${total} events rejected: ${events[0]!.message}`;
    warnings.push({ code, message });
  }
  if (warnings.length > 0) c.set('ingestWarnings', warnings);
}

async function storeBatch(c: Context<AppEnv>, service: SessionService, checked: CheckedBatch) {
  const { batch } = checked;
  // Only the truncated network reaches storage; the raw address stays in this request.
  const result = await service.ingest(batch, truncateAddress(c.get('clientAddress')));
  if (result.status === 'stored') {
    // The service numbers events within the batch it got, so map them back to request indexes.
    const ruleRejected = result.reply.rejected.map((event) => ({
      ...event,
      index: checked.indexes[event.index]!,
    }));
    recordRuleRejections(c, ruleRejected, batch.events.length + checked.rejected.length);
    const rejected = [...checked.rejected, ...ruleRejected].sort((a, b) => a.index - b.index);
    return c.json({ ...result.reply, rejected }, 200);
  }

  if (result.status === 'ended') {
    const { session } = result;
    // The integration log would keep the erased session's id, which no export or erasure finds.
    if (result.isErased) c.set('isIngestLogSkipped', true);
    const endedAt = new Date(session.endedAt ?? 0).toISOString();
    return sendError(
      c,
      410,
      'session_ended',
      `Session ${batch.sessionId} ended (${session.endReason}) at ${endedAt}; start a new session`,
      { session },
    );
  }

  if (result.status === 'disabled') {
    return sendError(
      c,
      403,
      'tracking_disabled',
      'Session tracking is switched off for this app; stop sending events until it is switched on',
      { session: result.session },
    );
  }

  if (result.status === 'limit') {
    return sendError(
      c,
      409,
      'session_limit',
      `User ${result.userId} already has ${countOf(result.maxSessionsPerUser, 'live session')}, the maximum; end one to start another`,
    );
  }

  return sendError(
    c,
    403,
    'forbidden',
    `Session ${batch.sessionId} belongs to another ${result.field}; start a new session`,
  );
}

/** Returns a count with its noun, which takes an "s" unless the count is 1. */
function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
