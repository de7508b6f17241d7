import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { openStorage } from './index.js';

describe('DuckDB memory limit', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-limit-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('storage opens with a limit', async () => {
    const storage = await openStorage(join(dir, 'limited.duckdb'), { memoryLimit: '256MB' });

    expect(await storage.getSession('session-none')).toBeUndefined();
    await storage.close();
  });

  it('storage passes limit to DuckDB', async () => {
    // DuckDB parses the value itself, so a value it rejects proves the option reached it.
    const opening = openStorage(join(dir, 'invalid.duckdb'), { memoryLimit: '12 parsecs' });

    await expect(opening).rejects.toThrow(/failed to set config/i);
  });

  it('config reads DUCKDB_MEMORY_LIMIT', () => {
    expect(loadConfig({}).duckdbMemoryLimit).toBeNull();
    expect(loadConfig({ DUCKDB_MEMORY_LIMIT: '512MB' }).duckdbMemoryLimit).toBe('512MB');
    expect(loadConfig({ DUCKDB_MEMORY_LIMIT: ' 2GiB ' }).duckdbMemoryLimit).toBe('2GiB');
  });

  it('config rejects invalid sizes', () => {
    const message = /^DUCKDB_MEMORY_LIMIT must be a size such as 512MB or 2GiB, received "lots"/;
    expect(() => loadConfig({ DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(message);
    expect(() => loadConfig({ DUCKDB_MEMORY_LIMIT: '512' })).toThrow(/received "512"/);
    expect(() => loadConfig({ DUCKDB_MEMORY_LIMIT: '64MB' })).toThrow(
      'DUCKDB_MEMORY_LIMIT must be at least 128MB, because loading the ingest log needs about 64 MB of it, received "64MB"',
    );
    expect(loadConfig({ DUCKDB_MEMORY_LIMIT: '128MB' }).duckdbMemoryLimit).toBe('128MB');
  });
});
