import type { DuckDBConnection } from '@duckdb/node-api';
import { FILTER_SQL, queryValues, readRows, type ReportQuery } from './analytics-query.js';
import { toNumber } from './rows.js';

/**
 * Length of the slots the level is first reduced to, in ms. Every time zone
 * in use today is offset from UTC by a multiple of 15 minutes, so each slot
 * lies inside exactly one hour or day bucket.
 */
const SLOT_MS = 15 * 60_000;

/** Live sessions during one bucket. */
export interface BucketConcurrency {
  /** Maximum number of sessions live at the same moment within the bucket. */
  peak: number;
  /** Sessions live at the end of the bucket (or at the end of the range). */
  liveAtEnd: number;
}

/** Live sessions over the range. */
export interface Concurrency {
  buckets: Map<number, BucketConcurrency>;
  /** Maximum number of sessions live at the same moment in the range, and its first moment. */
  peak: { sessions: number; at: number | null };
}

/**
 * Every change of the number of live sessions in the range, reduced to
 * 15-minute slots. A session is live from its start until its end (a live
 * one until `now`). Sessions that started before the range count from
 * `from`. Changes at the same millisecond are summed first, so a session that
 * ends as another starts does not count twice.
 */
const SLOTS_SQL = `
  WITH s AS (
    SELECT greatest(started_at, $from) AS start_at, coalesce(ended_at, $now) AS end_at
    FROM sessions
    WHERE started_at < $to AND coalesce(ended_at, $now) > $from AND ${FILTER_SQL}
  ),
  changes AS (
    SELECT start_at AS change_at, 1 AS delta FROM s
    UNION ALL
    SELECT end_at, -1 FROM s WHERE end_at < $to
  ),
  levels AS (
    SELECT change_at, sum(sum(delta)) OVER (ORDER BY change_at ROWS UNBOUNDED PRECEDING) AS level
    FROM changes
    GROUP BY change_at
  )
  SELECT change_at // ${SLOT_MS} AS slot,
    max(level) AS max_level,
    first(change_at ORDER BY level DESC, change_at) AS peak_at,
    last(level ORDER BY change_at) AS last_level
  FROM levels
  GROUP BY slot
  ORDER BY slot
`;

/** Computes the live session count per bucket and its peak over the range. */
export async function readConcurrency(
  connection: DuckDBConnection,
  query: ReportQuery,
  bucketStarts: readonly number[],
): Promise<Concurrency> {
  const slots = await readRows(connection, SLOTS_SQL, queryValues(query));
  const buckets = new Map<number, BucketConcurrency>();
  const peak: Concurrency['peak'] = { sessions: 0, at: null };

  let level = 0;
  let slotIndex = 0;
  bucketStarts.forEach((start, index) => {
    const end = bucketStarts[index + 1] ?? Number.POSITIVE_INFINITY;
    let bucketPeak = level;
    for (; slotIndex < slots.length; slotIndex += 1) {
      const slot = slots[slotIndex]!;
      const slotStart = toNumber(slot.slot) * SLOT_MS;
      if (slotStart >= end) break;

      const maxLevel = toNumber(slot.max_level);
      bucketPeak = Math.max(bucketPeak, maxLevel);
      if (maxLevel > peak.sessions) {
        peak.sessions = maxLevel;
        peak.at = toNumber(slot.peak_at);
      }
      level = toNumber(slot.last_level);
    }
    buckets.set(start, { peak: bucketPeak, liveAtEnd: level });
  });
  return { buckets, peak };
}
