import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockFilePath, MIGRATIONS, openStorage, type Storage } from './index.js';
import { eventRowFixture, sessionRowFixture } from './test-fixtures.js';

describe('openStorage', () => {
  let dir: string;
  let databasePath: string;
  const opened: Storage[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storage-'));
    databasePath = join(dir, 'nested', 'collector.duckdb');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((storage) => storage.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<Storage> {
    const storage = await openStorage(databasePath);
    opened.push(storage);
    return storage;
  }

  it('shared key and database files reported', async () => {
    const keyPath = join(dirname(databasePath), 'erasure-key');
    const reported: string[] = [];
    await (await openStorage(databasePath)).close();
    await chmod(keyPath, 0o640);
    await chmod(databasePath, 0o604);

    const storage = await openStorage(databasePath, { onSharedFile: (path) => reported.push(path) });
    opened.push(storage);

    expect(reported).toEqual([resolve(databasePath), keyPath]);
  });

  it('migrations idempotent across reopen', async () => {
    const first = await open();
    await first.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => view.putSession(sessionRowFixture()),
    });
    await first.close();

    const second = await open();
    expect(await second.getSession('session-0001')).toMatchObject({ id: 'session-0001' });
    await second.close();

    const instance = await DuckDBInstance.create(databasePath);
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
    );
    const expected = MIGRATIONS.map((migration) => ({ version: migration.version, n: 1n }));
    expect(reader.getRowObjectsJS()).toEqual(expected);
    expect(expected.length).toBeGreaterThan(1);
    connection.closeSync();
    instance.closeSync();
  });

  it('session round trip without BigInt', async () => {
    const storage = await open();
    const row = sessionRowFixture({ userId: 'user-1', endNote: null, interactions: 12 });

    await storage.transact({ sessionIds: [], eventIds: [], apply: (view) => view.putSession(row) });
    const loaded = await storage.getSession(row.id);

    expect(loaded).toEqual(row);
    for (const value of Object.values(loaded!)) expect(typeof value).not.toBe('bigint');
  });

  it('stored event found after reopen', async () => {
    const storage = await open();
    const event = eventRowFixture();
    await storage.transact({ sessionIds: [], eventIds: [], apply: (view) => view.addEvent(event) });

    // A fresh storage has empty caches, so only the insert can find the stored id.
    await storage.close();
    const reopened = await open();
    const unknown = eventRowFixture({ id: 'event-unknown' });
    const isStored = await reopened.transact({
      sessionIds: [],
      eventIds: [event.id, unknown.id],
      apply: (view) =>
        [event, unknown].map((row) => {
          const isDuplicate = view.hasEvent(row.sessionId, row.id);
          if (!isDuplicate) view.addEvent({ ...row, type: 'resent' });
          return isDuplicate;
        }),
    });

    expect(isStored).toEqual([true, false]);
    const events = await reopened.listEvents(event.sessionId);
    expect(events.map((row) => [row.id, row.type])).toEqual([
      [event.id, 'activity'],
      [unknown.id, 'resent'],
    ]);
  });

  it('stored event spares its group', async () => {
    const storage = await open();
    const stored = eventRowFixture({ id: 'event-stored' });
    await storage.transact({ sessionIds: [], eventIds: [], apply: (view) => view.addEvent(stored) });
    await storage.close();
    const reopened = await open();
    // The queue starts this write alone, so the three below share the next group.
    const first = reopened.transact({ sessionIds: [], eventIds: [], apply: () => 'first' });

    const writes = ['event-stored', 'event-new-1', 'event-new-2'].map((id) =>
      reopened.transact({
        sessionIds: [],
        eventIds: [id],
        apply: (view) => {
          if (view.hasEvent('session-0001', id)) return 'duplicate';
          view.addEvent(eventRowFixture({ id }));
          return 'added';
        },
      }),
    );

    expect(await first).toBe('first');
    expect(await Promise.all(writes)).toEqual(['duplicate', 'added', 'added']);
    expect(await reopened.listEvents(stored.sessionId)).toHaveLength(3);
  });

  it('concurrent writes all commit', async () => {
    const storage = await open();
    const writes = Array.from({ length: 40 }, (_, index) =>
      storage.transact({
        sessionIds: ['session-0001'],
        eventIds: [],
        apply: (view) => {
          const row = view.getSession('session-0001') ?? sessionRowFixture();
          row.interactions += 1;
          view.putSession(row);
          view.addEvent(eventRowFixture({ id: `event-${String(index).padStart(4, '0')}` }));
          return row.interactions;
        },
      }),
    );

    const counts = await Promise.all(writes);

    expect(counts).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
    expect((await storage.getSession('session-0001'))?.interactions).toBe(40);
    expect(await storage.listEvents('session-0001')).toHaveLength(40);
  });

  it('failing request spares its group', async () => {
    const storage = await open();
    const good = storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => {
        view.putSession(sessionRowFixture({ id: 'session-good' }));
      },
    });
    const bad = storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: () => {
        throw new Error('rule failed');
      },
    });
    const undeclared = storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => view.getSession('session-good'),
    });

    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('rule failed');
    await expect(undeclared).rejects.toThrow('session session-good is missing from sessionIds');
    expect(await storage.getSession('session-good')).toBeDefined();
  });

  it('live sessions and expiry queries', async () => {
    const storage = await open();
    const now = 1_700_000_000_000 + 3_600_000;
    const rows = [
      sessionRowFixture({ id: 'session-live', lastActivityAt: now - 1000, lastSeenAt: now }),
      sessionRowFixture({ id: 'session-idle', lastActivityAt: now - 31 * 60_000, lastSeenAt: now }),
      sessionRowFixture({
        id: 'session-gone',
        lastActivityAt: now - 1000,
        lastSeenAt: now - 61_000,
        tabsNow: 0,
      }),
      sessionRowFixture({ id: 'session-ended', endedAt: now - 5000, endReason: 'logout' }),
    ];
    await storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => rows.forEach((row) => view.putSession(row)),
    });

    const live = await storage.listLiveSessions({ limit: 10 });
    const expiring = await storage.findSessionsToExpire(now, 60_000);

    expect(live.map((row) => row.id).sort()).toEqual(['session-gone', 'session-idle', 'session-live']);
    expect(await storage.listLiveSessions({ limit: 1 })).toHaveLength(1);
    expect(await storage.listLiveSessions({ limit: 10, userId: 'nobody' })).toEqual([]);
    expect(expiring).toEqual(['session-gone', 'session-idle']);
  });

  it('second open in process rejected', async () => {
    await open();

    await expect(openStorage(databasePath)).rejects.toThrow(
      `Another collector holds ${resolve(databasePath)}`,
    );
  });

  it('second open from child rejected', async () => {
    await open();
    const moduleUrl = new URL('./storage.ts', import.meta.url).href;
    const script = `
      const { openStorage } = await import(${JSON.stringify(moduleUrl)});
      try { await openStorage(${JSON.stringify(databasePath)}); console.log('opened'); }
      catch (error) { console.log(error.message); }
    `;

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exitCode = await new Promise((done) => child.once('exit', done));

    expect(exitCode).toBe(0);
    expect(output).toContain(`Another collector holds ${resolve(databasePath)}`);
  });

  /**
   * Runs a child process that keeps the lock file of the database open, runs
   * `check` while it does, then ends the child.
   */
  async function whileLockFileHeld(check: () => Promise<void>): Promise<void> {
    const script = `
      const { DuckDBInstance } = await import('@duckdb/node-api');
      await DuckDBInstance.create(${JSON.stringify(lockFilePath(databasePath))});
      console.log('locked');
      process.stdin.resume();
    `;
    await mkdir(dirname(databasePath), { recursive: true });
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise((done) => child.once('exit', done));
    try {
      await new Promise<void>((resolveLocked, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('locked')) resolveLocked();
        });
        child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      await check();
    } finally {
      child.kill();
      await exited;
    }
  }

  it('lock file held by another process rejects open', async () => {
    // The collector holds this lock while it reopens the database file and DuckDB's own lock is released.
    await whileLockFileHeld(async () => {
      await expect(openStorage(databasePath)).rejects.toThrow(
        `Another collector holds ${resolve(databasePath)}`,
      );
    });
    await (await openStorage(databasePath)).close();
  });

  it('lock taken through symbolic link', async () => {
    // A link to the database file has a lock path of its own unless the link is resolved.
    await (await openStorage(databasePath)).close();
    const linkedPath = join(dir, 'other', 'collector.duckdb');
    await mkdir(dirname(linkedPath));
    await symlink(databasePath, linkedPath);

    await whileLockFileHeld(async () => {
      await expect(openStorage(linkedPath)).rejects.toThrow(
        `Another collector holds ${resolve(databasePath)}`,
      );
    });
  });

  /** Runs `script` as an ES module in a child process and resolves with its output. */
  async function runChild(script: string): Promise<string> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((done) => child.once('exit', done));
    return output;
  }

  it('damaged lock file replaced at open', async () => {
    await (await openStorage(databasePath)).close();
    const lockPath = lockFilePath(databasePath);
    const whole = await readFile(lockPath);
    const damaged: Array<[string, Buffer]> = [
      ['empty', Buffer.alloc(0)],
      ['zeros', Buffer.alloc(4096)],
      ['first block only', whole.subarray(0, 4096)],
    ];

    for (const [name, content] of damaged) {
      await writeFile(lockPath, content);
      const replaced: string[] = [];
      const storage = await openStorage(databasePath, { onLockFileReplaced: (path) => replaced.push(path) });
      try {
        expect(replaced, name).toEqual([lockPath]);
        const probe = await runChild(`
          const { DuckDBInstance } = await import('@duckdb/node-api');
          try { await DuckDBInstance.create(${JSON.stringify(lockPath)}); console.log('opened'); }
          catch (error) { console.log(error.message); }
        `);
        expect(probe, name).toMatch(/could not set lock/i);
      } finally {
        await storage.close();
      }
    }
    const leftovers = (await readdir(dirname(databasePath))).filter((name) => name.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });

  it('damaged lock file kept while another process holds the database', async () => {
    await (await openStorage(databasePath)).close();
    const lockPath = lockFilePath(databasePath);
    await writeFile(lockPath, '');
    const script = `
      const { DuckDBInstance } = await import('@duckdb/node-api');
      await DuckDBInstance.create(${JSON.stringify(databasePath)});
      console.log('locked');
      process.stdin.resume();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolveLocked, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('locked')) resolveLocked();
        });
        child.once('exit', (code) => reject(new Error(`database holder exited with ${code}`)));
      });

      await expect(openStorage(databasePath)).rejects.toThrow(
        `Another collector holds ${resolve(databasePath)}`,
      );
      expect((await readFile(lockPath)).length).toBe(0);
    } finally {
      child.kill();
    }
    await new Promise((done) => child.once('exit', done));
  });
});
