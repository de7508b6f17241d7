import type { BatchInput } from '../../shared/src/index.js';
import { MAX_EVENTS_PER_BATCH, PROTOCOL_VERSION } from '../../shared/src/constants.js';
import { sendBeacons } from './beacon.js';
import type { EventQueue, QueuedEvent } from './event-queue.js';
import type { ResolvedOptions } from './options.js';
import { postBatch, type SendResult } from './transport.js';

/** Maximum pause between sends after repeated failures, in ms. */
const MAX_BACKOFF_MS = 300_000;

/** Sends the queue on an interval, when it fills, and by beacon when the page goes away. */
export interface Delivery {
  /** Sends one batch unless a send is running or a backoff is pending. */
  flush(): Promise<void>;
  /**
   * Sends batches until the queue is empty or a send fails, ignoring the backoff. Uses
   * keepalive, because `end()` runs this on logout and a navigation often follows.
   */
  flushAll(): Promise<void>;
  /** Sends everything queued by beacon, for `pagehide` and hidden pages. */
  flushOnExit(): void;
  /** Flushes at once when the queue reached `maxBatchSize`. */
  notePush(): void;
  stop(): void;
}

/** Callbacks of delivery. */
export interface DeliveryEvents {
  /** The collector replied to the batch of `sessionId`; failures arrive after the transport's retries. */
  onResult(result: SendResult, sessionId: string): void;
  log(message: string, detail?: unknown): void;
}

/** Starts sending the queue every `flushIntervalMs`. */
export function startDelivery(
  options: ResolvedOptions,
  clientId: string,
  queue: EventQueue,
  events: DeliveryEvents,
): Delivery {
  let sending: Promise<boolean> | undefined;
  let failures = 0;
  let retryAt = 0;

  const handle = (items: QueuedEvent[], result: SendResult) => {
    if (result.ok || !result.isRetryable) queue.remove(items);
    failures = result.ok || !result.isRetryable ? 0 : failures + 1;
    // Back off exponentially so an offline page does not retry every interval, and no
    // sooner than the collector's Retry-After.
    const backoffMs = Math.min(options.flushIntervalMs * 2 ** failures, MAX_BACKOFF_MS);
    retryAt = failures ? Date.now() + Math.max(backoffMs, (!result.ok && result.retryAfterMs) || 0) : 0;
    if (!result.ok) events.log('batch not delivered', result);
    events.onResult(result, items[0]!.sessionId);

    return result.ok;
  };
  const send = (items: QueuedEvent[], isClosing?: boolean) => {
    const batch = toBatch(options.appId, clientId, items);

    sending = postBatch(options.endpoint, batch, isClosing).then((result) => {
      sending = undefined;
      return handle(items, result);
    });

    return sending;
  };
  const flush = async () => {
    const items = queue.peekBatch(options.maxBatchSize);

    if (sending || !items.length || Date.now() < retryAt) return;
    if ((await send(items)) && queue.size() >= options.maxBatchSize) await flush();
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs);

  return {
    flush,
    async flushAll() {
      await sending;

      let items = queue.peekBatch(options.maxBatchSize);
      while (items.length && (await send(items, true))) items = queue.peekBatch(options.maxBatchSize);
    },
    flushOnExit() {
      for (const batch of groupBatches(queue.takeAll())) {
        sendBeacons(options.endpoint, toBatch(options.appId, clientId, batch), (event) =>
          events.log('event over 64 KiB dropped from beacon', event),
        );
      }
    },
    notePush() {
      if (queue.size() >= options.maxBatchSize) void flush();
    },
    stop: () => clearInterval(timer),
  };
}

/** Builds the wire batch of `items`, which share a session and tab. */
function toBatch(appId: string, clientId: string, items: QueuedEvent[]): BatchInput {
  const first = items[0]!;
  // The latest identity wins when identify() ran while events were queued.
  const userId = items.reduce<string | undefined>((latest, item) => item.userId ?? latest, undefined);

  return {
    v: PROTOCOL_VERSION,
    appId,
    sessionId: first.sessionId,
    tabId: first.tabId,
    clientId,
    ...(userId ? { userId } : {}),
    sentAt: Date.now(),
    events: items.map((item) => item.event),
  };
}

/** Groups `items` by session and tab, in order, at most MAX_EVENTS_PER_BATCH a group. */
function groupBatches(items: QueuedEvent[]): QueuedEvent[][] {
  const groups = new Map<string, QueuedEvent[][]>();

  for (const item of items) {
    const key = `${item.sessionId} ${item.tabId}`;
    const chunks = groups.get(key) ?? [[]];
    groups.set(key, chunks);

    if (chunks[chunks.length - 1]!.length >= MAX_EVENTS_PER_BATCH) chunks.push([]);
    chunks[chunks.length - 1]!.push(item);
  }

  return [...groups.values()].flat();
}
