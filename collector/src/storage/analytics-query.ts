import type { DuckDBConnection } from '@duckdb/node-api';
import { toNumber } from './rows.js';

/** Width of one time bucket of a report. */
export type ReportInterval = 'hour' | 'day';

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

/** DuckDB interval literals; the key is validated, so the SQL text never holds client input. */
const INTERVAL_SQL: Record<ReportInterval, string> = {
  hour: "INTERVAL '1 hour'",
  day: "INTERVAL '1 day'",
};

/** Returns the SQL expression of the bucket start (epoch ms) of an epoch-ms column. */
export function bucketSql(interval: ReportInterval, column: string): string {
  return `epoch_ms(time_bucket(${INTERVAL_SQL[interval]}, make_timestamptz(${column}::BIGINT * 1000), $timeZone))`;
}

/** Conditions of the app, policy and user group filters; every `$` value comes from `queryValues`. */
export const FILTER_SQL = `
  ($appId IS NULL OR app_id = $appId)
  AND ($policyId IS NULL OR policy_id = $policyId)
  AND ($userGroup IS NULL OR user_group = $userGroup)
`;

/**
 * Who a session belongs to: its user id, or for an anonymous session its
 * client id (one browser profile). The prefixes keep the two apart.
 */
export const USER_KEY_SQL = `coalesce('u:' || user_id, 'c:' || client_id)`;

/**
 * Session duration in ms: its end, or for a live session its latest batch or
 * activity, minus its start.
 */
export const DURATION_SQL = `coalesce(ended_at, greatest(last_seen_at, last_activity_at)) - started_at`;

/** Sessions that started in the range and pass the filters, with their bucket and user key. */
export function sessionsInRangeSql(interval: ReportInterval): string {
  return `
    SELECT *,
      ${bucketSql(interval, 'started_at')} AS bucket,
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
    timeZone: query.timeZone,
    appId: query.appId ?? null,
    policyId: query.policyId ?? null,
    userGroup: query.userGroup ?? null,
    now: query.now,
  };
}

/**
 * Lists the start (epoch ms) of every bucket that overlaps [from, to), in
 * order. Points one hour apart from `from`, plus the last millisecond, hit
 * every hour and day bucket at least once, also on days that DST makes 23 or
 * 25 hours long.
 */
export async function listBuckets(
  connection: DuckDBConnection,
  query: ReportQuery,
): Promise<number[]> {
  const sql = `
    WITH points AS (
      SELECT unnest(range($from::BIGINT, $to::BIGINT, 3600000)) AS ms
      UNION ALL SELECT $to::BIGINT - 1
    )
    SELECT DISTINCT ${bucketSql(query.interval, 'ms')} AS bucket FROM points ORDER BY bucket
  `;
  const values = { from: query.from, to: query.to, timeZone: query.timeZone };
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJS().map((row) => toNumber(row.bucket));
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
