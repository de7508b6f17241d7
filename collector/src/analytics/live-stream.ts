import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import type { LiveChange, LiveFeed } from './live-feed.js';

/** Clock and keep-alive interval of a live stream. */
export interface LiveStreamOptions {
  now: () => number;
  /** Interval of `: ping` comments while nothing changes, in ms. */
  pingIntervalMs: number;
}

/**
 * Responds with a server-sent event stream of the live sessions: first
 * `event: live` with `{ live, at }`, then `event: start` or `event: end` for
 * each change (see `LiveChange`), and a `: ping` comment every `pingIntervalMs`
 * while nothing changes. It ends when the client disconnects or the hub closes.
 */
export async function streamLiveSessions(
  c: Context,
  feed: LiveFeed,
  options: LiveStreamOptions,
): Promise<Response> {
  await feed.ready();
  return streamSSE(c, (stream) => runLiveStream(stream, feed, options));
}

async function runLiveStream(
  stream: SSEStreamingApi,
  feed: LiveFeed,
  options: LiveStreamOptions,
): Promise<void> {
  const queue: LiveChange[] = [];
  let wake: () => void = () => {};
  let isClosed = false;
  const close = () => {
    isClosed = true;
    wake();
  };

  const unsubscribe = feed.subscribe({
    onChange: (change) => {
      queue.push(change);
      wake();
    },
    onClose: close,
  });
  stream.onAbort(close);

  try {
    await stream.writeSSE({
      event: 'live',
      data: JSON.stringify({ live: feed.liveCount, at: options.now() }),
    });
    while (!isClosed && !stream.aborted) {
      const change = queue.shift();
      if (change) {
        await stream.writeSSE({ event: change.type, data: JSON.stringify(change) });
        continue;
      }
      const isWoken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), options.pingIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!isWoken && !isClosed) await stream.write(': ping\n\n');
    }
  } finally {
    unsubscribe();
  }
}
