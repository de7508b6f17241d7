import type { DuckDBConnection } from '@duckdb/node-api';
import { toNumber } from './rows.js';
import {
  listOffsetSegments,
  offsetAt,
  type OffsetSegment,
  type ReportInterval,
} from './analytics-zoned-time.js';

export type { ReportInterval } from './analytics-zoned-time.js';

/** Every report interval, in the order the API lists them. */
export const REPORT_INTERVALS = ['hour', 'day'] as const satisfies readonly ReportInterval[];

/** The sessions a report covers and how it groups them in time. */
export interface ReportQuery {
  /** Start of the range, epoch ms, inclusive. */
  from: number;
  /** End of the range, epoch ms, exclusive. */
  to: number;
  interval: ReportInterval;
  /** IANA time zone of the bucket boundaries, such as `Europe/Berlin`. */
  timeZone: string;
  appId?: string | undefined;
  policyId?: string | undefined;
  userGroup?: string | undefined;
  /** Server time, epoch ms; a live session counts as lasting until its latest batch or this. */
  now: number;
}

/** Named parameters every report query binds. */
export type QueryValues = Record<string, string | number | null>;

/** Buckets of a report (its interval), or the days and weeks of the frequency report. */
export type BucketKind = ReportInterval | 'week';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Local buckets of one kind over a report's range. SQL computes a bucket
 * index per row with integer arithmetic, one UTC offset per stretch between
 * DST changes, which is much faster than converting every row with ICU. JS
 * maps each index back to the bucket's start.
 */
export interface Bucketing {
  /** Start (epoch ms) of every bucket that overlaps the range, in order. */
  starts: number[];
  /** Returns the SQL expression of the bucket index of an epoch-ms column or expression. */
  indexSql(column: string): string;
  /** Returns the start of the bucket with this index, or undefined outside the range. */
  startOf(index: number): number | undefined;
}

function checkInteger(value: number): number {
  if (!Number.isSafeInteger(value)) throw new Error(`expected an integer, received ${value}`);
  return value;
}

/**
 * Creates the bucketing of a query. Hours and days count from the Unix epoch
 * in local time; weeks start on Monday, and day 0 (1970-01-01) was a
 * Thursday, hence the `+ 3`. A bucket starts at the first instant whose
 * local index is its index: a local hour that a DST change repeats is one
 * bucket of two hours, and one that it skips has no bucket.
 */
export function createBucketing(query: ReportQuery, kind: BucketKind): Bucketing {
  const segments = listOffsetSegments(query.from, query.to, query.timeZone);
  const widthMs = kind === 'hour' ? HOUR_MS : DAY_MS;
  const unitIndex = (ms: number) => Math.floor((ms + offsetAt(ms, segments)) / widthMs);
  const localIndex = (ms: number) =>
    kind === 'week' ? Math.floor((unitIndex(ms) + 3) / 7) : unitIndex(ms);

  const byIndex = new Map<number, number>();
  for (let index = localIndex(query.from); index <= localIndex(query.to - 1); index += 1) {
    const start = startOfUnit(
      kind === 'week' ? 7 * index - 3 : index,
      widthMs,
      segments,
      unitIndex,
    );
    if (start !== undefined) byIndex.set(index, start);
  }

  const indexSql = (column: string) => {
    const unit = (offset: number) => `((${column}) + ${checkInteger(offset)}) // ${widthMs}`;
    const last = segments[segments.length - 1]!;
    const cases = segments
      .filter((segment) => segment.until !== null)
      .map(
        (segment) =>
          `WHEN (${column}) < ${checkInteger(segment.until!)} THEN ${unit(segment.offsetMs)}`,
      );
    const local =
      cases.length === 0
        ? unit(last.offsetMs)
        : `CASE ${cases.join(' ')} ELSE ${unit(last.offsetMs)} END`;
    return kind === 'week' ? `((${local}) + 3) // 7` : local;
  };
  return { starts: [...byIndex.values()], indexSql, startOf: (index) => byIndex.get(index) };
}

/** Returns the first instant whose local hour or day index is `index`, or undefined when none is. */
function startOfUnit(
  index: number,
  widthMs: number,
  segments: readonly OffsetSegment[],
  unitIndex: (ms: number) => number,
): number | undefined {
  let segmentStart = Number.NEGATIVE_INFINITY;
  for (const segment of segments) {
    const until = segment.until ?? Number.POSITIVE_INFINITY;
    const candidate = Math.max(segmentStart, index * widthMs - segment.offsetMs);
    if (candidate < until && unitIndex(candidate) === index) return candidate;
    segmentStart = until;
  }
  return undefined;
}

/** Conditions of the app, policy and user group filters; every `$` value comes from `queryValues`. */
export const FILTER_SQL = `
  ($appId IS NULL OR app_id = $appId)
  AND ($policyId IS NULL OR policy_id = $policyId)
  AND ($userGroup IS NULL OR user_group = $userGroup)
`;

/**
 * Who a session belongs to: its user id, or for an anonymous session its
 * client id (one browser profile), as a 64-bit hash. Grouping by the hash is
 * several times faster than by the text. Two of a million users share a hash
 * with a probability of about 3e-8.
 */
export const USER_KEY_SQL = `CASE WHEN user_id IS NULL THEN hash('c', client_id) ELSE hash('u', user_id) END`;

/**
 * Session duration in ms: its end, or for a live session its latest batch or
 * activity, minus its start.
 */
export const DURATION_SQL = `coalesce(ended_at, greatest(last_seen_at, last_activity_at)) - started_at`;

/** Sessions that started in the range and pass the filters, with their bucket index and user key. */
export function sessionsInRangeSql(bucketing: Bucketing): string {
  return `
    SELECT *,
      ${bucketing.indexSql('started_at')} AS bucket,
      ${USER_KEY_SQL} AS user_key,
      ${DURATION_SQL} AS duration_ms
    FROM sessions
    WHERE started_at >= $from AND started_at < $to AND ${FILTER_SQL}
  `;
}

/** Returns the named parameters of a report query. */
export function queryValues(query: ReportQuery): QueryValues {
  return {
    from: query.from,
    to: query.to,
    appId: query.appId ?? null,
    policyId: query.policyId ?? null,
    userGroup: query.userGroup ?? null,
    now: query.now,
  };
}

/** Runs a query with the report's parameters and returns its rows. */
export async function readRows(
  connection: DuckDBConnection,
  sql: string,
  values: QueryValues,
): Promise<Record<string, unknown>[]> {
  const used = Object.fromEntries(
    Object.entries(values).filter(([name]) => sql.includes(`$${name}`)),
  );
  const reader = await connection.runAndReadAll(sql, used);
  return reader.getRowObjectsJS();
}

/** Converts a nullable DuckDB number (such as a quantile of no rows) to a rounded number or null. */
export function toRounded(value: unknown, digits = 0): number | null {
  if (value === null || value === undefined) return null;
  const factor = 10 ** digits;
  return Math.round(toNumber(value) * factor) / factor;
}
