/** Session reports, their CSV form and the live session stream. */
export { registerAnalytics, liveFeedFor, LIVE_PING_INTERVAL_MS, sendReport } from './routes.js';
export type { AnalyticsDeps, AnalyticsRole } from './routes.js';
export { REPORT_NAMES, REPORTS } from './reports.js';
export type { ReportName, ReportHeader, SeriesReport } from './reports.js';
export { parseReportParams, DEFAULT_RANGE_MS, MAX_BUCKETS } from './report-params.js';
export type { ReportRequest, ReportFormat } from './report-params.js';
export { LiveFeed, toLiveSession } from './live-feed.js';
export type { LiveChange, LiveSession } from './live-feed.js';
