import type { EventType, SessionEventInput } from '../../shared/src/index.js';
import { createId } from './ids.js';
import type { ActivityTracker } from './activity-tracker.js';
import type { TabChannel } from './channel.js';
import type { Delivery } from './delivery.js';
import type { Emitter } from './emitter.js';
import type { EventQueue, QueuedEvent } from './event-queue.js';
import type { IdleTimer } from './idle-timer.js';
import type { ResolvedOptions } from './options.js';
import type { SessionEndReason, SessionRecord, SessionStore } from './session-store.js';
import type { TabRegistry } from './tab-registry.js';
import type { TrackerEvents, TrackerState } from './types.js';

/** The `data` of wire event `T`. */
export type EventData<T extends EventType> =
  Extract<SessionEventInput, { type: T }> extends { data?: infer D } ? D : never;

/** State and parts of one tracker, shared by its modules. */
export interface TrackerContext {
  options: ResolvedOptions;
  /** Timeouts in force: the options until the collector's session policy overrides them. */
  timing: { idleTimeoutMs: number; warningMs: number; heartbeatMs: number };
  /** Random id of this tracker instance, the sender of its tab messages. */
  instanceId: string;
  emitter: Emitter<TrackerEvents>;
  store: SessionStore;
  queue: EventQueue;
  channel: TabChannel;
  tabRegistry: TabRegistry;
  delivery: Delivery;
  idle: IdleTimer;
  activity: ActivityTracker;
  /** The session this tab takes part in, or the one that just ended. */
  sessionRecord: SessionRecord | undefined;
  /** The state `getState()` reports. */
  trackerState: TrackerState;
  endReason?: SessionEndReason | null;
  /** Wall-clock time of the latest input in any tab of the session, in epoch ms. */
  latestInputAt?: number | null;
  /** Set by `identify()`; a new session keeps it, unless the last one ended by logout. */
  userId: string | undefined;
  userGroup: string | undefined;
  isLeader?: boolean;
  /** Stops taking part in the leader election, releasing the lead if this tab has it. */
  resign: () => void;
  heartbeat: { timer: ReturnType<typeof setInterval>; intervalMs: number } | undefined;
  stream: { sessionId: string; close(): void } | undefined;
  /** URL of the last `page_view`, so a pushState to the same URL sends none. */
  lastUrl?: string;
  /** When this tab last stored its latest input in the shared record and posted it to other tabs, in epoch ms. */
  lastSharedAt: number;
  /** True from a `pagehide` or hidden page until the page is visible again, so each hide flushes once. */
  isHidden?: boolean;
  /** Custom events dropped because their JSON is over MAX_EVENT_BYTES. */
  droppedEvents: number;
  /** Functions that undo what the tracker attached to the page. */
  cleanups: (() => void)[];
  /** Applies a change of session, state, leadership or timing to the timers and the stream. */
  refresh(): void;
  /** Logs to the console when `debug` is on. */
  log(message: string, detail?: unknown): void;
}

/** Tells whether the tracker has a running session. */
export function isLive(ctx: TrackerContext): boolean {
  return ctx.trackerState === 'active' || ctx.trackerState === 'warning';
}

/** Queues wire event `type` in the current session at `ts`, by default now. */
export function enqueue<T extends EventType>(ctx: TrackerContext, type: T, data?: EventData<T>, ts = Date.now()) {
  const { sessionRecord, tabRegistry, userId, userGroup } = ctx;

  if (!sessionRecord) return;

  const event = { id: createId(), type, ts, data } as SessionEventInput & { id: string };
  ctx.queue.push({ sessionId: sessionRecord.id, tabId: tabRegistry.tabId, userId, userGroup, event } as QueuedEvent);
  ctx.delivery.notePush();
}
