import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Hono } from 'hono';
import { type Logger, pino } from 'pino';
import type { BatchInput, SessionEventInput } from '../../shared/src/index.js';
import { createCollector, type CollectorOptions } from './app.js';
import { type Config, loadConfig } from './config.js';
import type { AppEnv } from './http/app-env.js';
import { SessionService } from './session-service.js';
import { openStorage, type Storage } from './storage/index.js';
import { StreamHub } from './stream-hub.js';

/** Admin token of test collectors. */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Analyst token of test collectors. */
export const TEST_ANALYST_TOKEN = 'test-analyst-token-0123456789';

/** Start of the test clock, 2023-11-14T22:13:20Z. */
export const T0 = 1_700_000_000_000;

/** A settable clock for `now` options. */
export interface TestClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

/** Creates a clock that starts at `start` and moves only through `set` and `advance`. */
export function createClock(start = T0): TestClock {
  let current = start;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Creates a pino logger that keeps every line in `lines`. */
export function createMemoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, destination), lines };
}

/** A collector app on a DuckDB file in a temp folder, with its parts exposed. */
export interface TestCollector {
  app: Hono<AppEnv>;
  storage: Storage;
  hub: StreamHub;
  service: SessionService;
  config: Config;
  clock: TestClock;
  logLines: string[];
  dir: string;
  /** Closes the storage and deletes the temp folder. */
  cleanup(): Promise<void>;
}

/**
 * Builds a config for tests: port 0, the test admin and analyst tokens and https://shop.example
 * as the only allowed origin. `env` overrides any variable.
 */
export function testConfig(dir: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    PORT: '0',
    DATABASE_PATH: join(dir, 'collector.duckdb'),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ANALYST_TOKEN: TEST_ANALYST_TOKEN,
    ALLOWED_ORIGINS: 'https://shop.example',
    LOG_LEVEL: 'info',
    ...env,
  });
}

/** Creates a collector app for one test; call `cleanup` after it. */
export async function createTestCollector(
  options: { env?: NodeJS.ProcessEnv } & Partial<CollectorOptions> = {},
): Promise<TestCollector> {
  const dir = await mkdtemp(join(tmpdir(), 'collector-test-'));
  const config = testConfig(dir, options.env);
  const storage = await openStorage(config.databasePath, { maxIngestErrors: config.maxIngestErrors });
  const hub = new StreamHub();
  const clock = createClock();
  const { logger, lines } = createMemoryLogger();
  const service = new SessionService({ storage, hub, config, now: clock.now, logger });
  const app = createCollector({ now: clock.now, logger, hub, service, ...options, storage, config });

  return {
    app,
    storage,
    hub,
    service,
    config,
    clock,
    logLines: lines,
    dir,
    cleanup: async () => {
      hub.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Builds a batch of `session-0001` with the given events. */
export function batchOf(
  events: SessionEventInput[],
  overrides: Partial<BatchInput> = {},
): BatchInput {
  return {
    v: 1,
    appId: 'shop-web',
    sessionId: 'session-0001',
    tabId: 'tab-00000001',
    clientId: 'client-0001',
    events,
    ...overrides,
  };
}

/** Builds an activity event with `count` interactions. */
export function activity(id: string, ts: number, count = 1): SessionEventInput {
  return { id, type: 'activity', ts, data: { kind: 'pointer', count } };
}

/** Sends a batch to `POST /v1/events` through `app.request`. */
export function postBatch(
  app: Hono<AppEnv>,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Response> {
  return Promise.resolve(
    app.request('/v1/events', {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}
