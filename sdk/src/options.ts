import { MAX_EVENTS_PER_BATCH } from '../../shared/src/constants.js';
import { describeInvalid, describeValue, raise } from './errors.js';

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

/**
 * Validation rule of one option: its default, the check of a value, and the requirement an
 * error states after "must".
 */
type Rule = [fallback: unknown, isValid: (value: unknown) => boolean, requirement: string];

/** Names of the options that take an integer in a range. */
type RangeName = 'idleTimeoutMs' | 'warningMs' | 'heartbeatMs' | 'flushIntervalMs' | 'maxBatchSize';

/** Rule of an integer option between `min` and `max`, inclusive. */
const integerRule = (fallback: number | undefined, min: number, max: number): Rule => [
  fallback,
  (value) => Number.isInteger(value) && (value as number) >= min && (value as number) <= max,
  `be an integer between ${min} and ${max}`,
];

const flagRule: Rule = [false, (value) => typeof value === 'boolean', 'be true or false'];

/**
 * Rules of every option of `init()`, in the order an error lists them. The default of
 * `warningMs` depends on `idleTimeoutMs` and is set in `resolveOptions`.
 */
const RULES: Record<keyof ProcessSessionsOptions, Rule> = {
  endpoint: [undefined, isHttpUrl, 'be an http or https URL'],
  appId: [
    undefined,
    // Same rule as the collector's app id schema.
    (value) => typeof value === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(value),
    'be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"',
  ],
  idleTimeoutMs: integerRule(1_800_000, 1000, 604_800_000),
  warningMs: integerRule(undefined, 0, 3_600_000),
  heartbeatMs: integerRule(30_000, 1000, 3_600_000),
  flushIntervalMs: integerRule(3000, 100, 600_000),
  maxBatchSize: integerRule(30, 1, MAX_EVENTS_PER_BATCH),
  consent: ['granted', (value) => value === 'granted' || value === 'required', 'be "granted" or "required"'],
  respectDoNotTrack: flagRule,
  respectGlobalPrivacyControl: flagRule,
  debug: flagRule,
};

/** Names of every option of `init()`. */
export const OPTION_NAMES = Object.keys(RULES) as (keyof ProcessSessionsOptions)[];

/** Returns whether `value` is an integer in the allowed range of numeric option `name`. */
export function isInRange(name: RangeName, value: unknown): value is number {
  return RULES[name][1](value);
}

/**
 * Applies defaults and validates every option of `input`. Throws one ProcessSessionsError
 * with code `invalid_option` that lists each invalid or unknown option with its allowed range.
 */
export function resolveOptions(input: ProcessSessionsOptions): ResolvedOptions {
  const problems: string[] = [];
  const options: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) options[name] = RULES[name][0];
  for (const [name, value] of Object.entries(input ?? {})) if (value !== undefined) options[name] = value;
  // The default warning is 1 min, shortened for short timeouts so it still fits.
  options.warningMs ??= Math.min(60_000, Number(options.idleTimeoutMs) / 2);

  for (const [name, value] of Object.entries(options)) {
    // Object.hasOwn, because `in` also finds inherited names such as `constructor`.
    const rule = Object.hasOwn(RULES, name) ? RULES[name as keyof ProcessSessionsOptions] : undefined;

    if (!rule) problems.push(`${name} is not an option, received ${describeValue(value)}`);
    else if (!rule[1](value)) problems.push(describeInvalid(name, rule[2], value));
  }
  if (!problems.length && Number(options.warningMs) >= Number(options.idleTimeoutMs)) {
    problems.push(describeInvalid('warningMs', `be less than idleTimeoutMs (${options.idleTimeoutMs})`, options.warningMs));
  }
  if (problems.length) raise('invalid_option', problems.join('; '));

  options.endpoint = new URL(options.endpoint as string, location.href).href.replace(/\/+$/, '');

  return options as ResolvedOptions;
}

function isHttpUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && !!value && /^https?:$/.test(new URL(value, location.href).protocol);
  } catch {
    return false;
  }
}
