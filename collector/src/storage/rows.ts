import type { ActivityKind, EndReason } from '../../../shared/src/index.js';

/**
 * One row of the `sessions` table. Every timestamp is epoch milliseconds (UTC).
 * Client-derived times (`startedAt`, `lastActivityAt`) are skew-corrected
 * client clocks; `lastSeenAt`, `createdAt` and `updatedAt` are server time.
 */
export interface SessionRow {
  id: string;
  appId: string;
  clientId: string;
  userId: string | null;
  userGroup: string | null;
  startedAt: number;
  lastActivityAt: number;
  /** Server time of the latest batch. */
  lastSeenAt: number;
  endedAt: number | null;
  endReason: EndReason | null;
  /** Free text an admin gave when terminating the session. */
  endNote: string | null;
  tabsNow: number;
  maxTabs: number;
  /** Sum of the `count` of every activity event. */
  interactions: number;
  pageViews: number;
  engagedMs: number;
  idleMs: number;
  eventCount: number;
  /** Idle timeout in force when the session started. */
  idleTimeoutMs: number;
  /** Absolute timeout in force when the session started. */
  absoluteTimeoutMs: number;
  createdAt: number;
  updatedAt: number;
  /** Id of the custom policy the session runs under, or null for the default settings. */
  policyId: string | null;
  /**
   * Server time of the latest batch of each open tab, by tab id. Replace the
   * object to change it, never mutate it, because rows are copied shallowly.
   */
  tabLastSeen: Record<string, number>;
  /** Sums of the `count` of activity events, one field per kind of input. */
  interactionsPointer: number;
  interactionsKey: number;
  interactionsScroll: number;
  interactionsTouch: number;
  interactionsVisibility: number;
  interactionsFocus: number;
  /**
   * Network the session's first batch came from: the TCP peer address with
   * the last IPv4 octet or all but the first 48 IPv6 bits zeroed, or null
   * when unknown. The full address is never stored.
   */
  clientNetwork: string | null;
}

/** The `SessionRow` field that sums the interactions of each kind of input. */
export const INTERACTION_FIELDS = {
  pointer: 'interactionsPointer',
  key: 'interactionsKey',
  scroll: 'interactionsScroll',
  touch: 'interactionsTouch',
  visibility: 'interactionsVisibility',
  focus: 'interactionsFocus',
} as const satisfies Record<ActivityKind, keyof SessionRow>;

/** One row of the `events` table, with the event's `data` object as JSON text. */
export interface EventRow {
  id: string;
  sessionId: string;
  tabId: string;
  appId: string;
  type: string;
  /** Timestamp as the client sent it. */
  clientTs: number;
  /** Timestamp after clock-skew correction, used for session rules. */
  ts: number;
  /** Server time when the batch arrived. */
  receivedAt: number;
  data: string | null;
}

/** Column type the appender writes: VARCHAR, BIGINT, INTEGER or JSON (a value stringified). */
export type ColumnKind = 'text' | 'bigint' | 'integer' | 'json';

/** Columns of `sessions` in table order: name, row field and kind. */
export const SESSION_COLUMNS = [
  ['id', 'id', 'text'],
  ['app_id', 'appId', 'text'],
  ['client_id', 'clientId', 'text'],
  ['user_id', 'userId', 'text'],
  ['user_group', 'userGroup', 'text'],
  ['started_at', 'startedAt', 'bigint'],
  ['last_activity_at', 'lastActivityAt', 'bigint'],
  ['last_seen_at', 'lastSeenAt', 'bigint'],
  ['ended_at', 'endedAt', 'bigint'],
  ['end_reason', 'endReason', 'text'],
  ['end_note', 'endNote', 'text'],
  ['tabs_now', 'tabsNow', 'integer'],
  ['max_tabs', 'maxTabs', 'integer'],
  ['interactions', 'interactions', 'bigint'],
  ['page_views', 'pageViews', 'integer'],
  ['engaged_ms', 'engagedMs', 'bigint'],
  ['idle_ms', 'idleMs', 'bigint'],
  ['event_count', 'eventCount', 'integer'],
  ['idle_timeout_ms', 'idleTimeoutMs', 'bigint'],
  ['absolute_timeout_ms', 'absoluteTimeoutMs', 'bigint'],
  ['created_at', 'createdAt', 'bigint'],
  ['updated_at', 'updatedAt', 'bigint'],
  ['policy_id', 'policyId', 'text'],
  ['tab_last_seen', 'tabLastSeen', 'json'],
  ['interactions_pointer', 'interactionsPointer', 'bigint'],
  ['interactions_key', 'interactionsKey', 'bigint'],
  ['interactions_scroll', 'interactionsScroll', 'bigint'],
  ['interactions_touch', 'interactionsTouch', 'bigint'],
  ['interactions_visibility', 'interactionsVisibility', 'bigint'],
  ['interactions_focus', 'interactionsFocus', 'bigint'],
  ['client_network', 'clientNetwork', 'text'],
] as const satisfies ReadonlyArray<readonly [string, keyof SessionRow, ColumnKind]>;

/** Columns of `events` in table order: name, row field and kind. */
export const EVENT_COLUMNS = [
  ['id', 'id', 'text'],
  ['session_id', 'sessionId', 'text'],
  ['tab_id', 'tabId', 'text'],
  ['app_id', 'appId', 'text'],
  ['type', 'type', 'text'],
  ['client_ts', 'clientTs', 'bigint'],
  ['ts', 'ts', 'bigint'],
  ['received_at', 'receivedAt', 'bigint'],
  ['data', 'data', 'text'],
] as const satisfies ReadonlyArray<readonly [string, keyof EventRow, ColumnKind]>;

/** Converts a DuckDB value to a JSON-safe number, because BIGINT and HUGEINT arrive as BigInt. */
export function toNumber(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return 0;
  return Number(value);
}

function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

function toNullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Converts a `sessions` row object from DuckDB into a `SessionRow` without BigInts. */
export function toSessionRow(raw: Record<string, unknown>): SessionRow {
  return {
    id: String(raw.id),
    appId: String(raw.app_id),
    clientId: String(raw.client_id),
    userId: toNullableString(raw.user_id),
    userGroup: toNullableString(raw.user_group),
    startedAt: toNumber(raw.started_at),
    lastActivityAt: toNumber(raw.last_activity_at),
    lastSeenAt: toNumber(raw.last_seen_at),
    endedAt: toNullableNumber(raw.ended_at),
    endReason: toNullableString(raw.end_reason) as EndReason | null,
    endNote: toNullableString(raw.end_note),
    tabsNow: toNumber(raw.tabs_now),
    maxTabs: toNumber(raw.max_tabs),
    interactions: toNumber(raw.interactions),
    pageViews: toNumber(raw.page_views),
    engagedMs: toNumber(raw.engaged_ms),
    idleMs: toNumber(raw.idle_ms),
    eventCount: toNumber(raw.event_count),
    idleTimeoutMs: toNumber(raw.idle_timeout_ms),
    absoluteTimeoutMs: toNumber(raw.absolute_timeout_ms),
    createdAt: toNumber(raw.created_at),
    updatedAt: toNumber(raw.updated_at),
    policyId: toNullableString(raw.policy_id),
    tabLastSeen: toTabLastSeen(raw.tab_last_seen),
    interactionsPointer: toNumber(raw.interactions_pointer),
    interactionsKey: toNumber(raw.interactions_key),
    interactionsScroll: toNumber(raw.interactions_scroll),
    interactionsTouch: toNumber(raw.interactions_touch),
    interactionsVisibility: toNumber(raw.interactions_visibility),
    interactionsFocus: toNumber(raw.interactions_focus),
    clientNetwork: toNullableString(raw.client_network),
  };
}

/** Parses the `tab_last_seen` JSON text; a missing or malformed value is an empty map. */
function toTabLastSeen(value: unknown): Record<string, number> {
  if (typeof value !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const entries = Object.entries(parsed).filter(([, at]) => typeof at === 'number');
    return Object.fromEntries(entries) as Record<string, number>;
  } catch {
    return {};
  }
}

/** Converts an `events` row object from DuckDB into an `EventRow` without BigInts. */
export function toEventRow(raw: Record<string, unknown>): EventRow {
  return {
    id: String(raw.id),
    sessionId: String(raw.session_id),
    tabId: String(raw.tab_id),
    appId: String(raw.app_id),
    type: String(raw.type),
    clientTs: toNumber(raw.client_ts),
    ts: toNumber(raw.ts),
    receivedAt: toNumber(raw.received_at),
    data: toNullableString(raw.data),
  };
}
