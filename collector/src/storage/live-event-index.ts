/** Number of Sets the ids are spread over. */
const SHARDS = 64;

/**
 * The event ids of live sessions, held in memory in full, so that a write
 * group finds a resent event without reading DuckDB.
 *
 * At start-up the ids are read from the stored events of live sessions. This
 * index costs about 30 bytes per id besides the id string (measured with 1
 * million ids). The index must also contain the ids of groups not yet
 * loaded. So every id a group logs is added, and the ids of a session are
 * forgotten when the session ends or is erased, because an ended session
 * accepts no event.
 */
export class LiveEventIndex {
  /**
   * Shards of the ids, because one V8 Set can contain at most 2^24 (about
   * 16.7 million) entries. 64 evenly filled shards can contain about a billion.
   */
  readonly #shards = Array.from({ length: SHARDS }, () => new Set<string>());
  readonly #idsBySession = new Map<string, string[]>();

  /** Number of ids held. */
  get size(): number {
    return this.#shards.reduce((total, shard) => total + shard.size, 0);
  }

  /** Returns whether a live session stored an event with this id. */
  has(id: string): boolean {
    return this.#shardOf(id).has(id);
  }

  /** Adds the id of an event a live session stored. */
  add(sessionId: string, id: string): void {
    const shard = this.#shardOf(id);
    const size = shard.size;
    shard.add(id);
    // One lookup instead of `has` then `add`: the size grows only for a new id.
    if (shard.size === size) return;
    const ids = this.#idsBySession.get(sessionId);
    if (ids) ids.push(id);
    else this.#idsBySession.set(sessionId, [id]);
  }

  /** Forgets the ids of a session that ended or was erased. */
  forgetSession(sessionId: string): void {
    const ids = this.#idsBySession.get(sessionId);
    if (!ids) return;
    for (const id of ids) this.#shardOf(id).delete(id);
    this.#idsBySession.delete(sessionId);
  }

  #shardOf(id: string): Set<string> {
    // The last characters vary most in generated ids such as UUIDs.
    const code = id.charCodeAt(id.length - 1) * 31 + id.charCodeAt(id.length - 2);
    return this.#shards[code % SHARDS]!;
  }
}
