import type { Hono } from 'hono';
import { z } from 'zod';
import { errorBodySchema } from '../../../shared/src/index.js';
import type { Storage } from '../storage/index.js';
import type { ApiDocs } from './api-docs.js';
import type { AppEnv } from './app-env.js';
import { formatPath, sendError, toIssues } from './errors.js';

/** Range of the summary when `from` is missing. */
const DEFAULT_RANGE_MS = 7 * 24 * 3_600_000;

const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/** Parses a point in time: epoch ms, an ISO 8601 date (UTC midnight) or a date-time with offset. */
const instantSchema = z.string().transform((raw, ctx) => {
  const text = raw.trim();
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (isoDateTime.safeParse(text).success || isoDate.safeParse(text).success) {
    return Date.parse(text);
  }

  ctx.addIssue({
    code: 'custom',
    message: `must be epoch milliseconds or an ISO 8601 date such as 2024-05-01 or 2024-05-01T12:00:00Z, received "${raw}"`,
  });
  return z.NEVER;
});

/** Query of the summary; unknown names are rejected so that a typo does not pass silently. */
const summaryQuerySchema = z.strictObject({
  from: instantSchema
    .optional()
    .describe('Start: epoch ms or ISO 8601. Default: 7 days before to.'),
  to: instantSchema.optional().describe('End: epoch ms or ISO 8601. Default: now.'),
});

/** Registers `GET /v1/analytics/summary?from=&to=`; app.ts requires role `analyst` for it. */
export function registerAnalyticsRoute(
  app: Hono<AppEnv>,
  docs: ApiDocs,
  storage: Storage,
  now: () => number,
): void {
  docs.add({
    method: 'get',
    path: '/v1/analytics/summary',
    tag: 'Analytics',
    summary: 'Summarize sessions in a range: counts, durations, engaged and idle time, end reasons',
    role: 'analyst',
    query: summaryQuerySchema,
    responses: {
      200: { description: 'The summary as JSON numbers' },
      400: {
        description: 'invalid_query: from or to is invalid, or a parameter is unknown',
        schema: errorBodySchema,
      },
    },
  });

  app.get('/v1/analytics/summary', async (c) => {
    const result = summaryQuerySchema.safeParse(c.req.query());
    if (!result.success) {
      const unknown = result.error.issues.find((issue) => issue.code === 'unrecognized_keys');
      if (unknown) {
        const name = unknown.keys[0] ?? '(unknown)';
        const message = `Query parameter ${name} is not supported; use from and to`;
        return sendError(c, 400, 'invalid_query', message, {
          issues: [{ path: [name], message: 'is not supported' }],
        });
      }
      const issues = toIssues(result.error);
      const first = issues[0]!;
      const message = `Query parameter ${formatPath(first.path)} ${first.message}`;
      return sendError(c, 400, 'invalid_query', message, { issues });
    }

    const to = result.data.to ?? now();
    const from = result.data.from ?? to - DEFAULT_RANGE_MS;
    if (from >= to) {
      const iso = (ms: number) => new Date(ms).toISOString();
      const message = `Query parameter from must be before to (${iso(to)}), received ${iso(from)}`;
      return sendError(c, 400, 'invalid_query', message, {
        issues: [{ path: ['from'], message: 'must be before to' }],
      });
    }

    return c.json(await storage.summarize(from, to));
  });
}
