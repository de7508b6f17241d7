import { isIP } from 'node:net';
import { z } from 'zod';
import { type AppOrigins, appOriginsVariable, trustProxyVariable } from './access-config.js';
import { type ApiToken, checkToken, collectTokens, parseApiTokens } from './auth/api-tokens.js';
import { durationMs, optionalLimit, setting, wholeNumber } from './config-parsers.js';
import { SESSION_LIMIT_BEHAVIORS, type SessionLimitBehavior } from './policy/setting-ranges.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;

/**
 * A host name: dot-separated labels of letters, digits, hyphens and
 * underscores, each at most 63 characters, with an optional final dot. It
 * allows the underscore that RFC 1123 leaves out, because container networks
 * and /etc/hosts entries may use it. IPv6 addresses pass through `isIP`
 * instead, so `[::1]` and `host:port` match neither.
 */
const HOST_NAME_PATTERN = /^(?=.{1,253}\.?$)[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(?:\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*\.?$/;

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
  /** Bearer token of role `admin`, at least 16 characters; main.ts generates one when unset. */
  adminToken?: string;
  /** Bearer token of role `analyst`, which may only read `/v1/analytics/*`. */
  analystToken?: string;
  /** More named tokens, from `API_TOKENS` (`name:role:token,...`). @default [] */
  apiTokens: readonly ApiToken[];
  /** Origins allowed to send events and open streams, or `"*"` for any origin. */
  allowedOrigins: readonly string[] | '*';
  /**
   * Origins allowed per app id, from `APP_ORIGINS`; a batch of a listed app
   * must come from one of them. Apps not listed use `allowedOrigins`. @default empty
   */
  appOrigins: AppOrigins;
  /**
   * Proxies in front of the collector, from `TRUST_PROXY`. 0 takes the client
   * address from the socket; n takes the nth X-Forwarded-For entry from the right. @default 0
   */
  trustProxyHops: number;
  /**
   * Requests per minute one client address may send without a token, or 0 for
   * no limit. Loopback addresses are not limited. @default 1200
   */
  rateLimitPerIp: number;
  /** Batches per minute one app id may send, or 0 for no limit. @default 60000 */
  rateLimitPerApp: number;
  /**
   * Session streams one client address may hold open at once, or 0 for no
   * limit. Loopback addresses are not limited, as for `rateLimitPerIp`. @default 200
   */
  streamsPerAddress: number;
  /** A session ends after this long without activity. @default 30 min */
  idleTimeoutMs: number;
  /** A session ends this long after it started, whatever its activity. @default 12 h */
  absoluteTimeoutMs: number;
  /** The SDK warns the user this long before the idle end. @default 60 s */
  warningMs: number;
  /** Interval of SDK heartbeats. @default 30 s */
  heartbeatMs: number;
  /** Whether new sessions are accepted; the admin API can change it. @default true */
  enabled: boolean;
  /** Live sessions one user may have in one app, or null for no limit. @default null */
  maxSessionsPerUser: number | null;
  /** What a session start beyond `maxSessionsPerUser` does. @default "reject" */
  sessionLimitBehavior: SessionLimitBehavior;
  /** Tabs one session may have open at once, or null for no limit. @default null */
  maxTabs: number | null;
  /** Rows the integration log of rejected ingest requests keeps. @default 10000 */
  maxIngestErrors: number;
  /** Interval of the sweep that ends expired sessions. @default 10 s */
  sweepIntervalMs: number;
  /**
   * Time a client has to send a whole request, headers and body, before the
   * server responds with 408 and closes the connection. It does not limit how long
   * a response, such as a session stream, stays open. @default 30 s
   */
  requestTimeoutMs: number;
  /**
   * Days events, ended sessions, their audit entries and ingest errors are
   * kept before the hourly purge deletes them. 395 days (13 months) lets a
   * report compare a month with the same month a year earlier. @default 395
   */
  retentionDays: number;
  /**
   * DuckDB's memory limit, such as `512MB` or `2GiB`, or null for DuckDB's
   * default of 80% of physical memory. DuckDB caches table blocks up to it.
   * @default null
   */
  duckdbMemoryLimit: string | null;
  /**
   * Events written after which the collector closes DuckDB and opens it
   * again (writes and reads wait, about 0.1 s), because DuckDB keeps memory
   * that grows with the data written since it opened until it closes. 0 never
   * reopens. @default 1000000
   */
  duckdbReopenEvents: number;
  /** pino log level. @default "info" */
  logLevel: LogLevel;
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
    .transform((raw, ctx) => {
      const value = raw?.trim() ? raw.trim() : '127.0.0.1';
      if (isIP(value) !== 0 || HOST_NAME_PATTERN.test(value)) return value;
      ctx.addIssue({
        code: 'custom',
        message:
          'HOST must be an IP address or a host name, without brackets or port, ' +
          `such as 127.0.0.1, ::1 or localhost, received "${raw}"`,
      });
      return z.NEVER;
    }),
  DATABASE_PATH: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim() ? raw.trim() : './data/process-sessions.duckdb';
      // DuckDB reads ":memory:" as an in-memory database, but the collector needs a
      // file: it writes its ingest log, lock file and keys beside it.
      if (!value.startsWith(':memory:')) return value;
      ctx.addIssue({
        code: 'custom',
        message: `DATABASE_PATH must be the path of a database file, such as ./data/process-sessions.duckdb, received "${raw}"`,
      });
      return z.NEVER;
    }),
  ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      const problem = checkToken('ADMIN_TOKEN', raw);
      if (problem === undefined) return raw;
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }),
  ALLOWED_ORIGINS: z.string().optional(),
  APP_ORIGINS: appOriginsVariable,
  TRUST_PROXY: trustProxyVariable,
  RATE_LIMIT_PER_IP: wholeNumber('RATE_LIMIT_PER_IP', 1200, 0, 10_000_000),
  RATE_LIMIT_PER_APP: wholeNumber('RATE_LIMIT_PER_APP', 60_000, 0, 100_000_000),
  STREAMS_PER_ADDRESS: wholeNumber('STREAMS_PER_ADDRESS', 200, 0, 1_000_000),
  ANALYST_TOKEN: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      const problem = checkToken('ANALYST_TOKEN', raw);
      if (problem === undefined) return raw;
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }),
  API_TOKENS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      try {
        return parseApiTokens(raw);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  IDLE_TIMEOUT_MS: setting('IDLE_TIMEOUT_MS', 'idleTimeoutMs'),
  ABSOLUTE_TIMEOUT_MS: setting('ABSOLUTE_TIMEOUT_MS', 'absoluteTimeoutMs'),
  WARNING_MS: setting('WARNING_MS', 'warningMs'),
  HEARTBEAT_MS: setting('HEARTBEAT_MS', 'heartbeatMs'),
  TRACKING_ENABLED: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim().toLowerCase() ?? '';
      if (value === '' || value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      ctx.addIssue({
        code: 'custom',
        message: `TRACKING_ENABLED must be true, false, 1 or 0, received "${raw}"`,
      });
      return z.NEVER;
    }),
  MAX_SESSIONS_PER_USER: optionalLimit('MAX_SESSIONS_PER_USER', 'maxSessionsPerUser'),
  SESSION_LIMIT_BEHAVIOR: z
    .string()
    .optional()
    .transform((raw, ctx): SessionLimitBehavior => {
      const value = raw?.trim() ? raw.trim().toLowerCase() : 'reject';
      if ((SESSION_LIMIT_BEHAVIORS as readonly string[]).includes(value)) {
        return value as SessionLimitBehavior;
      }
      ctx.addIssue({
        code: 'custom',
        message: `SESSION_LIMIT_BEHAVIOR must be one of ${SESSION_LIMIT_BEHAVIORS.join(', ')}, received "${raw}"`,
      });
      return z.NEVER;
    }),
  MAX_TABS: optionalLimit('MAX_TABS', 'maxTabs'),
  MAX_INGEST_ERRORS: wholeNumber('MAX_INGEST_ERRORS', 10_000, 100, 1_000_000),
  SWEEP_INTERVAL_MS: durationMs('SWEEP_INTERVAL_MS', 10 * SECOND_MS, 100, 10 * MINUTE_MS),
  REQUEST_TIMEOUT_MS: durationMs('REQUEST_TIMEOUT_MS', 30 * SECOND_MS, 1000, 10 * MINUTE_MS),
  RETENTION_DAYS: wholeNumber('RETENTION_DAYS', 395, 1, 3650),
  DUCKDB_MEMORY_LIMIT: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim() ?? '';
      if (value === '') return null;
      const bytes = sizeInBytes(value);
      if (bytes === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `DUCKDB_MEMORY_LIMIT must be a size such as 512MB or 2GiB, received "${raw}"`,
        });
        return z.NEVER;
      }
      if (bytes < MIN_DUCKDB_MEMORY_BYTES) {
        ctx.addIssue({
          code: 'custom',
          message:
            `DUCKDB_MEMORY_LIMIT must be at least 128MB, because loading the ingest log ` +
            `needs about 64 MB of it, received "${raw}"`,
        });
        return z.NEVER;
      }
      return value;
    }),
  DUCKDB_REOPEN_EVENTS: wholeNumber('DUCKDB_REOPEN_EVENTS', 1_000_000, 0, 1_000_000_000),
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
    appOrigins: parsed.APP_ORIGINS,
    trustProxyHops: parsed.TRUST_PROXY,
    rateLimitPerIp: parsed.RATE_LIMIT_PER_IP,
    rateLimitPerApp: parsed.RATE_LIMIT_PER_APP,
    streamsPerAddress: parsed.STREAMS_PER_ADDRESS,
    idleTimeoutMs: parsed.IDLE_TIMEOUT_MS,
    absoluteTimeoutMs: parsed.ABSOLUTE_TIMEOUT_MS,
    warningMs: parsed.WARNING_MS,
    heartbeatMs: parsed.HEARTBEAT_MS,
    enabled: parsed.TRACKING_ENABLED,
    maxSessionsPerUser: parsed.MAX_SESSIONS_PER_USER,
    sessionLimitBehavior: parsed.SESSION_LIMIT_BEHAVIOR,
    maxTabs: parsed.MAX_TABS,
    apiTokens: parsed.API_TOKENS,
    maxIngestErrors: parsed.MAX_INGEST_ERRORS,
    sweepIntervalMs: parsed.SWEEP_INTERVAL_MS,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
    retentionDays: parsed.RETENTION_DAYS,
    duckdbMemoryLimit: parsed.DUCKDB_MEMORY_LIMIT,
    duckdbReopenEvents: parsed.DUCKDB_REOPEN_EVENTS,
    logLevel: parsed.LOG_LEVEL,
  };
  if (parsed.ADMIN_TOKEN !== undefined) config.adminToken = parsed.ADMIN_TOKEN;
  if (parsed.ANALYST_TOKEN !== undefined) config.analystToken = parsed.ANALYST_TOKEN;

  checkTimeouts(config);
  // Throws on a repeated token name or value.
  collectTokens(config);
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

/**
 * Smallest DuckDB memory limit. DuckDB's JSON reader, which loads the ingest
 * log, allocates 32 MiB blocks, and with a 64MB limit every load failed.
 */
const MIN_DUCKDB_MEMORY_BYTES = 128 * 1000 ** 2;

const SIZE_UNITS: Record<string, number> = {
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Returns the bytes of a size such as `512MB` or `2GiB`, or undefined when it is not one. */
function sizeInBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
}
