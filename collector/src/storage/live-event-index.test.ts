import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { idSchema } from '../../../shared/src/index.js';
import { fingerprintOf, LiveEventIndex } from './live-event-index.js';

describe('LiveEventIndex', () => {
  it('added id found, other id not', () => {
    const index = new LiveEventIndex();

    index.add('session-1', 'event-0001');

    expect(index.has('session-1', 'event-0001')).toBe(true);
    expect(index.has('session-1', 'event-0002')).toBe(false);
    expect(index.has('session-1', '')).toBe(false);
    expect(index.size).toBe(1);
  });

  it('id found only in the session that added it', () => {
    const index = new LiveEventIndex();

    index.add('session-1', 'event-0001');

    expect(index.has('session-2', 'event-0001')).toBe(false);
    expect(index.has('session-1', 'event-0001')).toBe(true);
  });

  it('pairs that join to the same text kept apart', () => {
    const index = new LiveEventIndex();

    index.add('session-ab', 'cdefghij');

    expect(index.has('session-a', 'bcdefghij')).toBe(false);
    expect(index.has('session-abc', 'defghij')).toBe(false);
    expect(index.has('session-ab', 'cdefghij')).toBe(true);
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

    expect(neighbours.filter((id) => index.has('session-1', id))).toEqual([]);
    expect(index.has('session-1', `${base}x`)).toBe(false);
    expect(index.has('session-1', base.slice(1))).toBe(false);
  });

  it('second add of an id in a session counted once', () => {
    const index = new LiveEventIndex();

    index.add('session-1', 'event-0001');
    index.add('session-1', 'event-0001');
    index.add('session-2', 'event-0001');

    expect(index.size).toBe(2);
    index.forgetSession('session-2');
    expect(index.has('session-1', 'event-0001')).toBe(true);
    expect(index.has('session-2', 'event-0001')).toBe(false);
    index.forgetSession('session-1');
    expect(index.has('session-1', 'event-0001')).toBe(false);
    expect(index.size).toBe(0);
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
      expect(sessionIds.filter((id) => index.has(session, id) !== isKept), session).toEqual([]);
    }
  });

  it('ids found past forgotten slots', () => {
    const index = new LiveEventIndex();
    // Each round fills the tables, forgets most ids and adds new ones, so new
    // ids land in forgotten slots and probe chains run through them.
    const keptIds: string[] = [];
    for (let round = 0; round < 20; round += 1) {
      const ids = Array.from({ length: 5_000 }, () => randomUUID());
      keptIds.push(ids[0]!);
      index.add('kept', ids[0]!);
      for (const id of ids.slice(1)) index.add(`round-${round}`, id);
      if (round > 0) index.forgetSession(`round-${round - 1}`);
    }

    expect(index.size).toBe(20 + 4_999);
    expect(keptIds.filter((id) => !index.has('kept', id))).toEqual([]);
    index.forgetSession('round-19');
    expect(index.size).toBe(20);
    expect(keptIds.filter((id) => !index.has('kept', id))).toEqual([]);
  });

  it('unknown session forget is harmless', () => {
    const index = new LiveEventIndex();
    index.add('session-1', 'event-0001');

    index.forgetSession('session-unknown');

    expect(index.has('session-1', 'event-0001')).toBe(true);
  });
});

/** Returns a PRNG with uniform floats in [0, 1), the same sequence for the same seed (mulberry32). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The index's contract kept with strings: a live session has the ids it
 * added until it is forgotten.
 */
class ModelIndex {
  readonly idsBySession = new Map<string, Set<string>>();
  size = 0;

  has(sessionId: string, id: string): boolean {
    return this.idsBySession.get(sessionId)?.has(id) ?? false;
  }

  add(sessionId: string, id: string): void {
    const ids = this.idsBySession.get(sessionId) ?? new Set<string>();
    this.idsBySession.set(sessionId, ids);
    if (ids.has(id)) return;
    ids.add(id);
    this.size += 1;
  }

  forgetSession(sessionId: string): void {
    this.size -= this.idsBySession.get(sessionId)?.size ?? 0;
    this.idsBySession.delete(sessionId);
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** Computes one character step of the index's first hash, as it ran without a seed. */
function unseededStep(state: number, code: number): number {
  const mixed = Math.imul(state ^ code, 0x5bd1e995);
  return mixed ^ (mixed >>> 13);
}

/** Returns the state of the index's first hash without a seed after the session id. */
function unseededSessionState(sessionId: string, idLength: number): number {
  let state = 0x9e3779b9 ^ ((sessionId.length << 16) ^ idLength);
  for (let i = 0; i < sessionId.length; i += 1) state = unseededStep(state, sessionId.charCodeAt(i));
  return state;
}

/** Returns the `high` word the index would compute for an event id of a session without a seed. */
function unseededHigh(sessionId: string, id: string): number {
  let state = unseededSessionState(sessionId, id.length);
  for (let i = 0; i < id.length; i += 1) state = unseededStep(state, id.charCodeAt(i));
  let h = state;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Returns 2^blocks valid event ids of one length that all end in the same
 * state of the index's first hash within session `sessionId` when it starts
 * from its fixed constant.
 * Each 4-character block pair is a birthday collision from the state before
 * it, and every combination of the pairs keeps the final state (Joux
 * multicollisions), so the ids would share one shard and one home slot.
 */
function craftCollidingIds(sessionId: string, blocks: number, random: () => number): string[] {
  const length = blocks * 4 + 4;
  let state = unseededSessionState(sessionId, length);
  let ids = [''];
  for (let block = 0; block < blocks; block += 1) {
    const blockByState = new Map<number, string>();
    for (;;) {
      let candidate = '';
      let next = state;
      for (let i = 0; i < 4; i += 1) {
        const char = ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)]!;
        candidate += char;
        next = unseededStep(next, char.charCodeAt(0));
      }
      const prior = blockByState.get(next);
      if (prior !== undefined && prior !== candidate) {
        ids = ids.flatMap((prefix) => [prefix + prior, prefix + candidate]);
        state = next;
        break;
      }
      blockByState.set(next, candidate);
    }
  }
  return ids.map((id) => `${id}tail`);
}

describe('LiveEventIndex with chosen ids', () => {
  it('crafted ids spread over shards', () => {
    const crafted = craftCollidingIds('session-1', 15, seededRandom(7));
    const unseededHighs = new Set(crafted.map((id) => unseededHigh('session-1', id)));

    // Without the seed every crafted id had one `high` word: one shard, one
    // home slot and a probe chain as long as their number.
    const highs = new Set(crafted.map((id) => fingerprintOf('session-1', id)[0]));
    const shards = new Set([...highs].map((high) => high >>> 26));

    expect(crafted.length).toBe(32_768);
    expect(new Set(crafted).size).toBe(crafted.length);
    expect(crafted.filter((id) => !idSchema.safeParse(id).success)).toEqual([]);
    expect(unseededHighs.size).toBe(1);
    expect(highs.size).toBeGreaterThan(32_700);
    expect(shards.size).toBe(64);
  });
});

describe('LiveEventIndex against a Map model', () => {
  // Each seed runs rounds that grow the index to a target size and then forget
  // sessions down to another, so tables grow, fill with forgotten slots,
  // rebuild, shrink and empty. Ids come from a bounded pool, so forgotten ids
  // are added again, by the same session or another one, and looked up in
  // sessions that hold them and sessions that do not.
  for (const seed of [1, 2, 3]) {
    it(`random operations agree, seed ${seed}`, () => {
      const random = seededRandom(seed);
      const pick = (count: number) => Math.floor(random() * count);
      const idPool = Array.from({ length: 12_000 }, (_, i) => `${seed}-event-${i.toString(36)}-${pick(1e9)}`);
      const index = new LiveEventIndex();
      const model = new ModelIndex();
      const mismatches: string[] = [];
      let checks = 0;

      const compare = (sessionId: string, id: string) => {
        checks += 1;
        if (index.has(sessionId, id) !== model.has(sessionId, id)) mismatches.push(`${sessionId} ${id}`);
      };
      // Checks every held pair, and every id of the pool in a session drawn from those of the round.
      const compareAll = (round: number, sessionCount: number) => {
        for (const [sessionId, ids] of model.idsBySession) for (const id of ids) compare(sessionId, id);
        for (const id of idPool) compare(`session-${round}-${pick(sessionCount + 1)}`, id);
      };

      for (let round = 0; round < 8; round += 1) {
        const growTo = [50, 3_000, 9_000, 200][round % 4]!;
        const shrinkTo = pick(2) === 0 ? 0 : pick(growTo / 2);
        const sessionCount = 1 + pick(40);
        const anySession = () => `session-${round - pick(2)}-${pick(sessionCount)}`;

        while (model.size < growTo) {
          const sessionId = `session-${round}-${pick(sessionCount)}`;
          const id = idPool[pick(idPool.length)]!;
          index.add(sessionId, id);
          model.add(sessionId, id);
          compare(anySession(), idPool[pick(idPool.length)]!);
        }
        compareAll(round, sessionCount);
        expect(index.size).toBe(model.size);

        while (model.size > shrinkTo) {
          const sessions = [...model.idsBySession.keys()];
          const sessionId = sessions[pick(sessions.length)]!;
          index.forgetSession(sessionId);
          model.forgetSession(sessionId);
          compare(anySession(), idPool[pick(idPool.length)]!);
        }
        index.forgetSession(`session-never-${round}`);
        compareAll(round, sessionCount);
        expect(index.size).toBe(model.size);
      }

      expect(mismatches.slice(0, 10)).toEqual([]);
      expect(checks).toBeGreaterThan(100_000);
    });
  }
});
