import { describe, expect, it } from 'vitest';
import { batchSchema, type BatchInput } from '../../shared/src/index.js';
import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';
import { byteLength, packBatches } from './batches.js';
import type { QueuedEvent } from './event-queue.js';

function queued(count: number, note: string, change: Partial<QueuedEvent> = {}): QueuedEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    sessionId: 'session_0001',
    tabId: 'tab_00000001',
    event: {
      id: `evt_${String(index).padStart(8, '0')}_${change.tabId ?? ''}`,
      type: 'custom' as const,
      ts: 1_700_000_000_000 + index,
      data: { name: 'note', props: { note } },
    },
    order: index,
    ...change,
  }));
}

const parse = (body: string) => JSON.parse(body) as BatchInput;

describe('packBatches', () => {
  it('keeps small batch whole', () => {
    const items = queued(3, 'short');
    const [batch, ...rest] = packBatches(items, 'shop', 'client_0001', 30);

    expect(rest).toEqual([]);
    expect(batch?.items).toEqual(items);
    expect(batchSchema.safeParse(parse(batch!.body)).error).toBeUndefined();
    expect(parse(batch!.body)).toMatchObject({ v: 1, appId: 'shop', sessionId: 'session_0001', clientId: 'client_0001' });
    expect(parse(batch!.body).events).toEqual(items.map((item) => item.event));
  });

  it('splits backlog under 64 KiB', () => {
    // 200 events of about 1 KiB of UTF-8 each, where every "€" takes 3 bytes but 1 UTF-16 unit.
    const items = queued(200, '€'.repeat(330));
    const batches = packBatches(items, 'shop', 'client_0001', 500);

    expect(batches).toHaveLength(4);
    for (const batch of batches) expect(byteLength(batch.body)).toBeLessThanOrEqual(MAX_BEACON_BYTES);
    for (const batch of batches.slice(0, -1)) expect(byteLength(batch.body)).toBeGreaterThan(MAX_BEACON_BYTES - 1200);
    expect(batches.flatMap((batch) => parse(batch.body).events)).toEqual(items.map((item) => item.event));
    expect(batches.flatMap((batch) => batch.items)).toEqual(items);
  });

  it('caps events per batch', () => {
    const batches = packBatches(queued(7, 'short'), 'shop', 'client_0001', 3);

    expect(batches.map((batch) => parse(batch.body).events.length)).toEqual([3, 3, 1]);
  });

  it('groups by session and tab', () => {
    const first = queued(2, 'a');
    const otherTab = queued(2, 'b', { tabId: 'tab_00000002' });
    const items = [first[0]!, otherTab[0]!, first[1]!, otherTab[1]!];
    const batches = packBatches(items, 'shop', 'client_0001', 30);

    expect(batches.map((batch) => parse(batch.body).tabId)).toEqual(['tab_00000001', 'tab_00000002']);
    expect(batches[0]?.items).toEqual(first);
    expect(batches[1]?.items).toEqual(otherTab);
  });

  it('uses latest identity of group', () => {
    const items = queued(3, 'short');
    items[0]!.userId = 'user-1';
    items[1]!.userId = 'user-2';
    items[1]!.userGroup = 'support';
    const [batch] = packBatches(items, 'shop', 'client_0001', 30);

    expect(parse(batch!.body)).toMatchObject({ userId: 'user-2', userGroup: 'support' });
    expect(Object.keys(parse(packBatches(queued(1, 'x'), 'shop', 'client_0001', 30)[0]!.body))).not.toContain('userId');
  });

  it('sends oversized event alone', () => {
    const items = queued(3, 'short');
    items[1]!.event = { ...items[1]!.event, data: { name: 'huge', props: { note: 'x'.repeat(70_000) } } } as never;
    const batches = packBatches(items, 'shop', 'client_0001', 30);

    expect(batches.map((batch) => batch.items.length)).toEqual([1, 1, 1]);
    expect(byteLength(batches[1]!.body)).toBeGreaterThan(MAX_BEACON_BYTES);
  });
});
