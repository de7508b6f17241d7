/**
 * Fills a collector database with synthetic sessions for demos and report
 * benchmarks: many users (a few heavy, most light), anonymous visitors,
 * three apps, user groups, several tabs, idle gaps, live sessions and every
 * end reason. Rows are generated inside DuckDB with INSERT ... SELECT over
 * range(), in chunks, and the session aggregates (engaged and idle time, page
 * views, interactions by kind) are computed from the generated events with
 * the collector's rules, so reports over them are consistent.
 *
 * Usage: npm run seed-demo -- --events 1000000 [--database path] [--days 30] [--users N]
 * Stop the collector first: DuckDB lets one process open the file.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { runMigrations } from '../collector/src/storage/migrations.js';
import { canonicalPath, isLockConflict, lockDatabase } from '../collector/src/storage/database-lock.js';
import { ENGAGED_GAP_MAX_MS } from '../collector/src/session-rules.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Idle timeout the seeded sessions ran under: the collector's default, 30 min. */
const IDLE_TIMEOUT_MS = 30 * MINUTE_MS;
/** Absolute timeout the seeded sessions ran under: the collector's default, 12 h. */
const ABSOLUTE_TIMEOUT_MS = 12 * HOUR_MS;
/** Mean events per session, which puts 500,000 sessions in 10 million events. */
const MEAN_EVENTS_PER_SESSION = 20;
/** Share of sessions that are short visits of three events: start, page view and end. */
const SHORT_SHARE = 0.125;
/**
 * Scale of the exponential event count of the other sessions. The floor takes
 * 0.5 off its mean, so this makes the mean over all sessions
 * MEAN_EVENTS_PER_SESSION.
 */
const EVENT_COUNT_SCALE = (MEAN_EVENTS_PER_SESSION - SHORT_SHARE * 3) / (1 - SHORT_SHARE) - 2.5;
/** Sessions generated per INSERT, about 500,000 events. */
const CHUNK_SESSIONS = 25_000;

/** Options of `seedDemo`. */
export interface SeedOptions {
  databasePath: string;
  /** Approximate number of events to create; sessions are events / 20. */
  events: number;
  /** Sessions start within this many days before `now`. @default 30 */
  days?: number;
  /** Distinct identified users. @default sessions / 8, at least 10 */
  users?: number;
  /** End of the generated period, epoch ms. @default Date.now() */
  now?: number;
  /** Called after each chunk with the totals so far. */
  onProgress?: (progress: SeedProgress) => void;
}

/** Totals of a seed run so far. */
export interface SeedProgress {
  sessions: number;
  events: number;
  totalSessions: number;
  elapsedMs: number;
}

function checkOptions(options: SeedOptions): Required<Omit<SeedOptions, 'onProgress'>> {
  const days = options.days ?? 30;
  if (!Number.isInteger(options.events) || options.events < 100 || options.events > 100_000_000) {
    throw new Error(
      `--events must be an integer from 100 to 100000000, received ${options.events}`,
    );
  }
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    throw new Error(`--days must be an integer from 1 to 365, received ${days}`);
  }
  const sessions = Math.max(1, Math.round(options.events / MEAN_EVENTS_PER_SESSION));
  const users = options.users ?? Math.max(10, Math.round(sessions / 8));
  if (!Number.isInteger(users) || users < 1) {
    throw new Error(`--users must be a positive integer, received ${options.users}`);
  }
  return {
    databasePath: options.databasePath,
    events: options.events,
    days,
    users,
    now: options.now ?? Date.now(),
  };
}

/**
 * Session attributes, one row per `i` of the chunk. `rnd(i, k)` is a uniform
 * value in [0, 1) that depends only on the run, `i` and `k`.
 */
function sessionsSql(
  lo: number,
  hi: number,
  run: string,
  o: ReturnType<typeof checkOptions>,
): string {
  const periodStart = Math.floor((o.now - o.days * DAY_MS) / DAY_MS) * DAY_MS;
  return `
    CREATE OR REPLACE TEMP TABLE seed_sessions AS
    WITH base AS (
      SELECT i, rnd(i, 1) AS r_user, rnd(i, 2) AS r_anon, rnd(i, 3) AS r_app, rnd(i, 4) AS r_day,
        rnd(i, 5) AS r_busy, rnd(i, 6) AS r_hour, rnd(i, 7) AS r_len, rnd(i, 8) AS r_tabs,
        rnd(i, 9) AS r_end, rnd(i, 10) AS r_browser, rnd(i, 11) AS r_live, rnd(i, 12) AS r_short
      FROM range(${lo}, ${hi}) AS t(i)
    ),
    timed AS (
      SELECT *,
        ${periodStart} + floor(r_day * ${o.days + 1})::BIGINT * ${DAY_MS}
          -- Office hours are busier: 70% of sessions start between 07:00 and 18:00 UTC.
          + floor(CASE WHEN r_busy < 0.7 THEN 7 + 11 * r_hour ELSE 24 * r_hour END * ${HOUR_MS})::BIGINT
          AS planned_start
      FROM base
    ),
    shaped AS (
      SELECT *,
        CASE WHEN r_anon < 0.2 THEN NULL ELSE floor(${o.users} * r_user * r_user)::BIGINT END AS user_index,
        -- A start planned later today moves to the first day of the period, so no session
        -- starts in the future.
        CASE WHEN planned_start > ${o.now - 5 * MINUTE_MS} THEN planned_start - ${o.days * DAY_MS}
          ELSE planned_start END AS started_at
      FROM timed
    ),
    ended AS (
      SELECT *,
        -- Most sessions that started in the last 90 minutes are still live.
        CASE
          WHEN started_at > ${o.now - 90 * MINUTE_MS} AND r_live < 0.6 THEN NULL
          WHEN r_end < 0.45 THEN 'idle'
          WHEN r_end < 0.70 THEN 'closed'
          WHEN r_end < 0.85 THEN 'logout'
          WHEN r_end < 0.88 THEN 'absolute'
          WHEN r_end < 0.93 THEN 'terminated'
          WHEN r_end < 0.97 THEN 'evicted'
          ELSE 'disabled'
        END AS end_reason
      FROM shaped
    )
    SELECT i,
      'seed-${run}-' || i AS id,
      CASE WHEN r_app < 0.6 THEN 'shop-web' WHEN r_app < 0.85 THEN 'admin-portal' ELSE 'support-desk' END AS app_id,
      CASE WHEN user_index IS NULL THEN 'client-${run}-' || i
        ELSE 'client-u' || user_index || '-' || (r_browser < 0.3)::INTEGER END AS client_id,
      CASE WHEN user_index IS NULL THEN NULL ELSE 'user-' || user_index END AS user_id,
      CASE WHEN user_index IS NULL THEN NULL WHEN user_index % 10 < 6 THEN 'customers'
        WHEN user_index % 10 < 9 THEN 'staff' ELSE 'partners' END AS user_group,
      CASE WHEN user_index % 10 = 9 THEN 'policy-partners' ELSE NULL END AS policy_id,
      end_reason,
      r_short < ${SHORT_SHARE} AS is_short,
      CASE WHEN r_short < ${SHORT_SHARE} THEN 3
        ELSE 3 + least(floor(-ln(1 - r_len * 0.999) * ${EVENT_COUNT_SCALE}), 400)::INTEGER
      END AS n,
      CASE WHEN r_tabs < 0.6 THEN 1 WHEN r_tabs < 0.85 THEN 2 WHEN r_tabs < 0.95 THEN 3
        ELSE 4 + floor((r_tabs - 0.95) * 60)::INTEGER END AS tabs,
      started_at
    FROM ended
  `;
}

/** Events of the chunk's sessions, timed by cumulative gaps: mostly seconds, sometimes minutes idle. */
function eventsSql(o: ReturnType<typeof checkOptions>): string {
  return `
    CREATE OR REPLACE TEMP TABLE seed_events AS
    WITH e AS (
      SELECT s.*, k,
        rnd(s.i * 1000 + k, 21) AS r_type, rnd(s.i * 1000 + k, 22) AS r_gap,
        rnd(s.i * 1000 + k, 23) AS r_kind, rnd(s.i * 1000 + k, 24) AS r_count
      FROM seed_sessions AS s, range(s.n) AS t(k)
    ),
    typed AS (
      SELECT *,
        CASE
          WHEN k = 0 THEN 'session_start'
          WHEN k = 1 THEN 'page_view'
          WHEN k = n - 1 AND end_reason = 'logout' THEN 'session_end'
          WHEN k = n - 1 AND end_reason = 'idle' THEN 'idle'
          WHEN k = n - 1 AND end_reason = 'closed' THEN 'tab_closed'
          WHEN k = n - 2 AND end_reason = 'idle' THEN 'activity'
          WHEN r_type < 0.70 THEN 'activity'
          WHEN r_type < 0.82 THEN 'page_view'
          WHEN r_type < 0.92 THEN 'heartbeat'
          WHEN r_type < 0.95 THEN 'tab_opened'
          WHEN r_type < 0.97 THEN 'tab_closed'
          ELSE 'custom'
        END AS type,
        CASE
          WHEN k = 0 THEN 0
          WHEN k = n - 1 AND end_reason = 'idle' THEN ${IDLE_TIMEOUT_MS}
          WHEN is_short THEN 1000 + floor(r_gap * 8000)::BIGINT
          WHEN r_gap < 0.08 THEN 90000 + floor(r_gap / 0.08 * 510000)::BIGINT
          ELSE 1000 + floor(r_gap * 40000)::BIGINT
        END AS gap_ms
      FROM e
    ),
    timed AS (
      SELECT *, least(started_at + sum(gap_ms) OVER (PARTITION BY id ORDER BY k), ${o.now - 1000}) AS ts
      FROM typed
    )
    SELECT id AS session_id, k, ts, app_id, type,
      'tab-' || i || '-' || (k % tabs) AS tab_id,
      CASE WHEN r_kind < 0.5 THEN 'pointer' WHEN r_kind < 0.7 THEN 'key' WHEN r_kind < 0.9 THEN 'scroll'
        WHEN r_kind < 0.95 THEN 'touch' WHEN r_kind < 0.98 THEN 'visibility' ELSE 'focus' END AS kind,
      1 + floor(r_count * 20)::INTEGER AS count,
      CASE type
        WHEN 'session_start' THEN json_object('tabs', 1)
        WHEN 'page_view' THEN json_object('url', 'https://' || app_id || '.example/'
          || ['', 'products', 'cart', 'orders', 'search', 'account', 'reports'][1 + floor(r_count * 7)::INTEGER])
        WHEN 'heartbeat' THEN json_object('tabs', tabs)
        WHEN 'tab_opened' THEN json_object('tabs', tabs)
        WHEN 'tab_closed' THEN json_object('tabs', CASE WHEN k = n - 1 THEN 0 ELSE tabs - 1 END)
        WHEN 'custom' THEN json_object('name', ['add_to_cart', 'checkout', 'search', 'export_report'][1 + floor(r_count * 4)::INTEGER])
        WHEN 'idle' THEN json_object('idleTimeoutMs', ${IDLE_TIMEOUT_MS})
        WHEN 'session_end' THEN json_object('reason', 'logout')
      END AS data
    FROM timed
  `;
}

const INSERT_EVENTS_SQL = `
  INSERT INTO events (id, session_id, tab_id, app_id, type, client_ts, ts, received_at, data)
  SELECT session_id || '-' || k, session_id, tab_id, app_id, type, ts, ts, ts + 150,
    CASE WHEN type = 'activity' THEN json_object('kind', kind, 'count', count) ELSE data END
  FROM seed_events
`;

/**
 * Session rows from their events, by the collector's rules. A gap of at most
 * ENGAGED_GAP_MAX_MS between activity timestamps is engaged time and a longer
 * one is idle time. An idle end adds the idle timeout as idle time.
 */
function insertSessionsSql(): string {
  const kinds = ['pointer', 'key', 'scroll', 'touch', 'visibility', 'focus'];
  const kindSums = kinds.map(
    (kind) =>
      `coalesce(sum(count) FILTER (WHERE type = 'activity' AND kind = '${kind}'), 0) AS i_${kind}`,
  );
  return `
    INSERT INTO sessions (id, app_id, client_id, user_id, user_group, started_at, last_activity_at,
      last_seen_at, ended_at, end_reason, end_note, tabs_now, max_tabs, interactions, page_views,
      engaged_ms, idle_ms, event_count, idle_timeout_ms, absolute_timeout_ms, created_at, updated_at,
      policy_id, interactions_pointer, interactions_key, interactions_scroll, interactions_touch,
      interactions_visibility, interactions_focus)
    WITH activity AS (
      SELECT session_id, ts - lag(ts) OVER (PARTITION BY session_id ORDER BY ts, k) AS gap, ts
      FROM seed_events
      WHERE type IN ('session_start', 'activity', 'page_view', 'session_end')
    ),
    spans AS (
      SELECT session_id, max(ts) AS last_activity_at,
        coalesce(sum(gap) FILTER (WHERE gap <= ${ENGAGED_GAP_MAX_MS}), 0) AS engaged_ms,
        coalesce(sum(gap) FILTER (WHERE gap > ${ENGAGED_GAP_MAX_MS}), 0) AS idle_ms
      FROM activity GROUP BY session_id
    ),
    counts AS (
      SELECT session_id, count(*) AS event_count, max(ts) AS last_ts,
        count(*) FILTER (WHERE type = 'page_view') AS page_views,
        coalesce(sum(count) FILTER (WHERE type = 'activity'), 0) AS interactions,
        ${kindSums.join(',\n        ')}
      FROM seed_events GROUP BY session_id
    ),
    ends AS (
      SELECT s.*, sp.last_activity_at, sp.engaged_ms, sp.idle_ms, c.*,
        CASE WHEN s.end_reason IS NULL THEN NULL
          WHEN s.end_reason = 'idle' THEN sp.last_activity_at + ${IDLE_TIMEOUT_MS}
          ELSE c.last_ts END AS ended_at
      FROM seed_sessions AS s JOIN spans AS sp ON sp.session_id = s.id JOIN counts AS c ON c.session_id = s.id
    )
    SELECT id, app_id, client_id, user_id, user_group, started_at, last_activity_at, last_ts,
      ended_at, end_reason, NULL, CASE WHEN ended_at IS NULL THEN tabs ELSE 0 END, tabs,
      interactions, page_views,
      engaged_ms + CASE WHEN ended_at IS NOT NULL AND end_reason <> 'idle'
        AND ended_at - last_activity_at <= ${ENGAGED_GAP_MAX_MS} THEN ended_at - last_activity_at ELSE 0 END,
      idle_ms + CASE WHEN ended_at IS NOT NULL AND (end_reason = 'idle'
        OR ended_at - last_activity_at > ${ENGAGED_GAP_MAX_MS}) THEN ended_at - last_activity_at ELSE 0 END,
      event_count, ${IDLE_TIMEOUT_MS},
      CASE WHEN end_reason = 'absolute' THEN greatest(ended_at - started_at, ${MINUTE_MS}) ELSE ${ABSOLUTE_TIMEOUT_MS} END,
      started_at, coalesce(ended_at, last_ts), policy_id,
      i_pointer, i_key, i_scroll, i_touch, i_visibility, i_focus
    FROM ends
  `;
}

async function defineRandom(connection: DuckDBConnection, run: string): Promise<void> {
  const runHash = Number.parseInt(run, 36);
  await connection.run(
    `CREATE OR REPLACE TEMP MACRO rnd(i, k) AS (hash(i, k, ${runHash}) % 1000000007)::DOUBLE / 1000000007`,
  );
}

/** Generates the sessions and events into the database and returns the totals. */
export async function seedDemo(options: SeedOptions): Promise<SeedProgress> {
  const o = checkOptions(options);
  const totalSessions = Math.max(1, Math.round(o.events / MEAN_EVENTS_PER_SESSION));
  const run = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  const started = Date.now();

  await mkdir(dirname(resolve(o.databasePath)), { recursive: true });
  // Takes the collector's lock file, because a running collector releases DuckDB's lock while it reopens the file.
  const lock = await lockDatabase(await canonicalPath(o.databasePath)).catch((error: Error) => {
    if (!isLockConflict(error.cause)) throw error;
    const message = `Another collector holds ${resolve(o.databasePath)}; stop it, or seed another file with --database`;
    throw new Error(message, { cause: error });
  });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(resolve(o.databasePath));
  } catch (error) {
    lock.closeSync();
    throw error;
  }
  const connection = await instance.connect();
  try {
    await runMigrations(connection);
    await defineRandom(connection, run);
    const progress: SeedProgress = { sessions: 0, events: 0, totalSessions, elapsedMs: 0 };
    for (let lo = 0; lo < totalSessions; lo += CHUNK_SESSIONS) {
      const hi = Math.min(totalSessions, lo + CHUNK_SESSIONS);
      await connection.run(sessionsSql(lo, hi, run, o));
      await connection.run(eventsSql(o));
      await connection.run('BEGIN TRANSACTION');
      await connection.run(INSERT_EVENTS_SQL);
      await connection.run(insertSessionsSql());
      await connection.run('COMMIT');

      const counted = await connection.runAndReadAll('SELECT count(*) AS n FROM seed_events');
      progress.sessions = hi;
      progress.events += Number(counted.getRowObjectsJS()[0]?.n ?? 0);
      progress.elapsedMs = Date.now() - started;
      options.onProgress?.({ ...progress });
    }
    await connection.run('CHECKPOINT');
    return progress;
  } finally {
    connection.closeSync();
    instance.closeSync();
    lock.closeSync();
  }
}

/** Draws a progress bar on stderr, overwriting the previous one. */
function drawProgress(progress: SeedProgress): void {
  const share = progress.sessions / progress.totalSessions;
  const width = 30;
  const filled = Math.round(share * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const seconds = (progress.elapsedMs / 1000).toFixed(1);
  process.stderr.write(
    `\r[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ${progress.events.toLocaleString('en-US')} events, ` +
      `${progress.sessions.toLocaleString('en-US')} sessions, ${seconds} s`,
  );
}

const USAGE = `Usage: npm run seed-demo -- [--events 100000] [--database path] [--days 30] [--users N]

Fills a collector database (default DATABASE_PATH or ./data/process-sessions.duckdb) with
about --events synthetic events, spread over the last --days days, from --users distinct
user ids (default: one for every 8 sessions). Stop the collector first: DuckDB lets one
process open the file.`;

/** Reads a numeric option, naming it and its text when the text is not a number. */
function toNumber(name: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new Error(`--${name} must be a number, received "${raw}"`);
  }
  return value;
}

async function main(): Promise<void> {
  // The demo data is personal data in form, and the collector warns about a
  // database file others can read, so new files are the user's alone, as in main.ts.
  process.umask(0o077);
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '100000' },
      database: { type: 'string' },
      days: { type: 'string', default: '30' },
      users: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const databasePath =
    values.database ?? process.env.DATABASE_PATH ?? './data/process-sessions.duckdb';
  const result = await seedDemo({
    databasePath,
    events: toNumber('events', values.events),
    days: toNumber('days', values.days),
    ...(values.users === undefined ? {} : { users: toNumber('users', values.users) }),
    onProgress: drawProgress,
  });
  process.stderr.write('\n');
  console.log(
    `Seeded ${result.events} events in ${result.sessions} sessions into ${resolve(databasePath)} ` +
      `in ${(result.elapsedMs / 1000).toFixed(1)} s`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    const { message, code } = error as NodeJS.ErrnoException;
    const hint = code?.startsWith('ERR_PARSE_ARGS')
      ? `\n${USAGE}`
      : /lock on file|Another collector holds/.test(message)
        ? '\nStop the collector that has the file open, then retry.'
        : '';
    process.stderr.write(`\nseed-demo failed: ${message}${hint}\n`);
    process.exit(1);
  });
}
