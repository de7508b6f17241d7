/** The storage module: the only code that runs SQL. */
export { lockFilePath } from './database-lock.js';
export { DEFAULT_REOPEN_AFTER_EVENTS, ingestLogPath, openStorage } from './storage.js';
export type { LiveSessionFilter, Storage, StorageOptions } from './storage.js';
export type { AnalyticsSummary } from './analytics.js';
export type { AnalyticsStore } from './analytics-store.js';
export type { EventRow, SessionRow } from './rows.js';
export type { AuditActor, AuditRow, IngestErrorRow, PolicyRow } from './admin-rows.js';
export type {
  AdminStore,
  AuditFilter,
  AuditInput,
  IngestErrorFilter,
  IngestErrorInput,
  StoredPolicyState,
} from './admin-store.js';
export type { SessionCursor, SessionFilter, SessionStateFilter } from './session-queries.js';
export type { WriteRequest, WriteView } from './write-queue.js';
export { StorageBacklogError, StorageLoadError } from './write-queue.js';
export { MIGRATIONS } from './migrations.js';
export type { PurgeCounts } from './retention.js';
export type { ErasureCounts, UserData } from './user-data.js';
export { ERASURE_KEY_FILE } from './user-data.js';
