import type { DuckDBConnection } from '@duckdb/node-api';
import { END_REASONS, type EndReason } from '../../../shared/src/index.js';
import {
  type Bucketing,
  FILTER_SQL,
  queryValues,
  readRows,
  type ReportQuery,
  sessionsInRangeSql,
  toRounded,
  USER_KEY_SQL,
} from './analytics-query.js';
import { toNumber } from './rows.js';

/** A session is a bounce when it ended with less engaged time than this and at most one page view. */
export const BOUNCE_ENGAGED_MAX_MS = 10_000;

/** Values of one bucket, keyed by bucket start (epoch ms), and of the whole range. */
export interface Series<T> {
  buckets: Map<number, T>;
  total: T;
}

/** Session and user counts of a bucket. */
export interface SessionCounts {
  sessions: number;
  /** Distinct users, counting an anonymous session's client id as its user. */
  uniqueUsers: number;
  /** Users whose first session (under the same filters) started in this bucket. */
  newUsers: number;
  /** Users with a session here whose first session started before this bucket. */
  returningUsers: number;
}

/** Mean, median and 90th percentile in ms; null when there is no session. */
export interface Spread {
  meanMs: number | null;
  medianMs: number | null;
  p90Ms: number | null;
}

/** Duration, engaged and idle time of the sessions of a bucket. */
export interface DurationStats {
  sessions: number;
  duration: Spread;
  engaged: Spread & { totalMs: number };
  idle: { meanMs: number | null; totalMs: number };
}

/** Bounces among the ended sessions of a bucket. */
export interface BounceStats {
  endedSessions: number;
  bounces: number;
  /** Bounces divided by ended sessions, 0 to 1; null without an ended session. */
  rate: number | null;
}

/** Sessions of a bucket by end reason, with `live` for those still running. */
export type EndReasonCounts = Record<EndReason | 'live', number>;

/**
 * Splits rows with a `bucket` index and an `is_total` flag into buckets,
 * keyed by bucket start, and the total.
 */
function toSeries<T>(
  rows: Record<string, unknown>[],
  bucketing: Bucketing,
  convert: (row: Record<string, unknown>) => T,
  empty: T,
): Series<T> {
  const buckets = new Map<number, T>();
  let total = empty;
  for (const row of rows) {
    if (toNumber(row.is_total) === 1) {
      total = convert(row);
      continue;
    }
    const start = bucketing.startOf(toNumber(row.bucket));
    if (start !== undefined) buckets.set(start, convert(row));
  }
  return { buckets, total };
}

/** Counts sessions, unique, new and returning users per bucket. */
export async function readSessionCounts(
  connection: DuckDBConnection,
  query: ReportQuery,
  bucketing: Bucketing,
): Promise<Series<SessionCounts>> {
  const sql = `
    WITH keyed AS MATERIALIZED (
      SELECT ${USER_KEY_SQL} AS user_key, started_at
      FROM sessions
      WHERE started_at < $to AND ${FILTER_SQL}
    ),
    per_user_bucket AS MATERIALIZED (
      SELECT ${bucketing.indexSql('started_at')} AS bucket, user_key, count(*) AS sessions
      FROM keyed
      WHERE started_at >= $from
      GROUP BY ALL
    ),
    first_seen AS MATERIALIZED (
      SELECT user_key, first_at, in_range, ${bucketing.indexSql('first_at')} AS first_bucket
      FROM (
        SELECT user_key, min(started_at) AS first_at,
          count(*) FILTER (WHERE started_at >= $from) AS in_range
        FROM keyed
        GROUP BY user_key
      )
    )
    SELECT 0 AS is_total, p.bucket, sum(p.sessions) AS sessions, count(*) AS unique_users,
      count(*) FILTER (WHERE f.first_bucket >= p.bucket) AS new_users
    FROM per_user_bucket AS p JOIN first_seen AS f ON f.user_key = p.user_key
    GROUP BY p.bucket
    UNION ALL
    SELECT 1, NULL, coalesce(sum(in_range), 0), count(*) FILTER (WHERE in_range > 0),
      count(*) FILTER (WHERE in_range > 0 AND first_at >= $from)
    FROM first_seen
  `;
  const rows = await readRows(connection, sql, queryValues(query));
  const empty: SessionCounts = { sessions: 0, uniqueUsers: 0, newUsers: 0, returningUsers: 0 };

  return toSeries(
    rows,
    bucketing,
    (row) => {
      const uniqueUsers = toNumber(row.unique_users);
      const newUsers = toNumber(row.new_users);
      return {
        sessions: toNumber(row.sessions),
        uniqueUsers,
        newUsers,
        returningUsers: uniqueUsers - newUsers,
      };
    },
    empty,
  );
}

/** Computes duration, engaged and idle time per bucket. */
export async function readDurations(
  connection: DuckDBConnection,
  query: ReportQuery,
  bucketing: Bucketing,
): Promise<Series<DurationStats>> {
  const sql = `
    WITH s AS (${sessionsInRangeSql(bucketing)})
    SELECT bucket, grouping(bucket) AS is_total,
      count(*) AS sessions,
      avg(duration_ms) AS duration_mean,
      quantile_cont(duration_ms, [0.5, 0.9]) AS duration_q,
      avg(engaged_ms) AS engaged_mean,
      quantile_cont(engaged_ms, [0.5, 0.9]) AS engaged_q,
      coalesce(sum(engaged_ms), 0) AS engaged_total,
      avg(idle_ms) AS idle_mean,
      coalesce(sum(idle_ms), 0) AS idle_total
    FROM s
    GROUP BY GROUPING SETS ((bucket), ())
  `;
  const rows = await readRows(connection, sql, queryValues(query));
  const none: Spread = { meanMs: null, medianMs: null, p90Ms: null };
  const empty: DurationStats = {
    sessions: 0,
    duration: none,
    engaged: { ...none, totalMs: 0 },
    idle: { meanMs: null, totalMs: 0 },
  };

  return toSeries(
    rows,
    bucketing,
    (row) => ({
      sessions: toNumber(row.sessions),
      duration: toSpread(row.duration_mean, row.duration_q),
      engaged: {
        ...toSpread(row.engaged_mean, row.engaged_q),
        totalMs: toNumber(row.engaged_total),
      },
      idle: { meanMs: toRounded(row.idle_mean), totalMs: toNumber(row.idle_total) },
    }),
    empty,
  );
}

function toSpread(mean: unknown, quantiles: unknown): Spread {
  const [median, p90] = Array.isArray(quantiles) ? quantiles : [];
  return { meanMs: toRounded(mean), medianMs: toRounded(median), p90Ms: toRounded(p90) };
}

/** Counts bounces among ended sessions per bucket. */
export async function readBounces(
  connection: DuckDBConnection,
  query: ReportQuery,
  bucketing: Bucketing,
): Promise<Series<BounceStats>> {
  const sql = `
    WITH s AS (${sessionsInRangeSql(bucketing)})
    SELECT bucket, grouping(bucket) AS is_total,
      count(*) FILTER (WHERE ended_at IS NOT NULL) AS ended_sessions,
      count(*) FILTER (
        WHERE ended_at IS NOT NULL AND engaged_ms < ${BOUNCE_ENGAGED_MAX_MS} AND page_views <= 1
      ) AS bounces
    FROM s
    GROUP BY GROUPING SETS ((bucket), ())
  `;
  const rows = await readRows(connection, sql, queryValues(query));

  return toSeries(
    rows,
    bucketing,
    (row) => {
      const endedSessions = toNumber(row.ended_sessions);
      const bounces = toNumber(row.bounces);
      const rate = endedSessions === 0 ? null : toRounded(bounces / endedSessions, 4);
      return { endedSessions, bounces, rate };
    },
    { endedSessions: 0, bounces: 0, rate: null },
  );
}

/** Returns zero counts for every end reason and `live`. */
export function emptyEndReasons(): EndReasonCounts {
  const counts = Object.fromEntries(END_REASONS.map((reason) => [reason, 0]));
  return { ...counts, live: 0 } as EndReasonCounts;
}

/** Counts sessions by end reason per bucket. */
export async function readEndReasons(
  connection: DuckDBConnection,
  query: ReportQuery,
  bucketing: Bucketing,
): Promise<Series<EndReasonCounts>> {
  const sql = `
    WITH s AS (${sessionsInRangeSql(bucketing)})
    SELECT bucket, grouping(bucket) AS is_total, coalesce(end_reason, 'live') AS reason,
      count(*) AS sessions
    FROM s
    GROUP BY GROUPING SETS ((bucket, reason), (reason))
  `;
  const rows = await readRows(connection, sql, queryValues(query));

  const series: Series<EndReasonCounts> = { buckets: new Map(), total: emptyEndReasons() };
  for (const row of rows) {
    const isTotal = toNumber(row.is_total) === 1;
    const bucket = bucketing.startOf(toNumber(row.bucket));
    if (!isTotal && bucket === undefined) continue;
    let counts = isTotal ? series.total : series.buckets.get(bucket!);
    if (!counts) {
      counts = emptyEndReasons();
      series.buckets.set(bucket!, counts);
    }
    const reason = String(row.reason) as keyof EndReasonCounts;
    if (reason in counts) counts[reason] = toNumber(row.sessions);
  }
  return series;
}
