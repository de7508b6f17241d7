import { MAX_EVENTS_PER_BATCH } from '../../shared/src/constants.js';
import { describeValue, raise } from './errors.js';

/** Options of `init()`. */
export interface ProcessSessionsOptions {
  /** Base URL of the collector, such as `https://collect.example.com`. */
  endpoint: string;
  /** The app id the collector knows: 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-". */
  appId: string;
  /** Inactivity in every tab after which the session is idle, in ms. @default 1800000 (30 min) */
  idleTimeoutMs?: number;
  /** How long before the idle deadline the `warning` event starts, in ms. @default 60000, at most half of idleTimeoutMs */
  warningMs?: number;
  /** Interval of the leader tab's `heartbeat` event, in ms. @default 30000 */
  heartbeatMs?: number;
  /** Interval between batch sends, in ms. @default 3000 */
  flushIntervalMs?: number;
  /** Queued events that trigger a send before the interval ends. @default 30 */
  maxBatchSize?: number;
  /**
   * `required` stores and sends nothing, not even an id, until `grantConsent()` or `optIn()`.
   * @default 'granted'
   */
  consent?: 'granted' | 'required';
  /** Tracks nothing when the browser sends Do Not Track (`navigator.doNotTrack` is "1"). @default false */
  respectDoNotTrack?: boolean;
  /** Tracks nothing when the browser sends Global Privacy Control (`navigator.globalPrivacyControl`). @default false */
  respectGlobalPrivacyControl?: boolean;
  /** Logs what the SDK does to the console. @default false */
  debug?: boolean;
}

/** Options with defaults applied and values checked. */
export type ResolvedOptions = Required<ProcessSessionsOptions>;

/** Allowed range of each numeric option, inclusive. */
export const OPTION_RANGES = {
  idleTimeoutMs: [1000, 604_800_000],
  warningMs: [0, 3_600_000],
  heartbeatMs: [1000, 3_600_000],
  flushIntervalMs: [100, 600_000],
  maxBatchSize: [1, MAX_EVENTS_PER_BATCH],
} as const;

/** Tells whether `value` is an integer in the allowed range of numeric option `name`. */
export function isInRange(name: keyof typeof OPTION_RANGES, value: unknown): value is number {
  const [min, max] = OPTION_RANGES[name];

  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** Defaults of the optional options; `warningMs` depends on `idleTimeoutMs` and is set apart. */
const DEFAULTS = {
  idleTimeoutMs: 1_800_000,
  heartbeatMs: 30_000,
  flushIntervalMs: 3000,
  maxBatchSize: 30,
  consent: 'granted',
  respectDoNotTrack: false,
  respectGlobalPrivacyControl: false,
  debug: false,
};

/** Names of every option of `init()`. */
export const OPTION_NAMES = ['endpoint', 'appId', 'warningMs', ...Object.keys(DEFAULTS)];

/** Same rule as the collector's app id schema. */
const APP_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Applies defaults and validates every option of `input`. Throws one ProcessSessionsError
 * with code `invalid_option` that lists each invalid or unknown option with its allowed range.
 */
export function resolveOptions(input: ProcessSessionsOptions): ResolvedOptions {
  const problems: string[] = [];
  const options: Record<string, unknown> = { endpoint: undefined, appId: undefined, ...DEFAULTS };
  for (const [name, value] of Object.entries(input ?? {})) if (value !== undefined) options[name] = value;
  // The default warning is 1 min, shortened for short timeouts so it still fits.
  options.warningMs ??= Math.min(60_000, Number(options.idleTimeoutMs) / 2);

  for (const name of Object.keys(options)) {
    const message = checkOption(name, options[name]);
    if (message) problems.push(`${name} ${message}, received ${describeValue(options[name])}`);
  }
  if (!problems.length && Number(options.warningMs) >= Number(options.idleTimeoutMs)) {
    problems.push(`warningMs must be less than idleTimeoutMs (${options.idleTimeoutMs}), received ${options.warningMs}`);
  }
  if (problems.length) raise('invalid_option', problems.join('; '));

  options.endpoint = new URL(options.endpoint as string, location.href).href.replace(/\/+$/, '');

  return options as ResolvedOptions;
}

/** Returns what is wrong with option `name` set to `value`, or undefined when it is valid. */
function checkOption(name: string, value: unknown): string | undefined {
  // Checked first, because `in` also finds inherited names such as `constructor`.
  if (!OPTION_NAMES.includes(name)) return 'is not an option';
  if (name in OPTION_RANGES) {
    const [min, max] = OPTION_RANGES[name as keyof typeof OPTION_RANGES];
    const isValid = isInRange(name as keyof typeof OPTION_RANGES, value);

    return isValid ? undefined : `must be an integer between ${min} and ${max}`;
  }
  if (name === 'endpoint') return isHttpUrl(value) ? undefined : 'must be an http or https URL';
  if (name === 'appId') {
    const isValid = typeof value === 'string' && APP_ID_PATTERN.test(value);

    return isValid ? undefined : 'must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"';
  }
  if (name === 'consent') return value === 'granted' || value === 'required' ? undefined : 'must be "granted" or "required"';
  return typeof value === 'boolean' ? undefined : 'must be true or false';
}

function isHttpUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && !!value && /^https?:$/.test(new URL(value, location.href).protocol);
  } catch {
    return false;
  }
}
