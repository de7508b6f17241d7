import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../collector/src/config.js';
import { startServer } from '../../collector/src/server.js';
import type { Storage } from '../../collector/src/storage/index.js';

/** A real collector on a free 127.0.0.1 port with a DuckDB file in a temp folder. */
export interface CollectorUnderTest {
  url: string;
  adminToken: string;
  storage: Storage;
  /** Calls an admin route with the bearer token and returns the parsed JSON body. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Starts the collector with `env` on top of test defaults. */
export async function startCollectorUnderTest(
  env: Record<string, string> = {},
): Promise<CollectorUnderTest> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ps-e2e-'));
  const adminToken = randomBytes(24).toString('base64url');
  const config = loadConfig({
    PORT: '0',
    DATABASE_PATH: join(dataDir, 'process-sessions.duckdb'),
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startServer(config);

  async function admin(method: string, path: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  return {
    url: server.url,
    adminToken,
    storage: server.storage,
    admin,
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` every 100 ms until `isDone` accepts its value or `timeoutMs` passes. */
export async function waitFor<T>(
  read: () => Promise<T> | T,
  isDone: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!isDone(value)) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}
