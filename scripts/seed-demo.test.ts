import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedDemo } from './seed-demo.js';

describe('seedDemo', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seed-demo-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates missing database folder', async () => {
    const databasePath = join(dir, 'missing', 'folder', 'demo.duckdb');

    const result = await seedDemo({ databasePath, events: 2000 });

    const instance = await DuckDBInstance.create(databasePath);
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      'SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM events)',
    );
    const [sessions, events] = reader.getRowsJS()[0]!.map(Number);
    instance.closeSync();
    expect(sessions).toBe(result.sessions);
    expect(events).toBe(result.events);
    expect(events).toBeGreaterThan(1000);
  });
});
