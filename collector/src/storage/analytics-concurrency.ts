import type { DuckDBConnection } from '@duckdb/node-api';
import {
  type Bucketing,
  FILTER_SQL,
  queryValues,
  readRows,
  type ReportQuery,
} from './analytics-query.js';
import { toNumber } from './rows.js';

/** Concurrency is sampled at every whole minute (UTC), in ms. */
export const CONCURRENCY_SAMPLE_MS = 60_000;

/** Live sessions during one bucket. */
export interface BucketConcurrency {
  /** Maximum number of sessions live at one sampled minute, or at `now`, within the bucket. */
  peak: number;
  /** Sessions live at the last sampled minute of the bucket (or of the range). */
  liveAtEnd: number;
}

/** Live sessions over the range. */
export interface Concurrency {
  buckets: Map<number, BucketConcurrency>;
  /**
   * Maximum number of sessions live at one sampled minute in the range, and
   * its first minute, or `now` when more are live at that moment.
   */
  peak: { sessions: number; at: number | null };
}

/**
 * Number of live sessions at every whole minute of the range where it
 * changes, reduced per bucket. A session is live from its start until its end
 * (a live one until `now`), so it counts at minute m when start <= m < end.
 * It adds 1 at the first minute at or after its start and removes 1 at the
 * first minute at or after its end. So a session that starts and ends between
 * two whole minutes is never counted. Sessions that started before the range
 * count from `from`. The running sum needs one sort of the changed minutes,
 * about 43,000 rows for 30 days, instead of one of every start and end.
 */
function levelsSql(bucketing: Bucketing): string {
  const minute = CONCURRENCY_SAMPLE_MS;
  return `
    WITH s AS (
      SELECT greatest(started_at, $from) AS start_at, coalesce(ended_at, $now) AS end_at
      FROM sessions
      WHERE started_at < $to AND coalesce(ended_at, $now) > $from AND ${FILTER_SQL}
    ),
    changes AS (
      SELECT (start_at + ${minute - 1}) // ${minute} AS minute, 1 AS delta FROM s
      UNION ALL
      SELECT (end_at + ${minute - 1}) // ${minute}, -1 FROM s WHERE end_at < $to
    ),
    per_minute AS (
      SELECT minute, sum(delta) AS delta FROM changes GROUP BY minute
    ),
    levels AS (
      SELECT minute, sum(delta) OVER (ORDER BY minute ROWS UNBOUNDED PRECEDING) AS level
      FROM per_minute
    )
    SELECT ${bucketing.indexSql(`minute * ${minute}`)} AS bucket,
      max(level) AS peak,
      first(minute ORDER BY level DESC, minute) AS peak_minute,
      last(level ORDER BY minute) AS last_level
    FROM levels
    WHERE minute * ${minute} < $to
    GROUP BY bucket
  `;
}

/**
 * Returns the SQL of the bucket index of `now` and the number of sessions
 * live then. It counts sessions that started after the last whole minute,
 * which the minute samples reach only at the next minute.
 */
function liveNowSql(bucketing: Bucketing): string {
  return `
    SELECT ${bucketing.indexSql('$now')} AS bucket, count(*) AS live
    FROM sessions
    WHERE started_at <= $now AND coalesce(ended_at, $now + 1) > $now AND ${FILTER_SQL}
  `;
}

/** Computes the live session count per bucket and its peak over the range. */
export async function readConcurrency(
  connection: DuckDBConnection,
  query: ReportQuery,
  bucketing: Bucketing,
): Promise<Concurrency> {
  const concurrency = await readMinuteLevels(connection, query, bucketing);
  if (query.from <= query.now && query.now < query.to) {
    const [row] = await readRows(connection, liveNowSql(bucketing), queryValues(query));
    const start = row ? bucketing.startOf(toNumber(row.bucket)) : undefined;
    const bucket = start === undefined ? undefined : concurrency.buckets.get(start);
    const live = toNumber(row?.live);
    if (bucket) bucket.peak = Math.max(bucket.peak, live);
    if (live > concurrency.peak.sessions) concurrency.peak = { sessions: live, at: query.now };
  }
  return concurrency;
}

/** Computes the live session count per bucket and its peak at the whole minutes of the range. */
async function readMinuteLevels(
  connection: DuckDBConnection,
  query: ReportQuery,
  bucketing: Bucketing,
): Promise<Concurrency> {
  const rows = await readRows(connection, levelsSql(bucketing), queryValues(query));
  const byStart = new Map<number, Record<string, unknown>>();
  for (const row of rows) {
    const start = bucketing.startOf(toNumber(row.bucket));
    if (start !== undefined) byStart.set(start, row);
  }

  const buckets = new Map<number, BucketConcurrency>();
  const peak: Concurrency['peak'] = { sessions: 0, at: null };
  // A bucket without a change keeps the level the previous bucket ended with.
  let level = 0;
  for (const start of bucketing.starts) {
    const row = byStart.get(start);
    let bucketPeak = level;
    if (row) {
      const rowPeak = toNumber(row.peak);
      if (rowPeak > peak.sessions) {
        peak.sessions = rowPeak;
        peak.at = toNumber(row.peak_minute) * CONCURRENCY_SAMPLE_MS;
      }
      bucketPeak = Math.max(level, rowPeak);
      level = toNumber(row.last_level);
    }
    buckets.set(start, { peak: bucketPeak, liveAtEnd: level });
  }
  return { buckets, peak };
}
