import { z } from 'zod';
import type { Config } from '../config.js';
import {
  SESSION_LIMIT_BEHAVIORS,
  SETTING_RANGES,
  type SessionLimitBehavior,
} from './setting-ranges.js';

/** The session settings: the defaults, and every field a custom policy can override. */
export interface SessionSettings {
  /** Whether sessions are tracked; when false, new sessions are rejected and live ones end. */
  enabled: boolean;
  /** A session ends after this long without activity, in ms. */
  idleTimeoutMs: number;
  /** A session ends this long after it started, whatever its activity, in ms. */
  absoluteTimeoutMs: number;
  /** The SDK warns the user this long before the idle end, in ms. */
  warningMs: number;
  /** Interval of SDK heartbeats, in ms. */
  heartbeatMs: number;
  /** Live sessions one user may have in one app, or null for no limit. */
  maxSessionsPerUser: number | null;
  /** What a session start beyond `maxSessionsPerUser` does. */
  sessionLimitBehavior: SessionLimitBehavior;
  /** Tabs one session may have open at once, or null for no limit. */
  maxTabs: number | null;
}

/** Names of the session settings, in the order the API lists them. */
export const SETTING_NAMES = [
  'enabled',
  'idleTimeoutMs',
  'absoluteTimeoutMs',
  'warningMs',
  'heartbeatMs',
  'maxSessionsPerUser',
  'sessionLimitBehavior',
  'maxTabs',
] as const satisfies ReadonlyArray<keyof SessionSettings>;

/** A subset of the settings, as an update or a policy's overrides. */
export type SettingsPatch = Partial<SessionSettings>;

function rangeError(min: number, max: number, unit: string) {
  return (issue: { input?: unknown }) =>
    `must be an integer from ${min} to ${max}${unit}, received ${JSON.stringify(issue.input)}`;
}

/** An integer within the setting's range, with an error that names the range and the value. */
function integerSetting(name: keyof typeof SETTING_RANGES, unit: string) {
  const { min, max } = SETTING_RANGES[name];
  const error = rangeError(min, max, unit);
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const MS = ' (milliseconds)';
const nullLimit = ', or null for no limit';

/** Validates a settings update or policy overrides: any subset of the fields, no other field. */
export const settingsPatchSchema = z.strictObject(
  {
    enabled: z.boolean({ error: 'must be true or false' }),
    idleTimeoutMs: integerSetting('idleTimeoutMs', MS),
    absoluteTimeoutMs: integerSetting('absoluteTimeoutMs', MS),
    warningMs: integerSetting('warningMs', MS),
    heartbeatMs: integerSetting('heartbeatMs', MS),
    maxSessionsPerUser: integerSetting('maxSessionsPerUser', nullLimit).nullable(),
    sessionLimitBehavior: z.enum(SESSION_LIMIT_BEHAVIORS, {
      error: (issue) =>
        `must be one of ${SESSION_LIMIT_BEHAVIORS.join(', ')}, received ${JSON.stringify(issue.input)}`,
    }),
    maxTabs: integerSetting('maxTabs', nullLimit).nullable(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}; the fields are ${SETTING_NAMES.join(', ')}`
        : 'must be an object',
  },
).partial();

/** The complete settings, as the API returns them. */
export const sessionSettingsSchema = settingsPatchSchema.required();

/** Returns the default settings from the config's environment variables. */
export function settingsFromConfig(
  config: Pick<Config, 'enabled' | 'maxSessionsPerUser' | 'sessionLimitBehavior' | 'maxTabs'> &
    Pick<Config, 'idleTimeoutMs' | 'absoluteTimeoutMs' | 'warningMs' | 'heartbeatMs'>,
): SessionSettings {
  return {
    enabled: config.enabled,
    idleTimeoutMs: config.idleTimeoutMs,
    absoluteTimeoutMs: config.absoluteTimeoutMs,
    warningMs: config.warningMs,
    heartbeatMs: config.heartbeatMs,
    maxSessionsPerUser: config.maxSessionsPerUser,
    sessionLimitBehavior: config.sessionLimitBehavior,
    maxTabs: config.maxTabs,
  };
}

/** Returns `base` with every field that `patch` sets replaced. */
export function applyPatch(base: SessionSettings, patch: SettingsPatch): SessionSettings {
  const merged = { ...base };
  for (const name of SETTING_NAMES) {
    if (patch[name] !== undefined) Object.assign(merged, { [name]: patch[name] });
  }
  return merged;
}

/** A rule between two settings that a complete set broke: the field to fix and why. */
export interface SettingsProblem {
  field: keyof SessionSettings;
  message: string;
}

/** Checks the rules that relate two settings, and returns the first one broken. */
export function checkSettings(settings: SessionSettings): SettingsProblem | undefined {
  if (settings.warningMs >= settings.idleTimeoutMs) {
    return {
      field: 'warningMs',
      message: `must be less than idleTimeoutMs (${settings.idleTimeoutMs}), received ${settings.warningMs}`,
    };
  }
  if (settings.absoluteTimeoutMs < settings.idleTimeoutMs) {
    return {
      field: 'absoluteTimeoutMs',
      message: `must be at least idleTimeoutMs (${settings.idleTimeoutMs}), received ${settings.absoluteTimeoutMs}`,
    };
  }
  return undefined;
}
