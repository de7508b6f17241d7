import type { EventRow, SessionRow } from './rows.js';

/** Builds a live session row for tests; `overrides` replace any field. */
export function sessionRowFixture(overrides: Partial<SessionRow> = {}): SessionRow {
  const startedAt = overrides.startedAt ?? 1_700_000_000_000;
  return {
    id: 'session-0001',
    appId: 'shop-web',
    clientId: 'client-0001',
    userId: null,
    userGroup: null,
    startedAt,
    lastActivityAt: startedAt,
    lastSeenAt: startedAt,
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
    idleTimeoutMs: 30 * 60_000,
    absoluteTimeoutMs: 12 * 3_600_000,
    createdAt: startedAt,
    updatedAt: startedAt,
    policyId: null,
    tabLastSeen: {},
    interactionsPointer: 0,
    interactionsKey: 0,
    interactionsScroll: 0,
    interactionsTouch: 0,
    interactionsVisibility: 0,
    interactionsFocus: 0,
    clientNetwork: null,
    ...overrides,
  };
}

/** Builds an event row for tests; `overrides` replace any field. */
export function eventRowFixture(overrides: Partial<EventRow> = {}): EventRow {
  const ts = overrides.ts ?? 1_700_000_000_000;
  return {
    id: 'event-0001',
    sessionId: 'session-0001',
    tabId: 'tab-00000001',
    appId: 'shop-web',
    type: 'activity',
    clientTs: ts,
    ts,
    receivedAt: ts,
    data: '{"kind":"pointer","count":1}',
    ...overrides,
  };
}
