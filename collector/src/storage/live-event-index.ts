/**
 * The event ids of live sessions, held in memory in full, so that a write
 * group finds a resent event without reading DuckDB.
 *
 * The `live_event_ids` table keeps the same ids for the next start. This
 * index costs about 30 bytes per id besides the id string (measured with 1
 * million ids). A DuckDB key on that table would keep an ART index in
 * memory too. The index must contain the ids of that table plus those of
 * groups not yet loaded: every id a group logs is added, and the ids of a
 * session are forgotten when the session ends or is erased, as the table's
 * rows are.
 */
export class LiveEventIndex {
  readonly #ids = new Set<string>();
  readonly #idsBySession = new Map<string, string[]>();

  /** Number of ids held. */
  get size(): number {
    return this.#ids.size;
  }

  /** Returns whether a live session stored an event with this id. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Adds the id of an event a live session stored. */
  add(sessionId: string, id: string): void {
    if (this.#ids.has(id)) return;
    this.#ids.add(id);
    const ids = this.#idsBySession.get(sessionId);
    if (ids) ids.push(id);
    else this.#idsBySession.set(sessionId, [id]);
  }

  /** Forgets the ids of a session that ended or was erased. */
  forgetSession(sessionId: string): void {
    const ids = this.#idsBySession.get(sessionId);
    if (!ids) return;
    for (const id of ids) this.#ids.delete(id);
    this.#idsBySession.delete(sessionId);
  }
}
