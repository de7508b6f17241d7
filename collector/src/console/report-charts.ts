import type { Bucket, SeriesReport } from '../analytics/reports.js';
import type {
  Bin,
  Distribution,
  Frequency,
  InteractionStats,
} from '../storage/analytics-distributions.js';
import type { BucketConcurrency } from '../storage/analytics-concurrency.js';
import type {
  BounceStats,
  DurationStats,
  EndReasonCounts,
  SessionCounts,
} from '../storage/analytics-series.js';

/** Spec of one chart, as the browser script passes it to Chart.js. */
export interface ChartSpec {
  id: string;
  title: string;
  type: 'line' | 'bar';
  labels: string[];
  datasets: Array<{ label: string; data: Array<number | null> }>;
  /** Stack the datasets of a bar chart. */
  isStacked?: boolean;
  /** Unit of the y axis, shown in its title. */
  unit: string;
}

/** Every report body the Reports page shows. */
export interface ReportBodies {
  sessions: SeriesReport<SessionCounts>;
  duration: SeriesReport<DurationStats>;
  bounce: SeriesReport<BounceStats>;
  endReasons: SeriesReport<EndReasonCounts>;
  concurrency: {
    peak: { sessions: number; at: number | null };
    buckets: Bucket<BucketConcurrency>[];
  };
  frequency: Frequency;
  interactions: InteractionStats;
  tabs: { maxTabs: Distribution };
}

const minutes = (ms: number | null) => (ms === null ? null : Math.round((ms / 60_000) * 100) / 100);

function binLabels(bins: Bin[]): string[] {
  return bins.map((bin) => (bin.isOpenEnded ? `${bin.value}+` : String(bin.value)));
}

function distributionChart(
  id: string,
  title: string,
  unit: string,
  distribution: Distribution,
): ChartSpec {
  return {
    id,
    title,
    type: 'bar',
    labels: binLabels(distribution.bins),
    datasets: [{ label: unit, data: distribution.bins.map((bin) => bin.count) }],
    unit,
  };
}

/** Builds the specs of every chart on the Reports page. */
export function buildCharts(bodies: ReportBodies): ChartSpec[] {
  const labels = bodies.sessions.buckets.map((bucket) => bucket.label);
  const { sessions, duration, bounce, endReasons, concurrency } = bodies;

  return [
    {
      id: 'sessions',
      title: 'Sessions and unique users',
      type: 'line',
      labels,
      datasets: [
        { label: 'Sessions', data: sessions.buckets.map((b) => b.sessions) },
        { label: 'Unique users', data: sessions.buckets.map((b) => b.uniqueUsers) },
      ],
      unit: 'count',
    },
    {
      id: 'users',
      title: 'New and returning users',
      type: 'bar',
      labels,
      datasets: [
        { label: 'New', data: sessions.buckets.map((b) => b.newUsers) },
        { label: 'Returning', data: sessions.buckets.map((b) => b.returningUsers) },
      ],
      isStacked: true,
      unit: 'users',
    },
    {
      id: 'duration',
      title: 'Session duration and engaged time',
      type: 'line',
      labels,
      datasets: [
        {
          label: 'Median duration',
          data: duration.buckets.map((b) => minutes(b.duration.medianMs)),
        },
        { label: 'p90 duration', data: duration.buckets.map((b) => minutes(b.duration.p90Ms)) },
        { label: 'Median engaged', data: duration.buckets.map((b) => minutes(b.engaged.medianMs)) },
      ],
      unit: 'minutes',
    },
    {
      id: 'engaged-idle',
      title: 'Engaged and idle time per session (mean)',
      type: 'bar',
      labels,
      datasets: [
        { label: 'Engaged', data: duration.buckets.map((b) => minutes(b.engaged.meanMs)) },
        { label: 'Idle', data: duration.buckets.map((b) => minutes(b.idle.meanMs)) },
      ],
      isStacked: true,
      unit: 'minutes',
    },
    {
      id: 'concurrency',
      title: 'Live sessions (peak per bucket)',
      type: 'line',
      labels,
      datasets: [{ label: 'Peak live sessions', data: concurrency.buckets.map((b) => b.peak) }],
      unit: 'sessions',
    },
    {
      id: 'bounce',
      title: 'Bounce rate',
      type: 'line',
      labels,
      datasets: [
        {
          label: 'Bounce rate',
          data: bounce.buckets.map((b) =>
            b.rate === null ? null : Math.round(b.rate * 1000) / 10,
          ),
        },
      ],
      unit: '%',
    },
    {
      id: 'end-reasons',
      title: 'End reasons',
      type: 'bar',
      labels: Object.keys(endReasons.totals),
      datasets: [{ label: 'Sessions', data: Object.values(endReasons.totals) }],
      unit: 'sessions',
    },
    distributionChart(
      'tabs',
      'Tabs per session (maximum open at once)',
      'sessions',
      bodies.tabs.maxTabs,
    ),
    distributionChart(
      'page-views',
      'Page views per session',
      'sessions',
      bodies.interactions.pageViewsPerSession,
    ),
    {
      id: 'interactions',
      title: 'Interactions per session by input',
      type: 'bar',
      labels: Object.keys(bodies.interactions.interactionsPerSession).filter(
        (kind) => kind !== 'total',
      ),
      datasets: [
        {
          label: 'Mean per session',
          data: Object.entries(bodies.interactions.interactionsPerSession)
            .filter(([kind]) => kind !== 'total')
            .map(([, mean]) => mean),
        },
      ],
      unit: 'interactions',
    },
    distributionChart('per-day', 'Sessions per user per day', 'user-days', bodies.frequency.perDay),
    distributionChart(
      'per-week',
      'Sessions per user per week',
      'user-weeks',
      bodies.frequency.perWeek,
    ),
  ];
}
