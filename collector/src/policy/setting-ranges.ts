const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * Allowed range of each numeric session setting, shared by the environment
 * variables and the admin API. Times are milliseconds.
 */
export const SETTING_RANGES = {
  idleTimeoutMs: { min: SECOND_MS, max: 7 * DAY_MS },
  absoluteTimeoutMs: { min: MINUTE_MS, max: 30 * DAY_MS },
  warningMs: { min: 0, max: 7 * DAY_MS },
  heartbeatMs: { min: SECOND_MS, max: 10 * MINUTE_MS },
  maxSessionsPerUser: { min: 1, max: 1000 },
  maxTabs: { min: 1, max: 1000 },
} as const;

/** What happens to a session start that would pass the per-user limit. */
export const SESSION_LIMIT_BEHAVIORS = ['reject', 'terminate_oldest'] as const;

/**
 * `reject`: the new session is refused with 409 `session_limit`.
 * `terminate_oldest`: the user's oldest live session ends with reason `evicted`.
 */
export type SessionLimitBehavior = (typeof SESSION_LIMIT_BEHAVIORS)[number];

/** Default durations of the session settings, in milliseconds. */
export const DEFAULT_DURATIONS_MS = {
  idleTimeoutMs: 30 * MINUTE_MS,
  absoluteTimeoutMs: 12 * HOUR_MS,
  warningMs: MINUTE_MS,
  heartbeatMs: 30 * SECOND_MS,
} as const;
