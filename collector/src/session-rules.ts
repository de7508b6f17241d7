import type { Batch, EndReason, RejectedEvent, SessionEvent } from '../../shared/src/index.js';
import type { EventRow, SessionRow } from './storage/index.js';
import { INTERACTION_FIELDS } from './storage/rows.js';

/**
 * Maximum gap between two activity timestamps that still counts as engaged
 * time. Longer gaps count as idle time. One minute is a chosen value, not a
 * measured one: readers often pause input for tens of seconds.
 */
export const ENGAGED_GAP_MAX_MS = 60_000;

/**
 * A batch whose `sentAt` differs from the server clock by more than this is
 * shifted by the difference. Smaller differences are network latency.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5_000;

/** Timeouts a new session takes from the policy in force. */
export interface SessionLimits {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
}

/** Changes a batch makes to its session. */
export interface BatchOutcome {
  events: EventRow[];
  duplicates: number;
  rejected: RejectedEvent[];
  /** Whether the session ended while applying this batch. */
  hasEnded: boolean;
}

interface TimedEvent {
  event: SessionEvent;
  index: number;
  /** Client timestamp after skew correction, never later than the server receive time. */
  ts: number;
}

/** Returns the offset to add to client timestamps of a batch, from its `sentAt`. */
export function clockOffsetMs(sentAt: number | undefined, receivedAt: number): number {
  if (sentAt === undefined) return 0;
  const offset = receivedAt - sentAt;
  return Math.abs(offset) > CLOCK_SKEW_TOLERANCE_MS ? offset : 0;
}

/**
 * Creates the row of a session first seen in `batch`, started at its earliest
 * event. `clientNetwork` must already be truncated (see `truncateAddress`).
 */
export function createSessionRow(
  batch: Batch,
  receivedAt: number,
  limits: SessionLimits,
  clientNetwork: string | null = null,
): SessionRow {
  const offset = clockOffsetMs(batch.sentAt, receivedAt);
  const timestamps = batch.events.map((event) => correctTs(event.ts, offset, receivedAt));
  const startedAt = Math.min(...timestamps);
  return {
    id: batch.sessionId,
    appId: batch.appId,
    clientId: batch.clientId,
    userId: batch.userId ?? null,
    userGroup: batch.userGroup ?? null,
    startedAt,
    lastActivityAt: startedAt,
    lastSeenAt: receivedAt,
    endedAt: null,
    endReason: null,
    endNote: null,
    tabsNow: 1,
    maxTabs: 1,
    interactions: 0,
    pageViews: 0,
    engagedMs: 0,
    idleMs: 0,
    eventCount: 0,
    idleTimeoutMs: limits.idleTimeoutMs,
    absoluteTimeoutMs: limits.absoluteTimeoutMs,
    createdAt: receivedAt,
    updatedAt: receivedAt,
    policyId: null,
    tabLastSeen: {},
    interactionsPointer: 0,
    interactionsKey: 0,
    interactionsScroll: 0,
    interactionsTouch: 0,
    interactionsVisibility: 0,
    interactionsFocus: 0,
    clientNetwork,
  };
}

/**
 * Applies the events of a batch to its live session `row`, in timestamp order,
 * and returns the event rows to store. Already stored ids count as duplicates.
 * An event stamped after the idle or absolute limit ends the session at that
 * limit and is rejected with every later event.
 */
export function applyBatch(
  row: SessionRow,
  batch: Batch,
  receivedAt: number,
  isStored: (eventId: string) => boolean,
): BatchOutcome {
  const outcome: BatchOutcome = { events: [], duplicates: 0, rejected: [], hasEnded: false };
  const offset = clockOffsetMs(batch.sentAt, receivedAt);
  const seen = new Set<string>();

  for (const timed of sortByTs(batch.events, offset, receivedAt)) {
    const { event } = timed;
    if (seen.has(event.id) || isStored(event.id)) {
      outcome.duplicates += 1;
      continue;
    }
    seen.add(event.id);

    if (row.endedAt === null) {
      const hasPassedLimit = applyLimits(row, timed);
      if (!hasPassedLimit) applyEvent(row, timed, offset);
      // An idle event past the idle limit reports the end it caused, so it is kept.
      if (!hasPassedLimit || (event.type === 'idle' && row.endReason === 'idle')) {
        outcome.events.push(toEventRow(batch, timed, receivedAt));
        continue;
      }
    }
    outcome.rejected.push(rejectAfterEnd(row, timed));
  }

  outcome.hasEnded = row.endedAt !== null;
  updateBatchFields(row, batch, receivedAt, outcome.events.length);
  return outcome;
}

/** Ends the session at its idle or absolute limit when `ts` is past it; returns whether it did. */
function applyLimits(row: SessionRow, timed: TimedEvent): boolean {
  const limit = nextLimit(row);
  if (timed.ts <= limit.at) return false;

  endSession(row, limit.reason, limit.at);
  return true;
}

function applyEvent(row: SessionRow, timed: TimedEvent, offset: number): void {
  const { event, ts } = timed;
  switch (event.type) {
    case 'activity':
      row.interactions += event.data.count;
      row[INTERACTION_FIELDS[event.data.kind]] += event.data.count;
      recordActivity(row, ts);
      break;
    case 'page_view':
      row.pageViews += 1;
      recordActivity(row, ts);
      break;
    case 'session_start':
      if (event.data?.tabs !== undefined) setTabs(row, event.data.tabs);
      recordActivity(row, ts);
      break;
    case 'active':
      recordActivity(row, ts);
      break;
    case 'heartbeat':
      setTabs(row, event.data.tabs);
      if (event.data.lastActivityAt !== undefined) {
        recordActivity(row, correctTs(event.data.lastActivityAt, offset, ts));
      }
      break;
    case 'tab_opened':
    case 'tab_closed':
      setTabs(row, event.data.tabs);
      break;
    case 'idle':
      endSession(row, 'idle', ts);
      break;
    case 'session_end':
      // A logout is a user action, so the time up to it counts like activity.
      if (event.data.reason === 'logout') recordActivity(row, ts);
      endSession(row, event.data.reason, ts);
      break;
    case 'custom':
      break;
  }
}

/** Returns the earlier of the idle and absolute limits of a live session. */
export function nextLimit(row: SessionRow): { at: number; reason: 'idle' | 'absolute' } {
  const idleAt = row.lastActivityAt + row.idleTimeoutMs;
  const absoluteAt = row.startedAt + row.absoluteTimeoutMs;
  if (idleAt <= absoluteAt) return { at: idleAt, reason: 'idle' };
  return { at: absoluteAt, reason: 'absolute' };
}

/**
 * Ends a live session at `now` when it passed its idle or absolute limit, or
 * when it reports no open tab and sent nothing for `closeAfterMs` (reason
 * `closed`, ended at its last batch). Returns whether it ended the session.
 */
export function expireSession(row: SessionRow, now: number, closeAfterMs?: number): boolean {
  if (row.endedAt !== null) return false;

  const limit = nextLimit(row);
  if (now > limit.at) {
    endSession(row, limit.reason, limit.at);
    return true;
  }
  if (closeAfterMs !== undefined && row.tabsNow === 0 && now > row.lastSeenAt + closeAfterMs) {
    endSession(row, 'closed', row.lastSeenAt);
    return true;
  }
  return false;
}

/**
 * Ends a live session at `endedAt`. The time since the last activity counts as
 * idle for an idle end, and by the engaged-gap rule for any other reason.
 */
export function endSession(
  row: SessionRow,
  reason: EndReason,
  endedAt: number,
  note: string | null = null,
): void {
  if (row.endedAt !== null) return;

  const end = Math.max(endedAt, row.startedAt);
  const tailMs = Math.max(0, end - row.lastActivityAt);
  if (reason === 'idle' || tailMs > ENGAGED_GAP_MAX_MS) row.idleMs += tailMs;
  else row.engagedMs += tailMs;

  row.endedAt = end;
  row.endReason = reason;
  row.endNote = note;
}

/** Moves the last activity forward to `ts`, adding the gap to engaged or idle time. */
function recordActivity(row: SessionRow, ts: number): void {
  // Older timestamps (events that arrive out of order) add no time.
  if (ts <= row.lastActivityAt) return;

  const gapMs = ts - row.lastActivityAt;
  if (gapMs <= ENGAGED_GAP_MAX_MS) row.engagedMs += gapMs;
  else row.idleMs += gapMs;
  row.lastActivityAt = ts;
}

function setTabs(row: SessionRow, tabs: number): void {
  row.tabsNow = tabs;
  row.maxTabs = Math.max(row.maxTabs, tabs);
}

function updateBatchFields(row: SessionRow, batch: Batch, receivedAt: number, stored: number) {
  row.lastSeenAt = Math.max(row.lastSeenAt, receivedAt);
  row.updatedAt = receivedAt;
  row.eventCount += stored;
  if (batch.userId !== undefined) row.userId = batch.userId;
  if (batch.userGroup !== undefined) row.userGroup = batch.userGroup;
}

/** Applies the clock offset and caps the result at `max`, as no event happens after it arrives. */
function correctTs(ts: number, offset: number, max: number): number {
  return Math.min(ts + offset, max);
}

function sortByTs(events: SessionEvent[], offset: number, receivedAt: number): TimedEvent[] {
  return events
    .map((event, index) => ({ event, index, ts: correctTs(event.ts, offset, receivedAt) }))
    .sort((a, b) => a.ts - b.ts || a.index - b.index);
}

function rejectAfterEnd(row: SessionRow, timed: TimedEvent): RejectedEvent {
  const endedAt = new Date(row.endedAt ?? 0).toISOString();
  return {
    index: timed.index,
    id: timed.event.id,
    code: 'session_ended',
    message: `The session ended (${row.endReason}) at ${endedAt}, before this event; start a new session.`,
  };
}

function toEventRow(batch: Batch, timed: TimedEvent, receivedAt: number): EventRow {
  const { event } = timed;
  return {
    id: event.id,
    sessionId: batch.sessionId,
    tabId: batch.tabId,
    appId: batch.appId,
    type: event.type,
    clientTs: event.ts,
    ts: timed.ts,
    receivedAt,
    data: event.data === undefined ? null : JSON.stringify(event.data),
  };
}
