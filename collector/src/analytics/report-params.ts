import { z } from 'zod';
import { appIdSchema, textSchema } from '../../../shared/src/index.js';
import type { Issue } from '../http/errors.js';
import { REPORT_INTERVALS, type ReportQuery } from '../storage/analytics-query.js';
import { isKnownTimeZone, startOfLocalDate } from '../storage/analytics-zoned-time.js';

/** Range of a report when `from` is missing, in ms. */
export const DEFAULT_RANGE_MS = 7 * 24 * 3_600_000;

/** Maximum buckets of one report, which bounds the size of a response and of a chart. */
export const MAX_BUCKETS = 1000;

/** Output formats of a report. */
export type ReportFormat = 'json' | 'csv';

/** A validated report request. */
export interface ReportRequest {
  query: ReportQuery;
  format: ReportFormat;
}

/** A report request that failed validation, with the invalid parameter in `issues[0].path`. */
export interface ParamsError {
  message: string;
  issues: Issue[];
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/** Every query parameter a report accepts; unknown names are rejected so typos do not pass silently. */
export const reportParamsSchema = z
  .object({
    from: z
      .string()
      .optional()
      .describe(
        'Start: epoch ms, a date (local midnight in timeZone) or a date-time with offset. ' +
          'Default: 7 days before to.',
      ),
    to: z.string().optional().describe('End, in the same forms as from. Default: now.'),
    interval: z
      .string()
      .refine((value) => (REPORT_INTERVALS as readonly string[]).includes(value), {
        message: `must be one of ${REPORT_INTERVALS.join(', ')}`,
      })
      .optional()
      .describe(`Bucket size: ${REPORT_INTERVALS.join(' or ')}. Default: day.`),
    timeZone: z
      .string()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .optional()
      .describe('IANA time zone of buckets and dates. Default: UTC.'),
    appId: appIdSchema.optional().describe('Only sessions of this app.'),
    policyId: textSchema(128).optional().describe('Only sessions under this custom policy.'),
    userGroup: textSchema(128).optional().describe('Only sessions of this user group.'),
    format: z
      .enum(['json', 'csv'], { message: 'must be json or csv' })
      .optional()
      .describe('json or csv. Default: csv when Accept prefers text/csv, else json.'),
  })
  .strict();

type Params = z.infer<typeof reportParamsSchema>;

/**
 * Parses a point in time in `timeZone`: epoch ms, an ISO 8601 date-time with
 * an offset, or a date (`YYYY-MM-DD`, meaning local midnight). Returns
 * undefined for anything else.
 */
function parseInstant(raw: string, timeZone: string): number | undefined {
  const text = raw.trim();
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (DATE_PATTERN.test(text) && isoDate.safeParse(text).success) {
    return startOfLocalDate(text, timeZone);
  }
  if (isoDateTime.safeParse(text).success) return Date.parse(text);
  return undefined;
}

function fail(name: string, message: string): ParamsError {
  return { message: `Query parameter ${name} ${message}`, issues: [{ path: [name], message }] };
}

/** Converts the first zod issue into an error that names the parameter. */
function fromZodError(error: z.ZodError): ParamsError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(reportParamsSchema.shape).join(', ');
    return fail(issue.keys[0] ?? '(unknown)', `is not supported; use ${allowed}`);
  }
  return fail(String(issue.path[0] ?? '(root)'), issue.message);
}

/**
 * Validates the query parameters of a report, with `now` as the default end.
 * `accept` (the Accept header) chooses CSV when `format` is missing.
 */
export function parseReportParams(
  raw: Record<string, string>,
  accept: string | undefined,
  now: number,
): ReportRequest | ParamsError {
  const result = reportParamsSchema.safeParse(raw);
  if (!result.success) return fromZodError(result.error);
  const params: Params = result.data;

  const timeZone = params.timeZone ?? 'UTC';
  if (!isKnownTimeZone(timeZone)) {
    return fail(
      'timeZone',
      `must be an IANA time zone such as UTC or Europe/Berlin, received "${timeZone}"`,
    );
  }

  const to = params.to === undefined ? now : parseInstant(params.to, timeZone);
  if (to === undefined) return fail('to', instantMessage(params.to!));
  const from =
    params.from === undefined ? to - DEFAULT_RANGE_MS : parseInstant(params.from, timeZone);
  if (from === undefined) return fail('from', instantMessage(params.from!));
  if (from >= to)
    return fail(
      'from',
      `must be before to (${new Date(to).toISOString()}), received ${new Date(from).toISOString()}`,
    );

  const interval = (params.interval ?? 'day') as ReportQuery['interval'];
  const bucketMs = interval === 'hour' ? 3_600_000 : 86_400_000;
  if ((to - from) / bucketMs > MAX_BUCKETS) {
    const suggestion =
      interval === 'hour' ? 'use interval=day or a shorter range' : 'use a shorter range';
    return fail(
      'interval',
      `${interval} allows at most ${MAX_BUCKETS} buckets in one report; ${suggestion}`,
    );
  }

  const query: ReportQuery = { from, to, interval, timeZone, now };
  if (params.appId !== undefined) query.appId = params.appId;
  if (params.policyId !== undefined) query.policyId = params.policyId;
  if (params.userGroup !== undefined) query.userGroup = params.userGroup;
  return { query, format: params.format ?? (prefersCsv(accept) ? 'csv' : 'json') };
}

function instantMessage(raw: string): string {
  return `must be epoch milliseconds, a date such as 2024-05-01 or a date-time such as 2024-05-01T12:00:00Z, received "${raw}"`;
}

/** Returns whether an Accept header lists text/csv before application/json (or without it). */
function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
  const csv = types.indexOf('text/csv');
  const json = types.indexOf('application/json');
  return csv >= 0 && (json < 0 || csv < json);
}
