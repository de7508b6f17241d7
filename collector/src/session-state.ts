import type { SessionPolicy, SessionState } from '../../shared/src/index.js';
import type { Config } from './config.js';
import type { SessionRow } from './storage/index.js';

/** Policy values the collector applies, taken from the config. */
export type PolicyConfig = Pick<
  Config,
  'idleTimeoutMs' | 'absoluteTimeoutMs' | 'warningMs' | 'heartbeatMs'
>;

/**
 * Returns the policy a session runs under. Its timeouts are those stored with
 * the session when it started, so a changed config does not shorten it.
 */
export function sessionPolicy(config: PolicyConfig, row?: SessionRow): SessionPolicy {
  // TODO: read per-app overrides from the settings table once an admin API writes them.
  return {
    enabled: true,
    idleTimeoutMs: row?.idleTimeoutMs ?? config.idleTimeoutMs,
    warningMs: config.warningMs,
    absoluteTimeoutMs: row?.absoluteTimeoutMs ?? config.absoluteTimeoutMs,
    heartbeatMs: config.heartbeatMs,
    maxTabs: null,
  };
}

/** Converts a session row into the `SessionState` of replies and streams. */
export function toSessionState(row: SessionRow, config: PolicyConfig): SessionState {
  return {
    id: row.id,
    state: row.endedAt === null ? 'active' : 'ended',
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    endReason: row.endReason,
    policy: sessionPolicy(config, row),
  };
}
