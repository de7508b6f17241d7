import { describe, expect, it } from 'vitest';
import { batchEnvelopeSchema, batchSchema, MAX_EVENTS_PER_BATCH, PROTOCOL_VERSION } from './index.js';

function batchWith(events: unknown[]) {
  return {
    v: PROTOCOL_VERSION,
    appId: 'shop-web',
    sessionId: '2b1c4c3e-9f0a-4c5e-8d3b-1a2b3c4d5e6f',
    tabId: 'tab_0123456789',
    clientId: 'client_0123456789',
    events,
  };
}

describe('batchSchema', () => {
  it('accepts every event type', () => {
    const ts = 1_700_000_000_000;
    const events = [
      { id: 'evt_00000001', type: 'session_start', ts },
      { id: 'evt_00000002', type: 'activity', ts, data: { kind: 'pointer', count: 3 } },
      { id: 'evt_00000003', type: 'idle', ts },
      { id: 'evt_00000004', type: 'active', ts, data: { idleMs: 5000 } },
      { id: 'evt_00000005', type: 'heartbeat', ts, data: { tabs: 2 } },
      { id: 'evt_00000006', type: 'tab_opened', ts, data: { tabs: 2 } },
      { id: 'evt_00000007', type: 'tab_closed', ts, data: { tabs: 1 } },
      { id: 'evt_00000008', type: 'page_view', ts, data: { url: 'https://example.com/a' } },
      { id: 'evt_00000009', type: 'custom', ts, data: { name: 'checkout', props: { n: 1 } } },
      { id: 'evt_00000010', type: 'session_end', ts, data: { reason: 'logout' } },
    ];

    const result = batchSchema.safeParse(batchWith(events));

    expect(result.success).toBe(true);
    expect(result.data?.events).toHaveLength(10);
  });

  it('converts ISO timestamps with offsets to UTC epoch ms', () => {
    const event = { id: 'evt_00000001', type: 'idle', ts: '2026-01-01T01:00:00+01:00' };

    const batch = batchSchema.parse(batchWith([event]));

    expect(batch.events[0]?.ts).toBe(Date.UTC(2026, 0, 1, 0, 0, 0));
  });

  it('names the path of an unknown event type', () => {
    const result = batchSchema.safeParse(batchWith([{ id: 'evt_00000001', type: 'nope', ts: 1 }]));

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['events', 0, 'type']);
  });

  it('rejects control characters and lone surrogates', () => {
    for (const userId of ['a\u0000b', 'a\ud800b']) {
      const result = batchSchema.safeParse({ ...batchWith([{ id: 'evt_00000001', type: 'idle', ts: 1 }]), userId });

      expect(result.success, JSON.stringify(userId)).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['userId']);
    }
  });
});

describe('batchEnvelopeSchema', () => {
  it('keeps invalid events unchecked', () => {
    const events = [{ id: 'evt_00000001', type: 'nope' }, 42];

    const envelope = batchEnvelopeSchema.parse(batchWith(events));

    expect(envelope.events).toEqual(events);
  });

  it('checks the envelope fields', () => {
    const result = batchEnvelopeSchema.safeParse({ ...batchWith([{}]), sessionId: 'short' });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['sessionId']);
  });

  it('bounds the event count', () => {
    const tooMany = Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, () => ({}));

    expect(batchEnvelopeSchema.safeParse(batchWith([])).success).toBe(false);
    expect(batchEnvelopeSchema.safeParse(batchWith(tooMany)).success).toBe(false);
  });

  it('rejects unsafe free text, URLs and end reasons', () => {
    const ts = 1_700_000_000_000;
    const cases: [string, unknown, (string | number)[]][] = [
      ['NUL in title', { type: 'page_view', data: { url: 'https://a.example/', title: 't\u0000x' } }, ['title']],
      ['lone surrogate in referrer', { type: 'page_view', data: { url: 'https://a.example/', referrer: 'https://b.example/\ud800' } }, ['referrer']],
      ['javascript: URL', { type: 'page_view', data: { url: 'javascript:alert(1)' } }, ['url']],
      ['markup as URL', { type: 'page_view', data: { url: '<svg/onload=alert(6)>' } }, ['url']],
      ['NUL in a props key', { type: 'custom', data: { name: 'n', props: { '\u0000key': 1 } } }, ['props']],
      ['NUL in a props value', { type: 'custom', data: { name: 'n', props: { key: 'a\u0000' } } }, ['props', 'key']],
      ['server-only end reason', { type: 'session_end', data: { reason: 'terminated' } }, ['reason']],
    ];

    for (const [name, event, pathTail] of cases) {
      const result = batchSchema.safeParse(batchWith([{ id: 'evt_00000001', ts, ...(event as object) }]));

      expect(result.success, name).toBe(false);
      const path = result.error?.issues[0]?.path ?? [];
      expect(path.slice(0, 4), name).toEqual(['events', 0, 'data', pathTail[0]]);
    }
  });

  it('accepts tabs and line breaks in free text', () => {
    const event = {
      id: 'evt_00000001',
      type: 'page_view',
      ts: 1,
      data: { url: 'https://a.example/', title: 'Line one\n\tLine two', referrer: '' },
    };

    expect(batchSchema.safeParse(batchWith([event])).success).toBe(true);
  });
});
