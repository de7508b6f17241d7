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
      'bytes. The reply carries the session state and policy. Every 4xx reply is recorded in the ' +
      'integration log (GET /v1/admin/ingest-errors).',
    body: batchSchema,
    responses: {
      200: { description: 'Stored; duplicates and late events are counted', schema: batchReplySchema },
      400: error('invalid_json, invalid_batch or unsupported_version'),
      403: error(
        'origin_not_allowed; tracking_disabled with the ended session state (reason disabled); ' +
          'forbidden when the session belongs to another client or app',
      ),
      409: error('session_limit: the user already has maxSessionsPerUser live sessions (behaviour reject)'),
      410: error('session_ended, with the ended session state; an ended session never becomes live again'),
      413: error('payload_too_large'),
      415: error('unsupported_media_type'),
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
      404: error('not_found: the collector has not stored this session'),
    },
  });

  docs.add({
    method: 'get',
    path: '/healthz',
    tag: 'Ingest',
    summary: 'Health check',
    responses: { 200: { description: 'Up', schema: z.object({ ok: z.literal(true) }) } },
  });
}
