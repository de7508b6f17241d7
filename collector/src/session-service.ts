import type { Batch, BatchReply, SessionState } from '../../shared/src/index.js';
import type { Config } from './config.js';
import {
  applyBatch,
  type BatchOutcome,
  createSessionRow,
  endSession,
  expireSession,
} from './session-rules.js';
import { toSessionState } from './session-state.js';
import type { LiveSessionFilter, SessionRow, Storage, WriteView } from './storage/index.js';
import type { StreamHub } from './stream-hub.js';

/** Dependencies of `SessionService`. */
export interface SessionServiceOptions {
  storage: Storage;
  hub: StreamHub;
  config: Pick<Config, 'idleTimeoutMs' | 'absoluteTimeoutMs' | 'warningMs' | 'heartbeatMs'>;
  /** Server clock in epoch ms. @default Date.now */
  now?: () => number;
}

/** Result of `SessionService.ingest`, one variant per HTTP outcome. */
export type IngestResult =
  | { status: 'stored'; reply: BatchReply }
  | { status: 'ended'; session: SessionState }
  | { status: 'mismatch'; field: 'appId' | 'clientId' };

type IngestPlan =
  | { status: 'stored'; row: SessionRow; outcome: BatchOutcome; isCreated: boolean }
  | { status: 'ended'; row: SessionRow }
  | { status: 'mismatch'; field: 'appId' | 'clientId' };

/**
 * Session lifecycle on top of storage: applies batches, terminates sessions,
 * ends expired ones and publishes every start and end to the stream hub.
 */
export class SessionService {
  readonly #storage: Storage;
  readonly #hub: StreamHub;
  readonly #config: SessionServiceOptions['config'];
  readonly #now: () => number;

  constructor(options: SessionServiceOptions) {
    this.#storage = options.storage;
    this.#hub = options.hub;
    this.#config = options.config;
    this.#now = options.now ?? Date.now;
  }

  /** A session with no open tab ends when no batch arrived for two heartbeat intervals. */
  get closeAfterMs(): number {
    return 2 * this.#config.heartbeatMs;
  }

  /** Applies a validated batch and resolves once its writes are committed. */
  async ingest(batch: Batch): Promise<IngestResult> {
    const receivedAt = this.#now();
    const plan = await this.#storage.transact({
      sessionIds: [batch.sessionId],
      eventIds: batch.events.map((event) => event.id),
      apply: (view) => this.#planBatch(view, batch, receivedAt),
    });

    if (plan.status === 'mismatch') return plan;
    const session = toSessionState(plan.row, this.#config);
    if (plan.status === 'ended') return { status: 'ended', session };

    if (plan.isCreated || plan.outcome.hasEnded) this.#hub.publish(session);
    const { outcome } = plan;
    return {
      status: 'stored',
      reply: {
        accepted: outcome.events.length,
        duplicates: outcome.duplicates,
        rejected: outcome.rejected,
        session,
      },
    };
  }

  #planBatch(view: WriteView, batch: Batch, receivedAt: number): IngestPlan {
    const existing = view.getSession(batch.sessionId);
    if (existing && existing.endedAt !== null) return { status: 'ended', row: existing };
    if (existing && existing.clientId !== batch.clientId) {
      return { status: 'mismatch', field: 'clientId' };
    }
    if (existing && existing.appId !== batch.appId) return { status: 'mismatch', field: 'appId' };

    const row = existing ?? createSessionRow(batch, receivedAt, this.#config);
    const outcome = applyBatch(row, batch, receivedAt, (id) => view.hasEvent(id));
    // Events may be old (an upload delayed while offline), so the limits are checked against
    // server time too.
    if (expireSession(row, receivedAt)) outcome.hasEnded = true;

    view.putSession(row);
    for (const event of outcome.events) view.addEvent(event);
    return { status: 'stored', row, outcome, isCreated: existing === undefined };
  }

  /**
   * Ends a session with reason `terminated` and the admin's note, and returns
   * its state. An ended session is returned unchanged, an unknown id as undefined.
   */
  async terminate(id: string, note: string | null): Promise<SessionState | undefined> {
    const now = this.#now();
    const result = await this.#storage.transact({
      sessionIds: [id],
      eventIds: [],
      apply: (view) => {
        const row = view.getSession(id);
        if (!row || row.endedAt !== null) return { row, hasEnded: false };

        endSession(row, 'terminated', now, note);
        row.updatedAt = now;
        view.putSession(row);
        return { row, hasEnded: true };
      },
    });

    if (!result.row) return undefined;
    const session = toSessionState(result.row, this.#config);
    if (result.hasEnded) this.#hub.publish(session);
    return session;
  }

  /** Ends live sessions that are expired or closed at the current time and returns their states. */
  async expireSessions(): Promise<SessionState[]> {
    const now = this.#now();
    const ids = await this.#storage.findSessionsToExpire(now, this.closeAfterMs);
    if (ids.length === 0) return [];

    const ended = await this.#storage.transact({
      sessionIds: ids,
      eventIds: [],
      apply: (view) => {
        const rows: SessionRow[] = [];
        for (const id of ids) {
          // Rechecked here, because a batch may have arrived since the query.
          const row = view.getSession(id);
          if (!row || !expireSession(row, now, this.closeAfterMs)) continue;
          row.updatedAt = now;
          view.putSession(row);
          rows.push(row);
        }
        return rows;
      },
    });

    const states = ended.map((row) => toSessionState(row, this.#config));
    for (const state of states) this.#hub.publish(state);
    return states;
  }

  /** Returns the current state of a session, or undefined for an unknown id. */
  async getState(id: string): Promise<SessionState | undefined> {
    const row = await this.#storage.getSession(id);
    return row ? toSessionState(row, this.#config) : undefined;
  }

  /** Lists live sessions, most recently seen first. */
  listLive(filter: LiveSessionFilter): Promise<SessionRow[]> {
    return this.#storage.listLiveSessions(filter);
  }
}
