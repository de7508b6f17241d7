import type { SessionPolicy, SessionState } from '../../shared/src/index.js';
import type { PolicyRegistry } from './policy/policy-registry.js';
import type { SessionSettings } from './policy/session-settings.js';
import type { SessionRow } from './storage/index.js';

/**
 * Returns the policy values an SDK applies. The timeouts of a session come
 * from its row, which the collector updates whenever the settings change.
 */
export function sessionPolicy(settings: SessionSettings, row?: SessionRow): SessionPolicy {
  return {
    enabled: settings.enabled,
    idleTimeoutMs: row?.idleTimeoutMs ?? settings.idleTimeoutMs,
    warningMs: settings.warningMs,
    absoluteTimeoutMs: row?.absoluteTimeoutMs ?? settings.absoluteTimeoutMs,
    heartbeatMs: settings.heartbeatMs,
    maxTabs: settings.maxTabs,
  };
}

/** Returns the settings in force for a session: those of its policy, or the defaults. */
export function settingsOfRow(row: SessionRow, policies: PolicyRegistry): SessionSettings {
  const policy = row.policyId === null ? null : (policies.getPolicy(row.policyId) ?? null);
  return policies.settingsOf(policy);
}

/** Converts a session row into the `SessionState` of replies and streams. */
export function toSessionState(row: SessionRow, policies: PolicyRegistry): SessionState {
  return {
    id: row.id,
    state: row.endedAt === null ? 'active' : 'ended',
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    endReason: row.endReason,
    policy: sessionPolicy(settingsOfRow(row, policies), row),
  };
}
