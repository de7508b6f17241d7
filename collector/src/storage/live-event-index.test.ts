import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LiveEventIndex } from './live-event-index.js';

describe('LiveEventIndex', () => {
  it('added id found, other id not', () => {
    const index = new LiveEventIndex();

    index.add('session-1', 'event-0001');

    expect(index.has('event-0001')).toBe(true);
    expect(index.has('event-0002')).toBe(false);
    expect(index.has('')).toBe(false);
    expect(index.size).toBe(1);
  });

  it('ids one character apart kept apart', () => {
    const index = new LiveEventIndex();
    const base = 'a1b2c3d4-e5f6-4789-8abc-def012345678';
    const neighbours: string[] = [];
    for (let position = 0; position < base.length; position += 1) {
      for (const char of '0123456789abcdef-') {
        const id = base.slice(0, position) + char + base.slice(position + 1);
        if (id !== base) neighbours.push(id);
      }
    }

    index.add('session-1', base);

    expect(neighbours.filter((id) => index.has(id))).toEqual([]);
    expect(index.has(`${base}x`)).toBe(false);
    expect(index.has(base.slice(1))).toBe(false);
  });

  it('second add of an id counted once', () => {
    const index = new LiveEventIndex();

    index.add('session-1', 'event-0001');
    index.add('session-1', 'event-0001');
    index.add('session-2', 'event-0001');

    expect(index.size).toBe(1);
    index.forgetSession('session-2');
    expect(index.has('event-0001')).toBe(true);
    index.forgetSession('session-1');
    expect(index.has('event-0001')).toBe(false);
  });

  it('forgetting a session keeps the others', () => {
    const index = new LiveEventIndex();
    const ids = new Map<string, string[]>();
    for (let session = 0; session < 200; session += 1) {
      const sessionIds = Array.from({ length: 500 }, () => randomUUID());
      ids.set(`session-${session}`, sessionIds);
      for (const id of sessionIds) index.add(`session-${session}`, id);
    }

    for (let session = 0; session < 200; session += 2) index.forgetSession(`session-${session}`);

    expect(index.size).toBe(50_000);
    for (const [session, sessionIds] of ids) {
      const isKept = Number(session.slice('session-'.length)) % 2 === 1;
      expect(sessionIds.filter((id) => index.has(id) !== isKept), session).toEqual([]);
    }
  });

  it('ids added after forgetting found through forgotten slots', () => {
    const index = new LiveEventIndex();
    // Each round fills the tables, forgets most ids and adds new ones, so new
    // ids land in forgotten slots and probe chains run through them.
    const kept: string[] = [];
    for (let round = 0; round < 20; round += 1) {
      const ids = Array.from({ length: 5_000 }, () => randomUUID());
      kept.push(ids[0]!);
      index.add('kept', ids[0]!);
      for (const id of ids.slice(1)) index.add(`round-${round}`, id);
      if (round > 0) index.forgetSession(`round-${round - 1}`);
    }

    expect(index.size).toBe(20 + 4_999);
    expect(kept.filter((id) => !index.has(id))).toEqual([]);
    index.forgetSession('round-19');
    expect(index.size).toBe(20);
    expect(kept.filter((id) => !index.has(id))).toEqual([]);
  });

  it('unknown session forget is harmless', () => {
    const index = new LiveEventIndex();
    index.add('session-1', 'event-0001');

    index.forgetSession('session-unknown');

    expect(index.has('event-0001')).toBe(true);
  });
});
