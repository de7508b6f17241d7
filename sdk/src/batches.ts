import { MAX_BEACON_BYTES, PROTOCOL_VERSION } from '../../shared/src/constants.js';
import type { QueuedEvent } from './event-queue.js';

/** A wire batch ready to send: its JSON body and the queued events it carries. */
export interface PackedBatch {
  items: QueuedEvent[];
  body: string;
}

const encoder = new TextEncoder();

/** Returns the UTF-8 size of `text` in bytes. */
export const byteLength = (text: string) => encoder.encode(text).length;

/**
 * Packs `items` into batches of one session and tab each, in queue order, with at most
 * `maxEvents` events and a body of at most 64 KiB, so that any batch can also leave as a
 * beacon. Only an event that alone is larger gets a body over 64 KiB, because `track()`
 * drops events over MAX_EVENT_BYTES. The latest user id and group of a group apply.
 */
export function packBatches(items: QueuedEvent[], appId: string, clientId: string, maxEvents: number): PackedBatch[] {
  const groups = new Map<string, QueuedEvent[]>();
  const batches: PackedBatch[] = [];

  for (const item of items) {
    const key = `${item.sessionId} ${item.tabId}`;
    const group = groups.get(key);

    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  for (const group of groups.values()) {
    const { sessionId, tabId } = group[0]!;
    let userId: string | undefined;
    let userGroup: string | undefined;
    for (const item of group) {
      userId = item.userId ?? userId;
      userGroup = item.userGroup ?? userGroup;
    }
    // JSON.stringify leaves out the fields that are undefined.
    const envelope = { v: PROTOCOL_VERSION, appId, sessionId, tabId, clientId, userId, userGroup, sentAt: Date.now() };
    const head = `${JSON.stringify(envelope).slice(0, -1)},"events":[`;
    let chunk: QueuedEvent[] = [];
    let events: string[] = [];
    let bytes = 0;

    const close = () => {
      if (chunk.length) batches.push({ items: chunk, body: `${head}${events.join(',')}]}` });
      chunk = [];
      events = [];
      bytes = byteLength(head) + 2;
    };
    close();
    for (const item of group) {
      const json = JSON.stringify(item.event);
      // Each event after the first also adds a comma.
      const size = byteLength(json) + 1;

      if (chunk.length >= maxEvents || bytes + size > MAX_BEACON_BYTES) close();
      chunk.push(item);
      events.push(json);
      bytes += size;
    }
    close();
  }

  return batches;
}
