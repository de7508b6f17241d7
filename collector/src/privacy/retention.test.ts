import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config.js';
import { openStorage, type Storage } from '../storage/index.js';
import { eventRowFixture, sessionRowFixture } from '../storage/test-fixtures.js';
import { createClock, createMemoryLogger, T0 } from '../test-harness.js';
import { startRetention } from './retention.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const RETENTION_DAYS = 30;

describe('startRetention', () => {
  let dir: string;
  let storage: Storage;
  const clock = createClock(T0);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'retention-'));
    storage = await openStorage(join(dir, 'collector.duckdb'));
    clock.set(T0);
  });

  afterEach(async () => {
    vi.useRealTimers();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Stores one session with one event, both stamped `ageDays` before T0; `isEnded` ends it then. */
  async function storeSession(id: string, ageDays: number, isEnded: boolean): Promise<void> {
    const at = T0 - ageDays * DAY_MS;
    const session = sessionRowFixture({
      id,
      startedAt: at,
      endedAt: isEnded ? at + 1000 : null,
      endReason: isEnded ? 'idle' : null,
    });
    const event = eventRowFixture({ id: `event-${id}`, sessionId: id, ts: at, receivedAt: at });
    await storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => {
        view.putSession(session);
        view.addEvent(event);
      },
    });
  }

  async function storeAudit(targetType: string, targetId: string, ageDays: number): Promise<void> {
    await storage.admin.appendAudit({
      createdAt: T0 - ageDays * DAY_MS,
      actorName: 'system',
      actorRole: 'system',
      action: 'test.action',
      targetType,
      targetId,
      reason: null,
      details: null,
    });
  }

  it('purge deletes rows past retention', async () => {
    await storeSession('session-old-ended', 40, true);
    await storeSession('session-new-ended', 5, true);
    await storeSession('session-old-live', 40, false);
    await storeAudit('session', 'session-old-ended', 40);
    await storeAudit('settings', 'defaults', 40);
    await storeAudit('user', 'user-1', 5);
    storage.admin.recordIngestError({
      createdAt: T0 - 40 * DAY_MS,
      status: 400,
      code: 'invalid_batch',
      message: 'old',
      appId: null,
      sessionId: null,
      origin: null,
      requestId: null,
    });
    const { logger } = createMemoryLogger();

    const retention = startRetention({ storage, retentionDays: RETENTION_DAYS, logger, now: clock.now });
    const counts = await retention.runOnce();
    await retention.stop();

    expect(counts).toEqual({ events: 2, sessions: 1, auditLog: 1, ingestErrors: 1 });
    expect(await storage.getSession('session-old-ended')).toBeUndefined();
    expect(await storage.getSession('session-new-ended')).toBeDefined();
    expect(await storage.getSession('session-old-live')).toBeDefined();
    expect(await storage.listEvents('session-new-ended')).toHaveLength(1);
    expect(await storage.listEvents('session-old-live')).toHaveLength(0);
    const audit = await storage.admin.listAudit({ limit: 10 });
    expect(audit.map((entry) => entry.targetType).sort()).toEqual(['settings', 'user']);
    expect(await storage.admin.listIngestErrors({ limit: 10 })).toEqual([]);
  });

  it('purge runs on its interval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await storeSession('session-ages', 20, true);
    const { logger, lines } = createMemoryLogger();

    const retention = startRetention({
      storage,
      retentionDays: RETENTION_DAYS,
      logger,
      now: clock.now,
      intervalMs: 60_000,
    });
    expect(await retention.runOnce()).toMatchObject({ sessions: 0 });
    expect(await storage.getSession('session-ages')).toBeDefined();

    clock.advance(15 * DAY_MS);
    vi.advanceTimersByTime(60_000);
    const counts = await retention.runOnce();
    await retention.stop();

    expect(counts).toMatchObject({ sessions: 1, events: 1 });
    expect(await storage.getSession('session-ages')).toBeUndefined();
    expect(lines.some((line) => line.includes('retention purge'))).toBe(true);
  });

  it('retention rejects invalid days', () => {
    const { logger } = createMemoryLogger();
    const start = (retentionDays: number) => startRetention({ storage, retentionDays, logger });

    expect(() => start(0)).toThrow('retentionDays must be an integer from 1 to 3650, received 0');
    expect(() => start(1.5)).toThrow('received 1.5');
  });
});

describe('RETENTION_DAYS', () => {
  it('defaults to 395 days', () => {
    expect(loadConfig({}).retentionDays).toBe(395);
  });

  it('reads a valid value', () => {
    expect(loadConfig({ RETENTION_DAYS: '30' }).retentionDays).toBe(30);
  });

  it('rejects values out of range', () => {
    const message = /^RETENTION_DAYS must be an integer from 1 to 3650, received "0"/;
    expect(() => loadConfig({ RETENTION_DAYS: '0' })).toThrow(message);
    expect(() => loadConfig({ RETENTION_DAYS: '3651' })).toThrow(/received "3651"/);
    expect(() => loadConfig({ RETENTION_DAYS: 'forever' })).toThrow(/received "forever"/);
  });
});
