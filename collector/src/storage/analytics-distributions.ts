import type { DuckDBConnection } from '@duckdb/node-api';
import { ACTIVITY_KINDS, type ActivityKind } from '../../../shared/src/index.js';
import {
  type Bucketing,
  createBucketing,
  FILTER_SQL,
  queryValues,
  readRows,
  type ReportQuery,
  toRounded,
  USER_KEY_SQL,
} from './analytics-query.js';
import { toNumber } from './rows.js';

/**
 * Distributions put every value at or above this into one last bin, so a few
 * extreme sessions do not stretch a chart.
 */
export const DISTRIBUTION_MAX_BIN = 10;

/** One bin of a distribution: `count` items had `value`, or at least `value` when `isOpenEnded`. */
export interface Bin {
  value: number;
  count: number;
  isOpenEnded: boolean;
}

/** Mean, median and bins of a count per item. */
export interface Distribution {
  items: number;
  mean: number | null;
  median: number | null;
  bins: Bin[];
}

/** Sessions per user per day and per week. */
export interface Frequency {
  /** Items are user-days with at least one session. */
  perDay: Distribution;
  /** Items are user-weeks (Monday to Sunday) with at least one session. */
  perWeek: Distribution;
}

/** Interactions and page views per session. */
export interface InteractionStats {
  sessions: number;
  /** Mean interactions per session, in total and by kind of input. */
  interactionsPerSession: { total: number | null } & Record<ActivityKind, number | null>;
  pageViewsPerSession: Distribution;
}

/** Sessions that started in the range, without buckets. */
const SESSIONS_SQL = `
  SELECT * FROM sessions WHERE started_at >= $from AND started_at < $to AND ${FILTER_SQL}
`;

/** Returns the SQL that summarizes an integer column `n` of the rows in `items`. */
function distributionSql(items: string): string {
  return `
    WITH items AS (${items})
    SELECT 'summary' AS kind, NULL AS value, count(*) AS count, avg(n) AS mean,
      quantile_cont(n, 0.5) AS median
    FROM items
    UNION ALL
    SELECT 'bin', least(n, ${DISTRIBUTION_MAX_BIN}) AS value, count(*), NULL, NULL
    FROM items GROUP BY value
  `;
}

async function readDistribution(
  connection: DuckDBConnection,
  items: string,
  query: ReportQuery,
): Promise<Distribution> {
  const rows = await readRows(connection, distributionSql(items), queryValues(query));
  const summary = rows.find((row) => row.kind === 'summary') ?? {};
  const bins = rows
    .filter((row) => row.kind === 'bin')
    .map((row) => {
      const value = toNumber(row.value);
      return { value, count: toNumber(row.count), isOpenEnded: value === DISTRIBUTION_MAX_BIN };
    })
    .sort((a, b) => a.value - b.value);
  return {
    items: toNumber(summary.count),
    mean: toRounded(summary.mean, 2),
    median: toRounded(summary.median, 2),
    bins,
  };
}

/** Computes sessions per user per local day and per local week (weeks start on Monday). */
export async function readFrequency(
  connection: DuckDBConnection,
  query: ReportQuery,
): Promise<Frequency> {
  const perPeriod = (bucketing: Bucketing) => `
    SELECT count(*) AS n
    FROM (${SESSIONS_SQL})
    GROUP BY ${USER_KEY_SQL}, ${bucketing.indexSql('started_at')}
  `;
  return {
    perDay: await readDistribution(connection, perPeriod(createBucketing(query, 'day')), query),
    perWeek: await readDistribution(connection, perPeriod(createBucketing(query, 'week')), query),
  };
}

/** Computes mean interactions by kind and the distribution of page views per session. */
export async function readInteractions(
  connection: DuckDBConnection,
  query: ReportQuery,
): Promise<InteractionStats> {
  const kindColumns = ACTIVITY_KINDS.map((kind) => `avg(interactions_${kind}) AS ${kind}`);
  const sql = `
    SELECT count(*) AS sessions, avg(interactions) AS total, ${kindColumns.join(', ')}
    FROM (${SESSIONS_SQL})
  `;
  const row = (await readRows(connection, sql, queryValues(query)))[0] ?? {};
  const byKind = Object.fromEntries(ACTIVITY_KINDS.map((kind) => [kind, toRounded(row[kind], 2)]));
  const pageViews = `SELECT page_views AS n FROM (${SESSIONS_SQL})`;

  return {
    sessions: toNumber(row.sessions),
    interactionsPerSession: {
      total: toRounded(row.total, 2),
      ...(byKind as Record<ActivityKind, number | null>),
    },
    pageViewsPerSession: await readDistribution(connection, pageViews, query),
  };
}

/** Computes the distribution of the maximum number of tabs a session had open at once. */
export function readTabs(connection: DuckDBConnection, query: ReportQuery): Promise<Distribution> {
  return readDistribution(connection, `SELECT max_tabs AS n FROM (${SESSIONS_SQL})`, query);
}
