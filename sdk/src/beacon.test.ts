import { describe, expect, it } from 'vitest';
import type { BatchInput } from '../../shared/src/index.js';
import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';
import { splitBatch } from './beacon.js';

const byteLength = (text: string) => new TextEncoder().encode(text).length;

function batchOf(count: number, note: string): BatchInput {
  const events = Array.from({ length: count }, (_, index) => ({
    id: `evt_${String(index).padStart(8, '0')}`,
    type: 'custom' as const,
    ts: 1_700_000_000_000 + index,
    data: { name: 'note', props: { note } },
  }));

  return { v: 1, appId: 'shop', sessionId: 'session_0001', tabId: 'tab_00000001', clientId: 'client_0001', events };
}

describe('splitBatch', () => {
  it('keeps small batch whole', () => {
    const batch = batchOf(3, 'short');

    expect(splitBatch(batch, MAX_BEACON_BYTES, () => {})).toEqual([JSON.stringify(batch)]);
  });

  it('splits backlog under 64 KiB', () => {
    // 200 events of about 1 KiB of UTF-8 each, where every "€" takes 3 bytes but 1 UTF-16 unit.
    const batch = batchOf(200, '€'.repeat(330));
    const bodies = splitBatch(batch, MAX_BEACON_BYTES, () => {});
    const parsed = bodies.map((body) => JSON.parse(body) as BatchInput);

    expect(bodies.length).toBe(4);
    for (const body of bodies) expect(byteLength(body)).toBeLessThanOrEqual(MAX_BEACON_BYTES);
    expect(parsed.flatMap((part) => part.events)).toEqual(batch.events);
    expect(parsed.every((part) => part.sessionId === batch.sessionId && part.tabId === batch.tabId)).toBe(true);
  });

  it('fills each body close to limit', () => {
    const batch = batchOf(200, 'x'.repeat(1000));
    const bodies = splitBatch(batch, MAX_BEACON_BYTES, () => {});

    for (const body of bodies.slice(0, -1)) expect(byteLength(body)).toBeGreaterThan(MAX_BEACON_BYTES - 1100);
  });

  it('drops event over limit', () => {
    const batch = batchOf(3, 'short');
    batch.events[1] = { ...batch.events[1]!, data: { name: 'huge', props: { note: 'x'.repeat(70_000) } } } as never;
    const dropped: unknown[] = [];

    const bodies = splitBatch(batch, MAX_BEACON_BYTES, (event) => dropped.push(event));
    const sent = bodies.flatMap((body) => (JSON.parse(body) as BatchInput).events);

    expect(dropped).toEqual([batch.events[1]]);
    expect(sent).toEqual([batch.events[0], batch.events[2]]);
  });
});
