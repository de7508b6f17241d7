import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { errorBodySchema } from '../../../shared/src/index.js';
import type { ApiDocs } from '../http/api-docs.js';
import type { AppEnv } from '../http/app-env.js';
import { sendError } from '../http/errors.js';
import type { Storage } from '../storage/index.js';
import type { StreamHub } from '../stream-hub.js';
import { toCsv } from './csv.js';
import { LiveFeed } from './live-feed.js';
import { streamLiveSessions } from './live-stream.js';
import { parseReportParams, type ReportRequest, reportParamsSchema } from './report-params.js';
import { REPORT_NAMES, REPORTS, type ReportName } from './reports.js';

/** Default interval of `: ping` comments on the live stream, in ms. */
export const LIVE_PING_INTERVAL_MS = 15_000;

/** Roles the analytics routes require. */
export type AnalyticsRole = 'admin' | 'analyst';

/** Dependencies of `registerAnalytics`. */
export interface AnalyticsDeps {
  storage: Storage;
  hub: StreamHub;
  /** Server clock in epoch ms. */
  now: () => number;
  /** Returns middleware that admits callers with `role` (admin admits everyone). */
  authorize: (role: AnalyticsRole) => MiddlewareHandler<AppEnv>;
  /** Interval of `: ping` comments on the live stream, in ms. @default 15000 */
  pingIntervalMs?: number;
  /** API docs the routes add themselves to. */
  docs: ApiDocs;
}

const feeds = new WeakMap<StreamHub, LiveFeed>();

/** Returns the live feed of a hub, creating it on first use, so every route shares one. */
export function liveFeedFor(storage: Storage, hub: StreamHub): LiveFeed {
  let feed = feeds.get(hub);
  if (!feed) {
    feed = new LiveFeed(storage, hub);
    feeds.set(hub, feed);
  }
  return feed;
}

/**
 * Registers the reports at `GET /v1/analytics/<name>` (admin and analyst),
 * the report index at `GET /v1/analytics`, and the live session stream at
 * `GET /v1/admin/live` (admin only).
 */
export function registerAnalytics(app: Hono<AppEnv>, deps: AnalyticsDeps): void {
  const readAnalytics = deps.authorize('analyst');

  app.get('/v1/analytics', readAnalytics, (c) => {
    const reports = REPORT_NAMES.map((name) => ({
      name,
      path: `/v1/analytics/${name}`,
      summary: REPORTS[name].summary,
    }));
    return c.json({ reports });
  });

  for (const name of REPORT_NAMES) {
    app.get(`/v1/analytics/${name}`, readAnalytics, async (c) => {
      const parsed = parseReportParams(c.req.query(), c.req.header('accept'), deps.now());
      if ('issues' in parsed) {
        return sendError(c, 400, 'invalid_query', parsed.message, { issues: parsed.issues });
      }
      return sendReport(c, name, parsed, deps.storage);
    });
  }

  app.get('/v1/admin/live', deps.authorize('admin'), (c) =>
    streamLiveSessions(c, liveFeedFor(deps.storage, deps.hub), {
      now: deps.now,
      pingIntervalMs: deps.pingIntervalMs ?? LIVE_PING_INTERVAL_MS,
    }),
  );

  documentAnalytics(deps.docs);
}

/** Adds the report index, every report and the live stream to the API docs. */
function documentAnalytics(docs: ApiDocs): void {
  docs.add({
    method: 'get',
    path: '/v1/analytics',
    tag: 'Analytics',
    summary: 'List the reports',
    role: 'analyst',
    responses: {
      200: {
        description: 'Name, path and summary of every report',
        schema: z.object({
          reports: z.array(z.object({ name: z.string(), path: z.string(), summary: z.string() })),
        }),
      },
    },
  });

  for (const name of REPORT_NAMES) {
    docs.add({
      method: 'get',
      path: `/v1/analytics/${name}`,
      tag: 'Analytics',
      summary: REPORTS[name].summary,
      description: 'Metrics are defined in docs/metrics.md.',
      role: 'analyst',
      query: reportParamsSchema,
      responses: {
        200: {
          description: 'The report as JSON, or as text/csv with format=csv or an Accept header preferring it',
        },
        400: {
          description: 'invalid_query: a parameter is invalid or unknown; the message names it',
          schema: errorBodySchema,
        },
      },
    });
  }

  docs.add({
    method: 'get',
    path: '/v1/admin/live',
    tag: 'Analytics',
    summary: 'Follow the live sessions: server-sent events of their count and changes',
    role: 'admin',
    responses: { 200: { description: 'An event stream', mediaType: 'text/event-stream' } },
  });
}

/** Runs a report and sends it as JSON or as a CSV download. */
export async function sendReport(
  c: Context,
  name: ReportName,
  request: ReportRequest,
  storage: Storage,
): Promise<Response> {
  const report = REPORTS[name];
  const body = await report.run(storage.analytics, request.query);
  c.header('Vary', 'Accept');
  if (request.format === 'json') return c.json(body);

  const { from, to, timeZone } = request.query;
  // Named for the first and last day covered, in the report's time zone; `to` is exclusive.
  const dates = new Intl.DateTimeFormat('en-CA', { timeZone, dateStyle: 'short' });
  const range = `${dates.format(from)}-${dates.format(to - 1)}`;
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${name}-${range}.csv"`);
  return c.body(toCsv(report.table(body)));
}
