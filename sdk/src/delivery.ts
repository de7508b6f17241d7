import { packBatches, type PackedBatch } from './batches.js';
import type { QueuedEvent } from './event-queue.js';
import { listen } from './listen.js';
import { handleResult } from './tab-sync.js';
import type { TrackerContext } from './tracker-context.js';
import { postBody, type SendResult } from './transport.js';
import { appKey, local, readJson, writeJson } from './web-storage.js';

/** Maximum pause between flushes after repeated failures, before jitter, in ms. */
const MAX_BACKOFF_MS = 300_000;

/** Sends the queue on an interval, when it fills, and by beacon when the page goes away. */
export interface Delivery {
  /**
   * Sends what is queued unless a flush is running or the shared backoff is pending. With
   * IndexedDB, only the tab that gets the app's flush lock sends, and it sends the stored
   * events of every tab, so tabs that come back online together send each event once.
   */
  flush(): Promise<void>;
  /** Sends this tab's events with keepalive, ignoring the backoff, for `end()`. */
  flushAll(): Promise<void>;
  /** Sends this tab's events by beacon, for `pagehide` and hidden pages. */
  flushOnExit(): void;
  /** Flushes at once when this tab queued `maxBatchSize` events. */
  notePush(): void;
  stop(): void;
}

/**
 * Starts flushing the queue of `ctx` every `flushIntervalMs`. Replies go to `handleResult`,
 * and the ids of events that left the queue for good are posted to other tabs, which forget
 * them too. Without Web Locks only the leader sends stored events.
 */
export function startDelivery(ctx: TrackerContext): Delivery {
  const { options, queue } = ctx;
  const { appId, endpoint, maxBatchSize } = options;
  const { clientId } = ctx.store;
  // Tabs share the backoff, so that all of them wait out a failure or a Retry-After.
  const backoffKey = appKey(appId, 'backoff');
  let backoff = { retryAt: 0, failures: 0 };
  let sending: Promise<void> | undefined;

  const readBackoff = () => readJson<typeof backoff>(local, backoffKey) ?? backoff;
  const setBackoff = (result: SendResult) => {
    const previous = readBackoff().failures;
    const failures = result.ok ? 0 : previous + 1;

    if (!failures && !previous) return;
    const delayMs = Math.min(options.flushIntervalMs * 2 ** failures, MAX_BACKOFF_MS) * (0.5 + Math.random());
    const retryAfterMs = (!result.ok && result.retryAfterMs) || 0;

    backoff = { retryAt: failures ? Date.now() + Math.max(delayMs, retryAfterMs) : 0, failures };
    writeJson(local, backoffKey, backoff);
  };
  const finish = (batch: PackedBatch, result: SendResult) => {
    const ids = batch.items.map((item) => item.event.id);
    const isFinal = result.ok || !result.isRetryable;

    if (isFinal) {
      queue.remove(ids);
      ctx.channel.post({ t: 'sent', ids });
    }
    handleResult(ctx, result, batch.items[0]!.sessionId);

    return isFinal;
  };
  const send = async (items: QueuedEvent[], isClosing?: boolean) => {
    for (const batch of packBatches(items, appId, clientId, maxBatchSize)) {
      const result = await postBody(endpoint, batch.body, isClosing);

      setBackoff(result);
      // A final rejection, such as a 410 for an old session, does not hold back later batches.
      if (!finish(batch, result)) return;
    }
  };
  const sendQueued = async () => {
    const { locks } = navigator;

    if (Date.now() < readBackoff().retryAt) return;
    if (!queue.isShared()) return send(queue.own());
    if (!locks) return ctx.isLeader ? send(await queue.readAll()) : undefined;
    await locks.request(appKey(appId, 'flush'), { ifAvailable: true }, async (lock) => {
      if (lock) await send(await queue.readAll());
    });
  };
  const flush = () => {
    sending ??= sendQueued().finally(() => (sending = undefined));

    return sending;
  };
  const onOnline = () => {
    writeJson(local, backoffKey, (backoff = { retryAt: 0, failures: 0 }));
    void flush();
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  const stopListening = listen(window, 'online', onOnline);

  return {
    flush,
    async flushAll() {
      await sending;
      await send(queue.own(), true);
    },
    flushOnExit() {
      // A beacon sent offline is lost, while stored events wait for a later flush of any tab.
      if (navigator.onLine === false) return;

      for (const batch of packBatches(queue.own(), appId, clientId, maxBatchSize)) {
        // A string body goes out as text/plain;charset=UTF-8, as with fetch. The browser
        // refuses a beacon over its keepalive quota, and the events then stay queued.
        if (navigator.sendBeacon?.(`${endpoint}/v1/events`, batch.body)) finish(batch, { ok: true });
        else void postBody(endpoint, batch.body, true).then((result) => finish(batch, result));
      }
    },
    notePush() {
      if (queue.own().length >= maxBatchSize) void flush();
    },
    stop() {
      clearInterval(timer);
      stopListening();
    },
  };
}
