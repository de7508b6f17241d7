import { z } from 'zod';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Log levels pino accepts, from the most to the least verbose, plus `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Collector settings, read from environment variables by `loadConfig`. */
export interface Config {
  /** TCP port; 0 picks a free port. @default 8787 */
  port: number;
  /** Interface to listen on. @default "127.0.0.1" */
  host: string;
  /** DuckDB file; its folder also stores the generated admin token. */
  databasePath: string;
  /** Bearer token of the admin API, at least 16 characters; main.ts generates one when unset. */
  adminToken?: string;
  /** Origins allowed to send events and open streams, or `"*"` for any origin. */
  allowedOrigins: readonly string[] | '*';
  /** A session ends after this long without activity. @default 30 min */
  idleTimeoutMs: number;
  /** A session ends this long after it started, whatever its activity. @default 12 h */
  absoluteTimeoutMs: number;
  /** The SDK warns the user this long before the idle end. @default 60 s */
  warningMs: number;
  /** Interval of SDK heartbeats. @default 30 s */
  heartbeatMs: number;
  /** Interval of the sweep that ends expired sessions. @default 10 s */
  sweepIntervalMs: number;
  /** pino log level. @default "info" */
  logLevel: LogLevel;
}

/** Parses a whole number of milliseconds from an environment string within [min, max]. */
function durationMs(name: string, fallback: number, min: number, max: number) {
  const range = `an integer from ${min} to ${max} (milliseconds)`;
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be ${range}, received "${raw}"` });
        return z.NEVER;
      }
      return value;
    });
}

const portSchema = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return 8787;
    const value = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || value > 65535) {
      ctx.addIssue({
        code: 'custom',
        message: `PORT must be an integer from 0 to 65535, received "${raw}"`,
      });
      return z.NEVER;
    }
    return value;
  });

/** Parses `ALLOWED_ORIGINS`: `*`, or a comma-separated list of `scheme://host[:port]` origins. */
function parseOrigins(raw: string, ctx: z.RefinementCtx): readonly string[] | '*' {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.includes('*')) return '*';

  for (const entry of entries) {
    if (!isOrigin(entry)) {
      ctx.addIssue({
        code: 'custom',
        message: `ALLOWED_ORIGINS must be "*" or comma-separated origins such as https://shop.example:8443, received "${entry}"`,
      });
      return [];
    }
  }
  return entries;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

const envSchema = z.object({
  PORT: portSchema,
  HOST: z
    .string()
    .optional()
    .transform((raw) => (raw?.trim() ? raw.trim() : '127.0.0.1')),
  DATABASE_PATH: z
    .string()
    .optional()
    .transform((raw) => (raw?.trim() ? raw.trim() : './data/process-sessions.duckdb')),
  ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      if (raw.length < 16 || /\s/.test(raw)) {
        ctx.addIssue({
          code: 'custom',
          message: `ADMIN_TOKEN must be at least 16 characters without spaces, received ${raw.length} characters`,
        });
        return z.NEVER;
      }
      return raw;
    }),
  ALLOWED_ORIGINS: z.string().optional(),
  IDLE_TIMEOUT_MS: durationMs('IDLE_TIMEOUT_MS', 30 * MINUTE_MS, SECOND_MS, 7 * DAY_MS),
  ABSOLUTE_TIMEOUT_MS: durationMs('ABSOLUTE_TIMEOUT_MS', 12 * HOUR_MS, MINUTE_MS, 30 * DAY_MS),
  WARNING_MS: durationMs('WARNING_MS', MINUTE_MS, 0, 7 * DAY_MS),
  HEARTBEAT_MS: durationMs('HEARTBEAT_MS', 30 * SECOND_MS, SECOND_MS, 10 * MINUTE_MS),
  SWEEP_INTERVAL_MS: durationMs('SWEEP_INTERVAL_MS', 10 * SECOND_MS, 100, 10 * MINUTE_MS),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((raw, ctx): LogLevel => {
      const value = raw?.trim() ? raw.trim().toLowerCase() : 'info';
      if (!(LOG_LEVELS as readonly string[]).includes(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, received "${raw}"`,
        });
        return z.NEVER;
      }
      return value as LogLevel;
    }),
});

/**
 * Reads and validates the collector settings from environment variables.
 * Throws an Error naming the first invalid variable and its allowed range.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new Error(result.error.issues[0]?.message ?? 'invalid collector configuration');
  }

  const parsed = result.data;
  const config: Config = {
    port: parsed.PORT,
    host: parsed.HOST,
    databasePath: parsed.DATABASE_PATH,
    allowedOrigins: readOrigins(parsed.ALLOWED_ORIGINS, parsed.PORT),
    idleTimeoutMs: parsed.IDLE_TIMEOUT_MS,
    absoluteTimeoutMs: parsed.ABSOLUTE_TIMEOUT_MS,
    warningMs: parsed.WARNING_MS,
    heartbeatMs: parsed.HEARTBEAT_MS,
    sweepIntervalMs: parsed.SWEEP_INTERVAL_MS,
    logLevel: parsed.LOG_LEVEL,
  };
  if (parsed.ADMIN_TOKEN !== undefined) config.adminToken = parsed.ADMIN_TOKEN;

  checkTimeouts(config);
  return config;
}

function readOrigins(raw: string | undefined, port: number): readonly string[] | '*' {
  if (raw === undefined || raw.trim() === '') {
    return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  }
  const result = z.string().transform(parseOrigins).safeParse(raw);
  if (!result.success) throw new Error(result.error.issues[0]?.message);
  return result.data;
}

/** Checks the rules that relate two variables. */
function checkTimeouts(config: Config): void {
  if (config.warningMs >= config.idleTimeoutMs) {
    throw new Error(
      `WARNING_MS must be less than IDLE_TIMEOUT_MS (${config.idleTimeoutMs}), received ${config.warningMs}`,
    );
  }
  if (config.absoluteTimeoutMs < config.idleTimeoutMs) {
    throw new Error(
      `ABSOLUTE_TIMEOUT_MS must be at least IDLE_TIMEOUT_MS (${config.idleTimeoutMs}), received ${config.absoluteTimeoutMs}`,
    );
  }
}
