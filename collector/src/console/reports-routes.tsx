import { parseReportParams } from '../analytics/report-params.js';
import { REPORT_NAMES, REPORTS, type ReportName } from '../analytics/reports.js';
import { sendReport } from '../analytics/routes.js';
import { addDays, formatBucket } from '../storage/analytics-zoned-time.js';
import type { ReportQuery } from '../storage/analytics-query.js';
import { type ConsoleContext, renderPage, requireSignIn, viewerOf } from './console-context.js';
import { Layout, Notice } from './layout.js';
import { buildCharts, type ChartSpec, type ReportBodies } from './report-charts.js';
import type { ConsoleSession } from './sign-in-sessions.js';

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** The Reports form as the browser sends it; `to` is the last day shown, inclusive. */
interface ReportForm {
  from: string;
  to: string;
  interval: string;
  timeZone: string;
  appId: string;
  userGroup: string;
  policyId: string;
}

/** Reads the form from the query string, defaulting to the last 7 days in UTC. */
function readReportForm(query: Record<string, string>, now: number): ReportForm {
  const text = (name: string) => (query[name] ?? '').trim();
  const timeZone = text('timeZone') || 'UTC';
  let today: string;
  try {
    today = formatBucket(now, 'day', timeZone);
  } catch {
    today = new Date(now).toISOString().slice(0, 10);
  }
  return {
    from: text('from') || addDays(today, -6),
    to: text('to') || today,
    interval: text('interval') || 'day',
    timeZone,
    appId: text('appId'),
    userGroup: text('userGroup'),
    policyId: text('policyId'),
  };
}

/** Converts the form into report parameters: dates become local midnights, `to` exclusive. */
function toReportParams(form: ReportForm): Record<string, string> {
  const params: Record<string, string> = {
    from: form.from,
    to: DATE_PATTERN.test(form.to) ? addDays(form.to, 1) : form.to,
    interval: form.interval,
    timeZone: form.timeZone,
  };
  for (const name of ['appId', 'userGroup', 'policyId'] as const) {
    if (form[name] !== '') params[name] = form[name];
  }
  return params;
}

function formQuery(form: ReportForm): string {
  const entries = Object.entries(form).filter(([, value]) => value !== '');
  return new URLSearchParams(entries).toString();
}

async function runReports(context: ConsoleContext, query: ReportQuery): Promise<ReportBodies> {
  const store = context.deps.storage.analytics;
  const run = (name: ReportName) => REPORTS[name].run(store, query) as Promise<any>;
  return {
    sessions: await run('sessions'),
    duration: await run('duration'),
    bounce: await run('bounce'),
    endReasons: await run('end-reasons'),
    concurrency: await run('concurrency'),
    frequency: await run('frequency'),
    interactions: await run('interactions'),
    tabs: await run('tabs'),
  };
}

function formatMinutes(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

function Cards({ bodies }: { bodies: ReportBodies }) {
  const { sessions, duration, bounce, concurrency } = bodies;
  const rate = bounce.totals.rate === null ? '–' : `${(bounce.totals.rate * 100).toFixed(1)} %`;
  const cards: Array<[string, string]> = [
    ['Sessions', String(sessions.totals.sessions)],
    ['Unique users', String(sessions.totals.uniqueUsers)],
    ['New users', String(sessions.totals.newUsers)],
    ['Median duration', formatMinutes(duration.totals.duration.medianMs)],
    ['Median engaged', formatMinutes(duration.totals.engaged.medianMs)],
    ['Bounce rate', rate],
    ['Peak live sessions', String(concurrency.peak.sessions)],
  ];
  return (
    <section class="cards">
      {cards.map(([title, value]) => (
        <div class="metric">
          <span class="metric-title">{title}</span>
          <span class="metric-value">{value}</span>
        </div>
      ))}
    </section>
  );
}

function Chart({ spec }: { spec: ChartSpec }) {
  return (
    <figure class="chart card">
      <figcaption>{spec.title}</figcaption>
      <div class="chart-box">
        <canvas
          id={`chart-${spec.id}`}
          role="img"
          aria-label={spec.title}
          data-chart={JSON.stringify(spec)}
        ></canvas>
      </div>
    </figure>
  );
}

interface ReportsPageProps {
  session: ConsoleSession;
  form: ReportForm;
  bodies?: ReportBodies;
  error?: string;
}

function ReportsPage({ session, form, bodies, error }: ReportsPageProps) {
  const query = formQuery(form);
  return (
    <Layout
      title="Reports"
      viewer={viewerOf(session)}
      current="/console/reports"
      scripts={['chart.umd.min.js', 'reports.js']}
    >
      <form method="get" action="/console/reports" class="card filters">
        <label>
          From <input type="date" name="from" value={form.from} required />
        </label>
        <label>
          To <input type="date" name="to" value={form.to} required />
        </label>
        <label>
          Group by
          <select name="interval">
            <option value="day" selected={form.interval === 'day'}>
              Day
            </option>
            <option value="hour" selected={form.interval === 'hour'}>
              Hour
            </option>
          </select>
        </label>
        <label>
          Time zone <input name="timeZone" value={form.timeZone} list="time-zones" />
        </label>
        <label>
          App <input name="appId" value={form.appId} placeholder="all" />
        </label>
        <label>
          User group <input name="userGroup" value={form.userGroup} placeholder="all" />
        </label>
        <label>
          Policy <input name="policyId" value={form.policyId} placeholder="all" />
        </label>
        <button type="submit" class="primary">
          Show
        </button>
        <datalist id="time-zones">
          {Intl.supportedValuesOf('timeZone').map((zone) => (
            <option value={zone}></option>
          ))}
        </datalist>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {bodies && <Cards bodies={bodies} />}
      {bodies && (
        <p class="downloads">
          CSV:{' '}
          {REPORT_NAMES.map((name) => (
            <a href={`/console/reports/${name}.csv?${query}`} download>
              {name}
            </a>
          ))}
        </p>
      )}
      <section class="charts">
        {bodies && buildCharts(bodies).map((spec) => <Chart spec={spec} />)}
      </section>
    </Layout>
  );
}

/** Registers the Reports page and its CSV downloads (admin and analyst). */
export function registerReportsRoutes(context: ConsoleContext): void {
  const { app, deps } = context;

  app.get('/console/reports', async (c) => {
    const session = await requireSignIn(c, context, 'analyst');
    if (session instanceof Response) return session;

    const form = readReportForm(c.req.query(), deps.now());
    const parsed = parseReportParams(toReportParams(form), undefined, deps.now());
    if ('issues' in parsed) {
      return renderPage(
        c,
        <ReportsPage session={session} form={form} error={parsed.message} />,
        400,
      );
    }
    const bodies = await runReports(context, parsed.query);
    return renderPage(c, <ReportsPage session={session} form={form} bodies={bodies} />);
  });

  app.get('/console/reports/:file{[a-z-]+\\.csv}', async (c) => {
    const session = await requireSignIn(c, context, 'analyst');
    if (session instanceof Response) return session;
    const name = c.req.param('file').replace(/\.csv$/, '') as ReportName;
    if (!REPORT_NAMES.includes(name))
      return c.text(`Unknown report ${name}; use one of ${REPORT_NAMES.join(', ')}`, 404);

    const form = readReportForm(c.req.query(), deps.now());
    const params = { ...toReportParams(form), format: 'csv' };
    const parsed = parseReportParams(params, undefined, deps.now());
    if ('issues' in parsed) return c.text(parsed.message, 400);
    return sendReport(c, name, parsed, deps.storage);
  });
}
