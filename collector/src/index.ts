/** Public API of the collector. */
export { createCollector, DEFAULT_EXAMPLE_PAGE_PATH, DEFAULT_SDK_SCRIPT_PATH } from './app.js';
export { startServer } from './server.js';
export { openStorage } from './storage/index.js';
export { loadConfig, LOG_LEVELS } from './config.js';
export { ensureAdminToken } from './admin-token.js';
export { SessionService } from './session-service.js';
export { StreamHub } from './stream-hub.js';
export { startSweep } from './sweep.js';
export { CLOCK_SKEW_TOLERANCE_MS, ENGAGED_GAP_MAX_MS } from './session-rules.js';

export type { CollectorOptions } from './app.js';
export type { Config, LogLevel } from './config.js';
export type { AdminTokenResult } from './admin-token.js';
export type { RunningServer, StartServerOptions } from './server.js';
export type { IngestResult, SessionServiceOptions } from './session-service.js';
export type { AnalyticsSummary, EventRow, SessionRow, Storage } from './storage/index.js';
export type { Sweep } from './sweep.js';
export type { AppEnv } from './http/app-env.js';
