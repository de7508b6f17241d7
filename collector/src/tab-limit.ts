import type { Batch, RejectedEvent } from '../../shared/src/index.js';
import type { SessionRow } from './storage/index.js';

/**
 * Records that the batch's tab is open and returns whether the session may
 * take it. A tab counts as open until it sends nothing for `staleAfterMs` or
 * reports itself closed (`releaseClosedTab`). With `maxTabs` null every tab
 * is taken. A tab already counted is always taken, so a limit lowered while
 * tabs are open never cuts off one of them.
 */
export function admitTab(
  row: SessionRow,
  batch: Batch,
  receivedAt: number,
  limits: { maxTabs: number | null; staleAfterMs: number },
): boolean {
  const open: Record<string, number> = {};
  for (const [tabId, lastSeenAt] of Object.entries(row.tabLastSeen)) {
    if (lastSeenAt >= receivedAt - limits.staleAfterMs) open[tabId] = lastSeenAt;
  }

  const isKnown = batch.tabId in open;
  const isFull = limits.maxTabs !== null && Object.keys(open).length >= limits.maxTabs;
  if (!isKnown && isFull) {
    row.tabLastSeen = open;
    return false;
  }

  open[batch.tabId] = receivedAt;
  // Replaced, never mutated, because rows are copied shallowly.
  row.tabLastSeen = open;
  return true;
}

/**
 * Frees the slot of the batch's tab when the batch ends with `tab_closed`. The
 * SDK sends a tab's events under that tab's id, also when another tab delivers
 * them from the shared queue, and a page restored from the back-forward cache
 * sends events after its `tab_closed`, which take a slot again.
 */
export function releaseClosedTab(row: SessionRow, batch: Batch): void {
  if (batch.events.at(-1)?.type !== 'tab_closed') return;

  const { [batch.tabId]: _closed, ...open } = row.tabLastSeen;
  row.tabLastSeen = open;
}

/** Returns the rejections of every event of a batch whose tab the session did not take. */
export function rejectTab(batch: Batch, maxTabs: number): RejectedEvent[] {
  return batch.events.map((event, index) => ({
    index,
    id: event.id,
    code: 'session_limit',
    message: `The session already has ${maxTabs} open ${maxTabs === 1 ? 'tab' : 'tabs'} (maxTabs); close a tab to track this one.`,
  }));
}
