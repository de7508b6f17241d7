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
  /** Logs what the SDK does to the console. @default false */
  debug?: boolean;
}

/** Options with defaults applied and values checked. */
export interface ResolvedOptions {
  endpoint: string;
  appId: string;
  idleTimeoutMs: number;
  warningMs: number;
  heartbeatMs: number;
  flushIntervalMs: number;
  maxBatchSize: number;
  debug: boolean;
}

/** Allowed range of each numeric option, inclusive. */
export const OPTION_RANGES = {
  idleTimeoutMs: [1000, 604_800_000],
  warningMs: [0, 3_600_000],
  heartbeatMs: [1000, 3_600_000],
  flushIntervalMs: [100, 600_000],
  maxBatchSize: [1, MAX_EVENTS_PER_BATCH],
} as const;

/** Same rule as the collector's app id schema. */
const APP_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Applies defaults and validates `input`, throwing a ProcessSessionsError that names the option. */
export function resolveOptions(input: ProcessSessionsOptions): ResolvedOptions {
  const options = { ...input } as Record<string, unknown>;
  const idleTimeoutMs = readInteger(options, 'idleTimeoutMs', 1_800_000);
  // The default warning is 1 min, shortened for short timeouts so it still fits.
  const warningMs = readInteger(options, 'warningMs', Math.min(60_000, idleTimeoutMs / 2));

  if (warningMs >= idleTimeoutMs) {
    fail(`warningMs must be less than idleTimeoutMs (${idleTimeoutMs}), received ${warningMs}`);
  }
  if (typeof options.debug !== 'boolean' && options.debug !== undefined) {
    fail(`debug must be true or false, received ${describeValue(options.debug)}`);
  }

  return {
    endpoint: readEndpoint(options.endpoint),
    appId: readAppId(options.appId),
    idleTimeoutMs,
    warningMs,
    heartbeatMs: readInteger(options, 'heartbeatMs', 30_000),
    flushIntervalMs: readInteger(options, 'flushIntervalMs', 3000),
    maxBatchSize: readInteger(options, 'maxBatchSize', 30),
    debug: options.debug === true,
  };
}

function readInteger(options: Record<string, unknown>, name: keyof typeof OPTION_RANGES, fallback: number) {
  const value = options[name] ?? fallback;
  const [min, max] = OPTION_RANGES[name];

  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer between ${min} and ${max}, received ${describeValue(value)}`);
  }

  return value;
}

function readEndpoint(value: unknown): string {
  const url = typeof value === 'string' && value ? parseUrl(value) : undefined;

  if (!url || !/^https?:$/.test(url.protocol)) {
    fail(`endpoint must be an http or https URL, received ${describeValue(value)}`);
  }

  return url.href.replace(/\/+$/, '');
}

function readAppId(value: unknown): string {
  if (typeof value !== 'string' || !APP_ID_PATTERN.test(value)) {
    fail(`appId must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-", received ${describeValue(value)}`);
  }

  return value;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value, location.href);
  } catch {
    return undefined;
  }
}

function fail(message: string): never {
  raise('invalid_option', message);
}
