/** The storage module: the only code that runs SQL. */
export { openStorage } from './storage.js';
export type { LiveSessionFilter, Storage } from './storage.js';
export type { AnalyticsSummary } from './analytics.js';
export type { AnalyticsStore } from './analytics-store.js';
export type { EventRow, SessionRow } from './rows.js';
export type { WriteRequest, WriteView } from './write-queue.js';
export { MIGRATIONS } from './migrations.js';
