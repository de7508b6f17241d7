import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { errorBodySchema } from '../../../shared/src/index.js';
import type { AdminStore } from '../storage/index.js';
import type { ApiDocs } from './api-docs.js';
import { defineRoute } from './api-route.js';
import type { AppEnv } from './app-env.js';
import {
  auditEntrySchema,
  auditQuerySchema,
  ingestErrorSchema,
  ingestErrorsQuerySchema,
} from './admin-schemas.js';
import { decodeSeqCursor, encodeSeqCursor, toAuditEntry, toIngestError } from './admin-views.js';
import { sendError } from './errors.js';

/** Maximum length of an error message kept in the integration log, in characters. */
const MAX_LOGGED_MESSAGE = 1024;

function sendBadCursor(c: Context<AppEnv>): Response {
  const message = 'must be the nextCursor of a previous page';
  return sendError(c, 400, 'invalid_query', `Query parameter cursor: ${message}`, {
    issues: [{ path: ['cursor'], message }],
  });
}

/** Returns the cursor of the page after `rows`, or null on the last page. */
function nextCursor(rows: Array<{ seq: number }>, limit: number): string | null {
  const last = rows.at(-1);
  return rows.length === limit && last ? encodeSeqCursor(last.seq) : null;
}

/** Registers `GET /v1/admin/audit` and `GET /v1/admin/ingest-errors`, newest first. */
export function registerAuditRoutes(app: Hono<AppEnv>, docs: ApiDocs, store: AdminStore): void {
  const invalid = { description: 'Invalid query', schema: errorBodySchema };

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/audit',
      tag: 'Audit',
      summary: 'Read the audit log',
      description:
        'Every admin change (settings, policies, user groups, terminations) and every session end: ' +
        'actor `system` for idle, absolute, closed and evicted ends, `client` for ends an SDK ' +
        'reported, and the admin token name for terminations and the ends their changes caused.',
      role: 'admin',
      query: auditQuerySchema,
      responses: {
        200: {
          description: 'A page of entries, newest first',
          schema: z.object({ entries: z.array(auditEntrySchema), nextCursor: z.string().nullable() }),
        },
        400: invalid,
      },
    },
    async (c, { query }) => {
      const beforeSeq = query.cursor === undefined ? undefined : decodeSeqCursor(query.cursor);
      if (query.cursor !== undefined && beforeSeq === undefined) return sendBadCursor(c);

      const { cursor: _cursor, ...filter } = query;
      const rows = await store.listAudit({ ...filter, ...(beforeSeq !== undefined ? { beforeSeq } : {}) });
      return c.json({ entries: rows.map(toAuditEntry), nextCursor: nextCursor(rows, query.limit) });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/ingest-errors',
      tag: 'Audit',
      summary: 'Read the integration log: rejected ingest requests',
      description:
        'Each POST /v1/events answered with a 4xx status, with its error code, app id (when the body ' +
        'named a valid one), Origin header and time, and each 200 reply that rejected invalid events ' +
        '(codes invalid_event, timestamp_out_of_range) or stored events at the receive time ' +
        '(timestamp_clamped). Of a run of rate-limit rejections only the first is logged. ' +
        'The log keeps the newest MAX_INGEST_ERRORS rows.',
      role: 'admin',
      query: ingestErrorsQuerySchema,
      responses: {
        200: {
          description: 'A page of errors, newest first',
          schema: z.object({ errors: z.array(ingestErrorSchema), nextCursor: z.string().nullable() }),
        },
        400: invalid,
      },
    },
    async (c, { query }) => {
      const beforeSeq = query.cursor === undefined ? undefined : decodeSeqCursor(query.cursor);
      if (query.cursor !== undefined && beforeSeq === undefined) return sendBadCursor(c);

      const { cursor: _cursor, ...filter } = query;
      const rows = await store.listIngestErrors({ ...filter, ...(beforeSeq !== undefined ? { beforeSeq } : {}) });
      return c.json({ errors: rows.map(toIngestError), nextCursor: nextCursor(rows, query.limit) });
    },
  );
}

/**
 * Records every 4xx reply of the ingest route in the integration log, with
 * the error code of its body, and every 2xx reply that rejected or clamped
 * events (the route's `ingestWarnings`). Register it before the route's other
 * middleware, so the origin check's rejections are recorded too. Repeated
 * rate-limit rejections are skipped, so a flood cannot push older rows out.
 */
export function recordIngestErrors(store: AdminStore, now: () => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const { status } = c.res;
    const record = (code: string, message: string) =>
      store.recordIngestError({
        createdAt: now(),
        status,
        code,
        message: message.slice(0, MAX_LOGGED_MESSAGE),
        appId: c.get('appId') ?? null,
        sessionId: c.get('sessionId') ?? null,
        origin: c.req.header('origin')?.slice(0, 512) ?? null,
        requestId: c.get('requestId') ?? null,
      });

    if (status < 400) {
      for (const warning of c.get('ingestWarnings') ?? []) record(warning.code, warning.message);
      return;
    }
    if (status >= 500 || c.get('isIngestLogSkipped')) return;

    let code = `http_${status}`;
    let message = '';
    try {
      const body = (await c.res.clone().json()) as { code?: unknown; message?: unknown };
      if (typeof body.code === 'string') code = body.code;
      if (typeof body.message === 'string') message = body.message;
    } catch {
      // A body that is not JSON keeps the status as its code.
    }
    record(code, message);
  };
}
