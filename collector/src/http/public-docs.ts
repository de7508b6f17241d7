import { z } from 'zod';
import {
  batchReplySchema,
  batchSchema,
  errorBodySchema,
  idSchema,
  MAX_BODY_BYTES,
} from '../../../shared/src/index.js';
import type { ApiDocs } from './api-docs.js';

/**
 * Documents the routes that validate by hand rather than through
 * `defineRoute`: ingest, the session stream and health. The batch schema
 * here is the same `batchSchema` the ingest route validates with.
 */
export function documentPublicRoutes(docs: ApiDocs): void {
  const error = (description: string) => ({ description, schema: errorBodySchema });

  docs.add({
    method: 'post',
    path: '/v1/events',
    tag: 'Ingest',
    summary: 'Send a batch of session events',
    description:
      `Content-Type application/json or text/plain (what sendBeacon sends), at most ${MAX_BODY_BYTES} ` +
      'bytes. The reply carries the session state and policy. An invalid envelope (every field ' +
      'but the events) rejects the whole batch. Each event is then validated on its own: invalid ' +
      'events (code invalid_event) and events stamped more than 24 h before the server receive ' +
      'time (timestamp_out_of_range) are listed by index in `rejected`, and the others are ' +
      'stored. A batch with no valid event is rejected with 400. Events stamped more than 5 min ' +
      'after the receive time are stored at the receive time. Every 4xx reply and every 200 ' +
      'that rejected or clamped events is recorded in the integration log ' +
      '(GET /v1/admin/ingest-errors).',
    body: batchSchema,
    responses: {
      200: {
        description: 'Valid events stored; duplicates are counted, rejected events listed by index',
        schema: batchReplySchema,
      },
      400: error('invalid_json, invalid_batch or unsupported_version'),
      403: error(
        'origin_not_allowed (ALLOWED_ORIGINS, or the app\'s APP_ORIGINS entry); tracking_disabled ' +
          'with the ended session state (reason disabled); forbidden when the session belongs to ' +
          'another client or app',
      ),
      409: error('session_limit: the user already has maxSessionsPerUser live sessions (behaviour reject)'),
      410: error('session_ended, with the ended session state; an ended session never becomes live again'),
      413: error('payload_too_large'),
      415: error(
        'unsupported_media_type: a Content-Type other than JSON or text/plain, or a Content-Encoding',
      ),
      429: error(
        'rate_limited: over RATE_LIMIT_PER_IP or RATE_LIMIT_PER_APP; Retry-After gives the seconds to wait',
      ),
      503: error(
        'storage_unavailable: loading acknowledged batches into DuckDB keeps failing, so new ones ' +
          'are not accepted; Retry-After gives the seconds to wait',
      ),
    },
  });

  docs.add({
    method: 'get',
    path: '/v1/sessions/:id/stream',
    tag: 'Ingest',
    summary: 'Follow a session: server-sent events of its state',
    description:
      'Sends `event: state` with the SessionState at once and after every change: an end (any ' +
      'reason, including an admin termination) or a new policy.',
    params: z.object({ id: idSchema }),
    responses: {
      200: { description: 'An event stream', mediaType: 'text/event-stream' },
      403: error("origin_not_allowed: the Origin may not send for the session's app"),
      404: error('not_found: the collector has not stored this session'),
      429: error('rate_limited: over RATE_LIMIT_PER_IP; Retry-After gives the seconds to wait'),
    },
  });

  docs.add({
    method: 'get',
    path: '/healthz',
    tag: 'Ingest',
    summary: 'Health check; never rate-limited',
    responses: { 200: { description: 'Up', schema: z.object({ ok: z.literal(true) }) } },
  });
}
