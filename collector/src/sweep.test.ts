import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionState } from '../../shared/src/index.js';
import { startSweep } from './sweep.js';
import {
  activity,
  batchOf,
  createMemoryLogger,
  createTestCollector,
  postBatch,
  T0,
  type TestCollector,
} from './test-harness.js';

const MINUTE = 60_000;

describe('session sweep', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector({
      env: { IDLE_TIMEOUT_MS: String(30 * MINUTE), ABSOLUTE_TIMEOUT_MS: String(60 * MINUTE) },
    });
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function subscribe(sessionId: string): SessionState[] {
    const states: SessionState[] = [];
    collector.hub.subscribe(sessionId, { onState: (state) => states.push(state), onClose: () => {} });
    return states;
  }

  it('sweep ends idle session', async () => {
    collector.clock.set(T0 + MINUTE);
    await postBatch(collector.app, batchOf([activity('event-0001', T0 + MINUTE)]));
    const states = subscribe('session-0001');

    collector.clock.set(T0 + 31 * MINUTE);
    const early = await collector.service.expireSessions();
    collector.clock.set(T0 + 31 * MINUTE + 1);
    const ended = await collector.service.expireSessions();

    expect(early).toEqual([]);
    expect(ended).toMatchObject([{ id: 'session-0001', endReason: 'idle', endedAt: T0 + 31 * MINUTE }]);
    expect(states).toEqual(ended);
    expect((await collector.storage.getSession('session-0001'))?.idleMs).toBe(30 * MINUTE);
  });

  it('sweep ends absolute session', async () => {
    for (const minute of [0, 20, 40, 59]) {
      collector.clock.set(T0 + minute * MINUTE);
      await postBatch(collector.app, batchOf([activity(`event-${minute}-000`, T0 + minute * MINUTE)]));
    }

    collector.clock.set(T0 + 61 * MINUTE);
    const ended = await collector.service.expireSessions();

    expect(ended).toMatchObject([{ endReason: 'absolute', endedAt: T0 + 60 * MINUTE }]);
  });

  it('sweep ends closed session', async () => {
    collector.clock.set(T0);
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    await postBatch(
      collector.app,
      batchOf([{ id: 'event-0002', type: 'tab_closed', ts: T0, data: { tabs: 0 } }]),
    );
    const closeAfterMs = collector.service.closeAfterMs;

    collector.clock.set(T0 + closeAfterMs);
    const early = await collector.service.expireSessions();
    collector.clock.set(T0 + closeAfterMs + 1);
    const ended = await collector.service.expireSessions();

    expect(closeAfterMs).toBe(2 * collector.config.heartbeatMs);
    expect(early).toEqual([]);
    expect(ended).toMatchObject([{ endReason: 'closed', endedAt: T0 }]);
  });

  it('sweep spares active session', async () => {
    collector.clock.set(T0 + 29 * MINUTE);
    await postBatch(collector.app, batchOf([activity('event-0001', T0 + 29 * MINUTE)]));

    collector.clock.set(T0 + 45 * MINUTE);
    const ended = await collector.service.expireSessions();

    expect(ended).toEqual([]);
    expect((await collector.storage.getSession('session-0001'))?.endedAt).toBeNull();
  });

  it('sweep timer runs and logs', async () => {
    collector.clock.set(T0);
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    collector.clock.set(T0 + 31 * MINUTE);
    const { logger, lines } = createMemoryLogger();

    const sweep = startSweep(collector.service, 100, logger);
    const deadline = Date.now() + 5000;
    while (lines.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await sweep.stop();

    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      msg: 'sweep ended session',
      sessionId: 'session-0001',
      endReason: 'idle',
    });
    expect(await sweep.runOnce()).toBe(0);
  });
});
