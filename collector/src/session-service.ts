import type { Logger } from 'pino';
import type { Batch, BatchReply, SessionState } from '../../shared/src/index.js';
import type { Config } from './config.js';
import { planBatch, type IngestPlan } from './ingest-plan.js';
import { PolicyRegistry, type Resolution } from './policy/policy-registry.js';
import { settingsFromConfig } from './policy/session-settings.js';
import { planExpire, planReapply, planTerminate, planTerminateUser } from './session-plans.js';
import { sessionPolicy, toSessionState } from './session-state.js';
import type { AuditActor, SessionFilter, SessionRow, Storage } from './storage/index.js';
import type { StreamHub } from './stream-hub.js';

/** Dependencies of `SessionService`. */
export interface SessionServiceOptions {
  storage: Storage;
  hub: StreamHub;
  /** Default settings; those saved through the admin API override them. */
  config: Pick<
    Config,
    | 'idleTimeoutMs'
    | 'absoluteTimeoutMs'
    | 'warningMs'
    | 'heartbeatMs'
    | 'enabled'
    | 'maxSessionsPerUser'
    | 'sessionLimitBehavior'
    | 'maxTabs'
  >;
  /** Server clock in epoch ms. @default Date.now */
  now?: () => number;
  /** Receives a warning for each stored setting or policy that no longer validates. */
  logger?: Pick<Logger, 'warn'>;
}

/** Result of `SessionService.ingest`, one variant per HTTP outcome. */
export type IngestResult =
  | { status: 'stored'; reply: BatchReply }
  | { status: 'ended'; session: SessionState; isErased?: true }
  | { status: 'mismatch'; field: 'appId' | 'clientId' }
  | { status: 'disabled'; session: SessionState }
  | { status: 'limit'; userId: string; maxSessionsPerUser: number };

/** Live sessions re-resolved in one write transaction by `reapplyPolicies`. */
const REAPPLY_CHUNK = 1000;

/**
 * Session lifecycle on top of storage: applies batches under the policy in
 * force, terminates sessions, ends expired ones, records every end in the
 * audit log and publishes every start, end and policy change to the hub.
 */
export class SessionService {
  /** Default settings, custom policies and the user group map. */
  readonly policies: PolicyRegistry;
  readonly #storage: Storage;
  readonly #hub: StreamHub;
  readonly #now: () => number;
  readonly #logger: Pick<Logger, 'warn'> | undefined;
  #loading: Promise<void> | undefined;

  constructor(options: SessionServiceOptions) {
    this.#storage = options.storage;
    this.#hub = options.hub;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.policies = new PolicyRegistry(settingsFromConfig(options.config));
  }

  /**
   * Loads the stored settings and policies on the first call and resolves
   * once they are loaded. Every method waits for it.
   */
  ready(): Promise<void> {
    this.#loading ??= this.#storage.admin.loadPolicyState().then(
      (state) => {
        this.policies.load(state, (what) => {
          this.#logger?.warn({ what }, 'stored value no longer valid, so the config default applies');
        });
      },
      (error: unknown) => {
        // The next call tries again, rather than failing for the life of the process.
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
  }

  /** A session with no open tab ends when no batch arrived for two heartbeat intervals. */
  get closeAfterMs(): number {
    return 2 * this.policies.defaults.heartbeatMs;
  }

  /**
   * Applies a validated batch and resolves once its writes are durable (in the ingest log).
   * `clientNetwork` is the truncated address of the sender (`truncateAddress`).
   */
  async ingest(batch: Batch, clientNetwork: string | null = null): Promise<IngestResult> {
    await this.ready();
    const receivedAt = this.#now();
    const eventIds = batch.events.map((event) => event.id);
    const run = (userIds: string[]) =>
      this.#storage.transact({
        sessionIds: [batch.sessionId],
        eventIds,
        userIds,
        apply: (view) =>
          planBatch(view, batch, {
            policies: this.policies,
            receivedAt,
            hasUserIds: userIds.length > 0,
            clientNetwork,
          }),
      });

    let plan = await run(await this.#usersToLoad(batch));
    if (plan.status === 'retry_with_user' && batch.userId !== undefined) {
      plan = await run([batch.userId]);
    }
    return this.#finish(batch, plan, receivedAt);
  }

  /**
   * Returns the user ids a batch's transaction must load: the batch's user
   * when a per-user limit exists and the session is not yet that user's.
   * `planBatch` requests a second run when a limit appeared meanwhile.
   */
  async #usersToLoad(batch: Batch): Promise<string[]> {
    if (batch.userId === undefined || !this.policies.hasUserLimit()) return [];
    const existing = await this.#storage.getSession(batch.sessionId);
    return existing?.userId === batch.userId ? [] : [batch.userId];
  }

  #finish(batch: Batch, plan: IngestPlan, receivedAt: number): IngestResult {
    switch (plan.status) {
      case 'mismatch':
      case 'limit':
        return plan;
      case 'retry_with_user':
        throw new Error(`batch of session ${batch.sessionId} requested its user's sessions twice`);
      case 'disabled':
        return { status: 'disabled', session: this.#disabledState(batch, plan, receivedAt) };
      case 'erased':
        return { status: 'ended', session: this.#erasedState(batch, receivedAt), isErased: true };
      case 'ended': {
        const session = this.toState(plan.row);
        if (plan.isEndedNow) this.#hub.publish(session);
        return { status: 'ended', session };
      }
    }

    for (const row of plan.ended) this.#hub.publish(this.toState(row));
    const session = this.toState(plan.row);
    if (plan.isCreated || plan.isPolicyChanged || plan.outcome.hasEnded) this.#hub.publish(session);
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

  /** Returns the state of a session that tracking being off ended, or never let start. */
  #disabledState(
    batch: Batch,
    plan: { row: SessionRow | undefined; resolution: Resolution },
    receivedAt: number,
  ): SessionState {
    if (plan.row) {
      const session = this.toState(plan.row);
      this.#hub.publish(session);
      return session;
    }
    return {
      id: batch.sessionId,
      state: 'ended',
      startedAt: receivedAt,
      endedAt: receivedAt,
      endReason: 'disabled',
      policy: sessionPolicy(plan.resolution.settings),
    };
  }

  /**
   * Returns the state sent for a batch of an erased session: ended with reason
   * `terminated`, so the SDK starts a new session. Nothing of the old one is read.
   */
  #erasedState(batch: Batch, receivedAt: number): SessionState {
    return {
      id: batch.sessionId,
      state: 'ended',
      startedAt: receivedAt,
      endedAt: receivedAt,
      endReason: 'terminated',
      policy: sessionPolicy(this.policies.defaults),
    };
  }

  /**
   * Ends a session with reason `terminated` and the admin's note, records it
   * in the audit log and returns its state. An ended session is returned
   * unchanged (the attempt is still audited), an unknown id as undefined.
   */
  async terminate(id: string, note: string | null, actor: AuditActor): Promise<SessionState | undefined> {
    await this.ready();
    const now = this.#now();
    const result = await this.#storage.transact({
      sessionIds: [id],
      eventIds: [],
      apply: (view) => planTerminate(view, id, note, actor, now),
    });

    if (!result.row) return undefined;
    const session = this.toState(result.row);
    if (result.hasEnded) this.#hub.publish(session);
    return session;
  }

  /** Terminates every live session of a user, in one app or in all, and returns their states. */
  async terminateUser(
    target: { userId: string; appId?: string },
    note: string | null,
    actor: AuditActor,
    options: { isAudited?: boolean } = {},
  ): Promise<SessionState[]> {
    await this.ready();
    const now = this.#now();
    const rows = await this.#storage.transact({
      sessionIds: [],
      eventIds: [],
      userIds: [target.userId],
      apply: (view) => planTerminateUser(view, target, note, actor, now, options.isAudited),
    });
    return this.#publishAll(rows);
  }

  /** Ends live sessions that are expired or closed at the current time and returns their states. */
  async expireSessions(): Promise<SessionState[]> {
    await this.ready();
    const now = this.#now();
    const ids = await this.#storage.findSessionsToExpire(now, 2 * this.#maxHeartbeatMs());
    if (ids.length === 0) return [];

    const rows = await this.#storage.transact({
      sessionIds: ids,
      eventIds: [],
      apply: (view) => planExpire(view, ids, this.policies, now),
    });
    return this.#publishAll(rows);
  }

  /**
   * Applies the current settings and policies to every live session, then
   * publishes each session's state, so every SDK gets its policy. Sessions
   * whose tracking is now off end with reason `disabled`. Returns the number
   * of sessions it published.
   */
  async reapplyPolicies(actor: AuditActor): Promise<number> {
    await this.ready();
    // Waits for writes queued before the change, so the sessions they create are found below.
    await this.#storage.transact({ sessionIds: [], eventIds: [], apply: () => undefined });
    const ids = await this.#storage.listLiveSessionIds();

    let published = 0;
    for (let start = 0; start < ids.length; start += REAPPLY_CHUNK) {
      const chunk = ids.slice(start, start + REAPPLY_CHUNK);
      const now = this.#now();
      const rows = await this.#storage.transact({
        sessionIds: chunk,
        eventIds: [],
        apply: (view) => planReapply(view, chunk, this.policies, actor, now),
      });
      published += this.#publishAll(rows).length;
    }
    return published;
  }

  #publishAll(rows: SessionRow[]): SessionState[] {
    const states = rows.map((row) => this.toState(row));
    for (const state of states) this.#hub.publish(state);
    return states;
  }

  /** Returns the current state of a session, or undefined for an unknown id. */
  async getState(id: string): Promise<SessionState | undefined> {
    await this.ready();
    const row = await this.#storage.getSession(id);
    return row ? this.toState(row) : undefined;
  }

  /** Converts a session row into its `SessionState` under the policy in force. */
  toState(row: SessionRow): SessionState {
    return toSessionState(row, this.policies);
  }

  /** Lists sessions by state, app and user, newest start first. */
  async listSessions(filter: SessionFilter): Promise<SessionRow[]> {
    await this.ready();
    return this.#storage.listSessions(filter);
  }

  /** Returns the longest heartbeat interval of the defaults and every policy. */
  #maxHeartbeatMs(): number {
    const policies = this.policies.listPolicies();
    const heartbeats = policies.map((policy) => this.policies.settingsOf(policy).heartbeatMs);
    return Math.max(this.policies.defaults.heartbeatMs, ...heartbeats);
  }
}
