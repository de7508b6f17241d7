import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage } from '../collector/src/storage/index.js';
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

  it('running collector named with the option to change', async () => {
    const databasePath = join(dir, 'live.duckdb');
    const script = new URL('./seed-demo.ts', import.meta.url).pathname;
    const storage = await openStorage(databasePath);

    try {
      const seeding = promisify(execFile)(process.execPath, ['--import', 'tsx', script, '--events', '2000'], {
        env: { ...process.env, DATABASE_PATH: databasePath },
        timeout: 60_000,
      });

      await expect(seeding).rejects.toMatchObject({
        stderr: expect.stringContaining(
          `Another collector holds ${databasePath}; stop it, or seed another file with --database`,
        ),
      });
    } finally {
      await storage.close();
    }
  });

  it('command creates private files', async () => {
    const databasePath = join(dir, 'data', 'demo.duckdb');
    const script = new URL('./seed-demo.ts', import.meta.url).pathname;
    const node = `'${process.execPath}' --import tsx '${script}' --events 2000`;

    // Under a shell umask of 022, new files would be readable by every user.
    await promisify(execFile)('/bin/sh', ['-c', `umask 022 && exec ${node}`], {
      env: { ...process.env, DATABASE_PATH: databasePath },
      timeout: 60_000,
    });

    const names = await readdir(join(dir, 'data'));
    const modes = await Promise.all(
      names.map(async (name) => [name, ((await stat(join(dir, 'data', name))).mode & 0o777).toString(8)]),
    );
    expect(names).toContain('demo.duckdb');
    expect(modes.filter(([, mode]) => mode !== '600' && mode !== '700')).toEqual([]);
    expect(((await stat(join(dir, 'data'))).mode & 0o777).toString(8)).toBe('700');
  });
});
