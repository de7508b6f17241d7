import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestErrorInput } from './admin-store.js';
import { openStorage, type Storage } from './index.js';
import { sessionRowFixture } from './test-fixtures.js';

function ingestError(index: number): IngestErrorInput {
  return {
    createdAt: 1_700_000_000_000 + index,
    status: 400,
    code: 'invalid_batch',
    message: `error ${index}`,
    appId: 'shop-web',
    sessionId: null,
    origin: 'https://shop.example',
    requestId: `request-${index}`,
  };
}

describe('AdminStore', () => {
  let dir: string;
  let storage: Storage | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'admin-store-'));
  });

  afterEach(async () => {
    await storage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('integration log keeps newest rows', async () => {
    storage = await openStorage(join(dir, 'db.duckdb'), { maxIngestErrors: 3 });

    for (let index = 1; index <= 5; index += 1) storage.admin.recordIngestError(ingestError(index));
    await storage.admin.flushIngestErrors();
    storage.admin.recordIngestError(ingestError(6));
    const rows = await storage.admin.listIngestErrors({ limit: 10 });

    expect(rows.map((row) => row.message)).toEqual(['error 6', 'error 5', 'error 4']);
    expect(rows[0]).toMatchObject({ status: 400, appId: 'shop-web', origin: 'https://shop.example' });
  });

  it('buffered errors written on close', async () => {
    const path = join(dir, 'db.duckdb');
    storage = await openStorage(path);
    storage.admin.recordIngestError(ingestError(1));

    await storage.close();
    storage = await openStorage(path);

    expect(await storage.admin.listIngestErrors({ limit: 10 })).toHaveLength(1);
  });

  it('audit seq continues after reopen', async () => {
    const path = join(dir, 'db.duckdb');
    storage = await openStorage(path);
    const entry = {
      createdAt: 1,
      actorName: 'admin',
      actorRole: 'admin' as const,
      action: 'settings.update',
      targetType: 'settings',
      targetId: null,
      reason: null,
      details: { changes: {} },
    };
    await storage.admin.appendAudit(entry);
    await storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => {
        view.putSession(sessionRowFixture());
        view.addAudit({ ...entry, action: 'session.end', targetType: 'session', targetId: 'session-0001' });
      },
    });
    await storage.close();

    storage = await openStorage(path);
    await storage.admin.appendAudit({ ...entry, action: 'policy.create' });
    const rows = await storage.admin.listAudit({ limit: 10 });

    expect(rows.map((row) => [row.seq, row.action])).toEqual([
      [3, 'policy.create'],
      [2, 'session.end'],
      [1, 'settings.update'],
    ]);
    expect(rows[2]?.details).toEqual({ changes: {} });
  });

  it('audit of failed write discarded', async () => {
    storage = await openStorage(join(dir, 'db.duckdb'));

    const failing = storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => {
        view.addAudit({
          createdAt: 1,
          actorName: 'system',
          actorRole: 'system',
          action: 'session.end',
          targetType: 'session',
          targetId: 'session-0001',
          reason: 'idle',
          details: null,
        });
        throw new Error('apply failed');
      },
    });

    await expect(failing).rejects.toThrow('apply failed');
    expect(await storage.admin.listAudit({ limit: 10 })).toEqual([]);
  });
});
