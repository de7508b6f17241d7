import type { ReportQuery } from '../storage/analytics-query.js';
import type { AnalyticsStore } from '../storage/index.js';
import type { Distribution } from '../storage/analytics-distributions.js';
import {
  BOUNCE_ENGAGED_MAX_MS,
  emptyEndReasons,
  type Series,
} from '../storage/analytics-series.js';
import { type Cell, flatten, type Table } from './csv.js';
import { formatBucket } from '../storage/analytics-zoned-time.js';

/** Range, grouping and filters of a report, repeated in its body. */
export interface ReportHeader {
  report: ReportName;
  from: number;
  to: number;
  interval: ReportQuery['interval'];
  timeZone: string;
  filters: { appId: string | null; policyId: string | null; userGroup: string | null };
}

/** One bucket of a time series: its start (epoch ms), its local label and its values. */
export type Bucket<T> = { start: number; label: string } & T;

/** Body of a time series report. */
export type SeriesReport<T> = ReportHeader & { totals: T; buckets: Bucket<T>[] };

/** A report: how to compute its JSON body and how to lay it out as a CSV table. */
export interface ReportDefinition {
  /** One line on what the report measures; `docs/metrics.md` defines each value. */
  summary: string;
  run(store: AnalyticsStore, query: ReportQuery): Promise<object>;
  table(body: object): Table;
}

/** Names of every report, as they appear in `/v1/analytics/:name`. */
export const REPORT_NAMES = [
  'sessions',
  'duration',
  'bounce',
  'end-reasons',
  'concurrency',
  'frequency',
  'interactions',
  'tabs',
] as const;

/** The name of a report. */
export type ReportName = (typeof REPORT_NAMES)[number];

function header(report: ReportName, query: ReportQuery): ReportHeader {
  return {
    report,
    from: query.from,
    to: query.to,
    interval: query.interval,
    timeZone: query.timeZone,
    filters: {
      appId: query.appId ?? null,
      policyId: query.policyId ?? null,
      userGroup: query.userGroup ?? null,
    },
  };
}

/** Builds a series body with every bucket of the range, using `empty` where no session started. */
async function seriesReport<T extends object>(
  name: ReportName,
  store: AnalyticsStore,
  query: ReportQuery,
  series: Series<T>,
  empty: () => T,
): Promise<SeriesReport<T>> {
  const starts = store.listBuckets(query);
  const buckets = starts.map((start) => ({
    start,
    label: formatBucket(start, query.interval, query.timeZone),
    ...(series.buckets.get(start) ?? empty()),
  }));
  return { ...header(name, query), totals: series.total, buckets };
}

/** Lays out a series as one row per bucket and a last row of totals. */
function seriesTable(body: object): Table {
  const { buckets, totals } = body as SeriesReport<object>;
  const totalCells = flatten(totals);
  const columns = ['bucket_start', 'bucket', ...totalCells.map(([key]) => key)];
  const rows: Cell[][] = buckets.map(({ start, label, ...values }) => [
    new Date(start).toISOString(),
    label,
    ...flatten(values).map(([, value]) => value),
  ]);
  rows.push(['', 'total', ...totalCells.map(([, value]) => value)]);
  return { columns, rows };
}

/** Lays out distributions as one row per bin, with a `measure` column naming each. */
function distributionTable(distributions: Record<string, Distribution>): Table {
  const rows: Cell[][] = [];
  for (const [measure, distribution] of Object.entries(distributions)) {
    for (const bin of distribution.bins) {
      rows.push([measure, bin.isOpenEnded ? `${bin.value}+` : bin.value, bin.count]);
    }
  }
  return { columns: ['measure', 'value', 'count'], rows };
}

/** Every report by name. */
export const REPORTS: Record<ReportName, ReportDefinition> = {
  sessions: {
    summary: 'Sessions, unique users, new and returning users per bucket',
    run: async (store, query) => {
      const series = await store.sessionCounts(query);
      const empty = () => ({ sessions: 0, uniqueUsers: 0, newUsers: 0, returningUsers: 0 });
      return seriesReport('sessions', store, query, series, empty);
    },
    table: seriesTable,
  },
  duration: {
    summary: 'Session duration, engaged and idle time per bucket (mean, median, p90)',
    run: async (store, query) => {
      const series = await store.durations(query);
      const none = { meanMs: null, medianMs: null, p90Ms: null };
      const empty = () => ({
        sessions: 0,
        duration: none,
        engaged: { ...none, totalMs: 0 },
        idle: { meanMs: null, totalMs: 0 },
      });
      return seriesReport('duration', store, query, series, empty);
    },
    table: seriesTable,
  },
  bounce: {
    summary: `Ended sessions with under ${BOUNCE_ENGAGED_MAX_MS / 1000} s engaged and at most one page view`,
    run: async (store, query) => {
      const series = await store.bounces(query);
      const empty = () => ({ endedSessions: 0, bounces: 0, rate: null });
      return seriesReport('bounce', store, query, series, empty);
    },
    table: seriesTable,
  },
  'end-reasons': {
    summary: 'Sessions by end reason per bucket, with live for those still running',
    run: async (store, query) => {
      const series = await store.endReasons(query);
      return seriesReport('end-reasons', store, query, series, emptyEndReasons);
    },
    table: seriesTable,
  },
  concurrency: {
    summary: 'Peak live sessions per bucket, live sessions at its end, and the peak of the range',
    run: async (store, query) => {
      const starts = store.listBuckets(query);
      const concurrency = await store.concurrency(query);
      const buckets = starts.map((start) => ({
        start,
        label: formatBucket(start, query.interval, query.timeZone),
        ...(concurrency.buckets.get(start) ?? { peak: 0, liveAtEnd: 0 }),
      }));
      return { ...header('concurrency', query), peak: concurrency.peak, buckets };
    },
    table: (body) => {
      const { buckets, peak } = body as {
        buckets: Bucket<{ peak: number; liveAtEnd: number }>[];
        peak: { sessions: number; at: number | null };
      };
      const rows: Cell[][] = buckets.map((b) => [
        new Date(b.start).toISOString(),
        b.label,
        b.peak,
        b.liveAtEnd,
      ]);
      rows.push([
        peak.at === null ? '' : new Date(peak.at).toISOString(),
        'peak',
        peak.sessions,
        '',
      ]);
      return { columns: ['bucket_start', 'bucket', 'peak', 'live_at_end'], rows };
    },
  },
  frequency: {
    summary: 'Sessions per user per day and per week, as distributions',
    run: async (store, query) => ({
      ...header('frequency', query),
      ...(await store.frequency(query)),
    }),
    table: (body) => {
      const { perDay, perWeek } = body as { perDay: Distribution; perWeek: Distribution };
      return distributionTable({ sessions_per_user_day: perDay, sessions_per_user_week: perWeek });
    },
  },
  interactions: {
    summary: 'Interactions per session by kind of input, and page views per session',
    run: async (store, query) => ({
      ...header('interactions', query),
      ...(await store.interactions(query)),
    }),
    table: (body) => {
      const { interactionsPerSession, pageViewsPerSession } = body as Awaited<
        ReturnType<AnalyticsStore['interactions']>
      >;
      const table = distributionTable({ page_views_per_session: pageViewsPerSession });
      const means = Object.entries(interactionsPerSession).map(([kind, mean]): Cell[] => [
        `mean_interactions_${kind}`,
        mean,
        '',
      ]);
      return { columns: table.columns, rows: [...means, ...table.rows] };
    },
  },
  tabs: {
    summary: 'Maximum tabs open at once per session, as a distribution',
    run: async (store, query) => ({ ...header('tabs', query), maxTabs: await store.tabs(query) }),
    table: (body) => distributionTable({ max_tabs: (body as { maxTabs: Distribution }).maxTabs }),
  },
};
