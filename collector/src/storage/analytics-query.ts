import type { DuckDBConnection } from '@duckdb/node-api';
import { toNumber } from './rows.js';
import type { ReportInterval } from './analytics-zoned-time.js';

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

/**
 * Returns a one-column table `bucket` of bucket starts. The starts are
 * numbers this process computed, so writing them into the SQL text is safe;
 * a non-integer throws.
 */
export function bucketsSql(starts: readonly number[]): string {
  for (const start of starts) {
    if (!Number.isSafeInteger(start)) throw new Error(`bucket start must be an integer, received ${start}`);
  }
  return `(SELECT unnest([${starts.join(', ')}]::BIGINT[]) AS bucket)`;
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

/**
 * Sessions that started in the range and pass the filters, with the start of
 * their bucket and their user key. The ASOF join finds each session's bucket
 * by its start time; it is much faster than a per-row time zone conversion.
 */
export function sessionsInRangeSql(bucketStarts: readonly number[]): string {
  return `
    SELECT s.*, b.bucket,
      ${USER_KEY_SQL} AS user_key,
      ${DURATION_SQL} AS duration_ms
    FROM sessions AS s ASOF JOIN ${bucketsSql(bucketStarts)} AS b ON s.started_at >= b.bucket
    WHERE s.started_at >= $from AND s.started_at < $to AND ${FILTER_SQL}
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
