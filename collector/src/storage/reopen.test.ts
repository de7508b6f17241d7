import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage, type StorageOptions } from './index.js';
import { eventRowFixture, sessionRowFixture } from './test-fixtures.js';

const AUDIT = {
  createdAt: 1_700_000_000_000,
  actorName: 'admin',
  actorRole: 'admin' as const,
  action: 'settings.update',
  targetType: 'settings',
  targetId: null,
  reason: null,
  details: null,
};

/** Writes one session of user `user-1` with `count` events whose ids start with `prefix`. */
function writeEvents(storage: Storage, sessionId: string, prefix: string, count: number) {
  const ids = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  return storage.transact({
    sessionIds: [sessionId],
    eventIds: ids,
    apply: (view) => {
      const row = view.getSession(sessionId) ?? sessionRowFixture({ id: sessionId, userId: 'user-1' });
      row.eventCount += count;
      view.putSession(row);
      for (const id of ids) {
        if (!view.hasEvent(sessionId, id)) view.addEvent(eventRowFixture({ id, sessionId }));
      }
    },
  });
}

describe('Storage.reopen', () => {
  let dir: string;
  let path: string;
  const opened: Storage[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reopen-'));
    path = join(dir, 'collector.duckdb');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((storage) => storage.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function open(options: StorageOptions = {}): Promise<Storage> {
    const storage = await openStorage(path, options);
    opened.push(storage);
    return storage;
  }

  it('rows, duplicate ids and admin writes kept across reopen', async () => {
    const storage = await open();
    await writeEvents(storage, 'session-a', 'event-a', 3);
    await storage.admin.saveSettings({ idleTimeoutMinutes: 12 }, 1_700_000_000_000, AUDIT);

    await storage.reopen();

    expect((await storage.getSession('session-a'))?.eventCount).toBe(3);
    expect((await storage.listEvents('session-a')).map((row) => row.id)).toEqual([
      'event-a-0',
      'event-a-1',
      'event-a-2',
    ]);
    const isDuplicate = await storage.transact({
      sessionIds: [],
      eventIds: ['event-a-1', 'event-new'],
      apply: (view) => [view.hasEvent('session-a', 'event-a-1'), view.hasEvent('session-a', 'event-new')],
    });
    expect(isDuplicate).toEqual([true, false]);
    expect((await storage.admin.loadPolicyState()).settings).toEqual({ idleTimeoutMinutes: 12 });
    expect((await storage.admin.listAudit({ limit: 10 })).map((row) => row.action)).toEqual([
      'settings.update',
    ]);
    expect(await storage.analytics.listLiveIds()).toEqual(['session-a']);
    expect((await storage.exportUser('user-1')).sessions.map((row) => row.id)).toEqual(['session-a']);

    await storage.admin.saveSettings({ idleTimeoutMinutes: 15 }, 1_700_000_000_001, AUDIT);
    await writeEvents(storage, 'session-a', 'event-b', 2);
    await storage.close();
    const next = await open();
    expect((await next.getSession('session-a'))?.eventCount).toBe(5);
    expect((await next.admin.loadPolicyState()).settings).toEqual({ idleTimeoutMinutes: 15 });
  });

  it('reopens after the configured events with every write and read answered', async () => {
    const reopens: Array<{ durationMs: number; events: number }> = [];
    const storage = await open({ reopenAfterEvents: 50, onReopen: (reopen) => reopens.push(reopen) });

    const reads: Array<Promise<unknown>> = [];
    for (let wave = 0; wave < 4; wave += 1) {
      const writes = Array.from({ length: 10 }, (_, index) =>
        writeEvents(storage, `session-${index}`, `event-${wave}-${index}`, 10),
      );
      reads.push(storage.analytics.listLiveIds(), storage.listEvents('session-0'));
      reads.push(storage.admin.listAudit({ limit: 5 }), storage.exportUser('user-1'));
      await Promise.all(writes);
      // Each wave writes 100 new events, so it starts a reopen once the one before has ended.
      await expect.poll(() => reopens.length).toBeGreaterThan(wave);
    }
    await Promise.all(reads);
    await storage.close();

    expect(reopens.length).toBeGreaterThanOrEqual(4);
    for (const reopen of reopens) expect(reopen.events).toBeGreaterThanOrEqual(50);
    const next = await open({ reopenAfterEvents: 0 });
    let stored = 0;
    for (let index = 0; index < 10; index += 1) {
      const events = await next.listEvents(`session-${index}`);
      expect(new Set(events.map((row) => row.id)).size).toBe(events.length);
      stored += events.length;
    }
    expect(stored).toBe(400);
  });

  it('resent events not counted toward reopen', async () => {
    const reopens: Array<{ durationMs: number; events: number }> = [];
    const storage = await open({ reopenAfterEvents: 30, onReopen: (reopen) => reopens.push(reopen) });

    for (let resend = 0; resend < 5; resend += 1) await writeEvents(storage, 'session-a', 'event-a', 20);
    await storage.listEvents('session-a');
    expect(reopens).toEqual([]);

    await writeEvents(storage, 'session-a', 'event-b', 20);
    await expect.poll(() => reopens.length).toBe(1);
    expect(reopens[0]!.events).toBe(40);
  });

  it('no reopen with reopenAfterEvents 0', async () => {
    const reopens: unknown[] = [];
    const storage = await open({ reopenAfterEvents: 0, onReopen: (reopen) => reopens.push(reopen) });
    for (let index = 0; index < 5; index += 1) await writeEvents(storage, 'session-a', `e${index}`, 20);
    await storage.close();
    expect(reopens).toEqual([]);
  });

  it('database file gone at reopen reported, acknowledged events kept', async () => {
    const errors: unknown[] = [];
    const storage = await open({ reopenAfterEvents: 30, onReopenError: (error) => errors.push(error) });
    await writeEvents(storage, 'session-a', 'event-a', 20);
    // The open file keeps its data under the new name; a folder takes the old one.
    const moved = join(dir, 'moved.duckdb');
    await rename(path, moved);
    await mkdir(path);

    await writeEvents(storage, 'session-a', 'event-b', 20);
    await expect.poll(() => errors.length).toBe(1);
    await expect(storage.reopen()).rejects.toThrow('DuckDB could not be opened again');
    await storage.close();
    opened.splice(0);

    await rm(path, { recursive: true });
    await rename(moved, path);
    const next = await open();
    expect(await next.listEvents('session-a')).toHaveLength(40);
  });

  it('another process opening the file during a reopen delays it', async () => {
    const storage = await open({ reopenAfterEvents: 0 });
    await writeEvents(storage, 'session-a', 'event-a', 3);
    // Between the close and the open of a reopen DuckDB's lock on the file is released, so a
    // process that keeps trying to open the file, such as the DuckDB CLI, can get in.
    const script = `
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const deadline = Date.now() + 15000;
      console.log('started');
      while (Date.now() < deadline) {
        try {
          const instance = await DuckDBInstance.create(${JSON.stringify(path)});
          console.log('opened');
          await new Promise((resolve) => setTimeout(resolve, 300));
          instance.closeSync();
          process.exit(0);
        } catch {}
      }
      process.exit(2);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await expect.poll(() => output, { timeout: 10_000 }).toContain('started');
      for (let reopens = 0; reopens < 200 && !output.includes('opened'); reopens += 1) {
        await storage.reopen();
      }

      expect(output).toContain('opened');
      expect(await exited).toBe(0);
      await writeEvents(storage, 'session-a', 'event-b', 2);
      expect(await storage.listEvents('session-a')).toHaveLength(5);
    } finally {
      child.kill();
    }
  });
});
