import { getRandomValues } from 'node:crypto';

/** Number of hash tables the fingerprints are spread over, a power of 2. */
const SHARDS = 64;
/** Slots of a new or emptied shard, a power of 2. */
const MIN_SLOTS = 64;
/** `low` word of an empty slot. Fingerprints have an odd `low` word, so they never match it. */
const EMPTY = 0;
/** `low` word of a slot whose fingerprint was forgotten. */
const FORGOTTEN = 2;

/** An open-addressing hash table of 64-bit fingerprints, two words a slot. */
interface Shard {
  slots: Uint32Array;
  /** Fingerprints held. */
  size: number;
  /** Slots that are not empty: fingerprints held plus forgotten ones. */
  used: number;
}

/**
 * Secret start states of the two fingerprint hashes, drawn for each process.
 * Clients choose event ids, and without a secret a client could compute ids
 * that share a fingerprint's `high` word and so one probe chain, which makes
 * every add and lookup in that shard linear in their number.
 *
 * NOTE: a secret seed makes such ids hard to compute but does not make the
 * hash a keyed pseudorandom function such as SipHash.
 */
const seeds = getRandomValues(new Uint32Array(2));
const SEED_HIGH = seeds[0]!;
const SEED_LOW = seeds[1]!;

/** Words of the fingerprint `fingerprint` computed last, so that no call allocates. */
let high = 0;
let low = 0;

/**
 * Computes a 64-bit fingerprint of an event id within its session into
 * `high` and `low`. Each word is a 32-bit multiply-xorshift hash of the UTF-16
 * code units of the session id and then the event id, with its own secret
 * seed and constants, finished with MurmurHash3's avalanche step. Both
 * lengths go into the start state, so no two pairs hash the same code units.
 * `low` is made odd, which leaves 63 bits.
 */
function fingerprint(sessionId: string, id: string): void {
  const lengths = (sessionId.length << 16) ^ id.length;
  let a = 0x9e3779b9 ^ SEED_HIGH ^ lengths;
  let b = 0x85ebca6b ^ SEED_LOW ^ lengths;
  for (let i = 0; i < sessionId.length; i += 1) {
    const code = sessionId.charCodeAt(i);
    a = Math.imul(a ^ code, 0x5bd1e995);
    a ^= a >>> 13;
    b = Math.imul(b ^ code, 0x1b873593);
    b ^= b >>> 15;
  }
  for (let i = 0; i < id.length; i += 1) {
    const code = id.charCodeAt(i);
    a = Math.imul(a ^ code, 0x5bd1e995);
    a ^= a >>> 13;
    b = Math.imul(b ^ code, 0x1b873593);
    b ^= b >>> 15;
  }
  high = avalanche(a);
  low = (avalanche(b) | 1) >>> 0;
}

/** Returns the fingerprint of an event id in a session as `[high, low]`, as the index of this process computes it. */
export function fingerprintOf(sessionId: string, id: string): [number, number] {
  fingerprint(sessionId, id);
  return [high, low];
}

function avalanche(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The event ids of live sessions, held in memory in full, so that a write
 * group finds a resent event without reading DuckDB. An id is a duplicate
 * only within its session: two sessions may each store an event with the
 * same id, as integrations that number events per session do.
 *
 * It keeps a 64-bit fingerprint of each session id and event id pair (63
 * bits of it vary), not the strings: about 35 bytes per id (measured with 1 million ids), where a Set
 * of the strings took about 94, and the ids of a request die young instead
 * of moving to V8's old space. A new id matches one of n held fingerprints
 * with a chance of n in 2^63. With 10 million ids held, about one new event
 * in 10^12 is taken for a duplicate.
 *
 * At start-up the ids are read from the stored events of live sessions. The
 * index must also contain the ids of groups not yet loaded. So every id a
 * group logs is added, and the ids of a session are forgotten when the
 * session ends or is erased, because an ended session accepts no event.
 */
export class LiveEventIndex {
  /**
   * Shards, so that growing or cleaning one table copies at most about a
   * 64th of the fingerprints at once.
   */
  readonly #shards: Shard[] = Array.from({ length: SHARDS }, () => emptyShard(MIN_SLOTS));
  /** The fingerprints each session added, as `high, low` pairs, to forget them with it. */
  readonly #fingerprintsBySession = new Map<string, number[]>();

  /** Number of ids held. */
  get size(): number {
    return this.#shards.reduce((total, shard) => total + shard.size, 0);
  }

  /** Returns whether the live session `sessionId` stored an event with this id. */
  has(sessionId: string, id: string): boolean {
    fingerprint(sessionId, id);
    return findSlot(this.#shardOf(high), high, low) >= 0;
  }

  /** Adds the id of an event a live session stored. */
  add(sessionId: string, id: string): void {
    fingerprint(sessionId, id);
    if (!insert(this.#shardOf(high), high, low)) return;
    const fingerprints = this.#fingerprintsBySession.get(sessionId);
    if (fingerprints) fingerprints.push(high, low);
    else this.#fingerprintsBySession.set(sessionId, [high, low]);
  }

  /** Forgets the ids of a session that ended or was erased. */
  forgetSession(sessionId: string): void {
    const fingerprints = this.#fingerprintsBySession.get(sessionId);
    if (!fingerprints) return;
    for (let i = 0; i < fingerprints.length; i += 2) {
      remove(this.#shardOf(fingerprints[i]!), fingerprints[i]!, fingerprints[i + 1]!);
    }
    this.#fingerprintsBySession.delete(sessionId);
  }

  #shardOf(hash: number): Shard {
    // The top bits pick the shard, and the bottom bits the slot.
    return this.#shards[hash >>> 26]!;
  }
}

function emptyShard(slotCount: number): Shard {
  return { slots: new Uint32Array(slotCount * 2), size: 0, used: 0 };
}

/** Returns the word index of the fingerprint's slot, or -1 when the shard does not hold it. */
function findSlot(shard: Shard, hashHigh: number, hashLow: number): number {
  const { slots } = shard;
  const mask = slots.length / 2 - 1;
  for (let slot = hashHigh & mask; ; slot = (slot + 1) & mask) {
    const word = slot * 2;
    const slotLow = slots[word + 1]!;
    if (slotLow === EMPTY) return -1;
    if (slotLow === hashLow && slots[word] === hashHigh) return word;
  }
}

/** Adds a fingerprint and returns true, or returns false when the shard has it already. */
function insert(shard: Shard, hashHigh: number, hashLow: number): boolean {
  if (findSlot(shard, hashHigh, hashLow) >= 0) return false;
  // At most 70% of the slots are used, so every probe ends at an empty slot.
  if ((shard.used + 1) * 10 > (shard.slots.length / 2) * 7) rebuild(shard, shard.size + 1);
  const { slots } = shard;
  const mask = slots.length / 2 - 1;
  let slot = hashHigh & mask;
  while (slots[slot * 2 + 1] !== EMPTY && slots[slot * 2 + 1] !== FORGOTTEN) slot = (slot + 1) & mask;
  if (slots[slot * 2 + 1] === EMPTY) shard.used += 1;
  slots[slot * 2] = hashHigh;
  slots[slot * 2 + 1] = hashLow;
  shard.size += 1;
  return true;
}

/** Marks a fingerprint's slot as forgotten, which keeps the probe chains through it intact. */
function remove(shard: Shard, hashHigh: number, hashLow: number): void {
  const word = findSlot(shard, hashHigh, hashLow);
  if (word < 0) return;
  shard.slots[word + 1] = FORGOTTEN;
  shard.size -= 1;
  if (shard.size === 0) Object.assign(shard, emptyShard(MIN_SLOTS));
}

/**
 * Copies the held fingerprints into a table with at least two slots per
 * fingerprint for `size` of them, which drops the forgotten slots.
 */
function rebuild(shard: Shard, size: number): void {
  let slotCount = MIN_SLOTS;
  while (slotCount < size * 2) slotCount *= 2;
  const old = shard.slots;
  Object.assign(shard, emptyShard(slotCount));
  const mask = slotCount - 1;
  for (let word = 0; word < old.length; word += 2) {
    const hashLow = old[word + 1]!;
    if (hashLow === EMPTY || hashLow === FORGOTTEN) continue;
    let slot = old[word]! & mask;
    while (shard.slots[slot * 2 + 1] !== EMPTY) slot = (slot + 1) & mask;
    shard.slots[slot * 2] = old[word]!;
    shard.slots[slot * 2 + 1] = hashLow;
    shard.size += 1;
    shard.used += 1;
  }
}
