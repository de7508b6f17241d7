import type { DuckDBConnection } from '@duckdb/node-api';
import { END_REASONS, type EndReason } from '../../../shared/src/index.js';
import { toNumber } from './rows.js';

/** Session metrics over the sessions that started in [from, to). Every value is a JSON number. */
export interface AnalyticsSummary {
  /** Start of the range, epoch ms, inclusive. */
  from: number;
  /** End of the range, epoch ms, exclusive. */
  to: number;
  sessions: number;
  /** Distinct user ids, counting the client id of sessions without a user id. */
  uniqueUsers: number;
  /** Session durations, interpolated percentiles (DuckDB `quantile_cont`). */
  duration: { medianMs: number; p90Ms: number };
  engagedMs: { total: number; perSession: number };
  idleMs: { total: number; perSession: number };
  interactionsPerSession: number;
  /** Mean of the maximum number of tabs open at once. */
  tabsPerSession: number;
  /** Ended sessions by end reason; live sessions are not counted. */
  endReasons: Record<EndReason, number>;
}

/**
 * Duration of a session: its end, or for a live session the server time of its
 * latest batch, minus its start. Idle ends sit one idle timeout after the last
 * activity, so an idle tail counts in both the duration and `idle_ms`.
 */
const SESSIONS_IN_RANGE = `
  SELECT *, coalesce(ended_at, greatest(last_seen_at, last_activity_at)) - started_at AS duration_ms
  FROM sessions
  WHERE started_at >= $from AND started_at < $to
`;

const TOTALS_SQL = `
  SELECT
    count(*) AS sessions,
    count(DISTINCT coalesce('user:' || user_id, 'client:' || client_id)) AS unique_users,
    coalesce(quantile_cont(duration_ms, 0.5), 0) AS median_ms,
    coalesce(quantile_cont(duration_ms, 0.9), 0) AS p90_ms,
    coalesce(sum(engaged_ms), 0) AS engaged_total,
    coalesce(avg(engaged_ms), 0) AS engaged_mean,
    coalesce(sum(idle_ms), 0) AS idle_total,
    coalesce(avg(idle_ms), 0) AS idle_mean,
    coalesce(avg(interactions), 0) AS interactions_mean,
    coalesce(avg(max_tabs), 0) AS tabs_mean
  FROM (${SESSIONS_IN_RANGE})
`;

const END_REASONS_SQL = `
  SELECT end_reason, count(*) AS sessions
  FROM (${SESSIONS_IN_RANGE})
  WHERE end_reason IS NOT NULL
  GROUP BY end_reason
`;

/** Computes the session summary over sessions that started in [from, to). */
export async function summarizeSessions(
  connection: DuckDBConnection,
  from: number,
  to: number,
): Promise<AnalyticsSummary> {
  const range = { from, to };
  const totals = (await connection.runAndReadAll(TOTALS_SQL, range)).getRowObjectsJS()[0] ?? {};
  const reasons = (await connection.runAndReadAll(END_REASONS_SQL, range)).getRowObjectsJS();

  const endReasons = Object.fromEntries(END_REASONS.map((reason) => [reason, 0])) as Record<
    EndReason,
    number
  >;
  for (const row of reasons) {
    const reason = String(row.end_reason) as EndReason;
    if (reason in endReasons) endReasons[reason] = toNumber(row.sessions);
  }

  return {
    from,
    to,
    sessions: toNumber(totals.sessions),
    uniqueUsers: toNumber(totals.unique_users),
    duration: {
      medianMs: Math.round(toNumber(totals.median_ms)),
      p90Ms: Math.round(toNumber(totals.p90_ms)),
    },
    engagedMs: {
      total: toNumber(totals.engaged_total),
      perSession: Math.round(toNumber(totals.engaged_mean)),
    },
    idleMs: {
      total: toNumber(totals.idle_total),
      perSession: Math.round(toNumber(totals.idle_mean)),
    },
    interactionsPerSession: roundTo(toNumber(totals.interactions_mean), 2),
    tabsPerSession: roundTo(toNumber(totals.tabs_mean), 2),
    endReasons,
  };
}

function roundTo(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
