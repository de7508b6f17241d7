import type { Context, Hono } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { idSchema, type SessionState } from '../../../shared/src/index.js';
import type { SessionService } from '../session-service.js';
import type { Storage } from '../storage/index.js';
import type { StreamHub } from '../stream-hub.js';
import type { AppEnv } from './app-env.js';
import { sendError } from './errors.js';
import { checkAppOrigin, type OriginRules } from './origins.js';
import { addressKey, isLoopback } from './rate-limits.js';

/** Interval of `: ping` comments, which keep proxies from closing an idle stream. */
export const DEFAULT_PING_INTERVAL_MS = 15_000;

/** Dependencies of the stream route. */
export interface StreamRouteOptions {
  service: SessionService;
  hub: StreamHub;
  pingIntervalMs: number;
  /** Origins that may open a stream, globally and per app. */
  origins: OriginRules;
  /** Reads the session's app id for the origin check. */
  storage: Pick<Storage, 'getSession'>;
  /** Streams one non-loopback client address may hold open at once, or 0 for no limit. */
  streamsPerAddress: number;
}

/** Retry-After of a stream rejected because its address has too many open, in seconds. */
const STREAM_RETRY_AFTER_SECONDS = 30;

/**
 * Registers `GET /v1/sessions/:id/stream`: a server-sent event stream that
 * sends `event: state` with the current SessionState, then one per change.
 */
export function registerStreamRoute(app: Hono<AppEnv>, options: StreamRouteOptions): void {
  // Each open stream keeps a socket, so one address may not open an unbounded number.
  // IPv6 addresses count by /64 prefix, as for the rate limits.
  const openByAddress = new Map<string, number>();

  app.get('/v1/sessions/:id/stream', async (c) => {
    const id = c.req.param('id');
    c.set('sessionId', id);
    const initial = idSchema.safeParse(id).success ? await options.service.getState(id) : undefined;
    if (!initial) return sendError(c, 404, 'not_found', `Session ${id} not found`);
    const refusal = await checkStreamOrigin(c, id, options);
    if (refusal) return refusal;

    const address = c.get('clientAddress');
    const isLimited = options.streamsPerAddress > 0 && address !== undefined && !isLoopback(address);
    const key = address === undefined ? '' : addressKey(address);
    if (isLimited && (openByAddress.get(key) ?? 0) >= options.streamsPerAddress) {
      c.header('Retry-After', String(STREAM_RETRY_AFTER_SECONDS));
      const message =
        `Client address ${address} already has ${options.streamsPerAddress} open session streams ` +
        `(STREAMS_PER_ADDRESS); close one, or retry after ${STREAM_RETRY_AFTER_SECONDS} s`;
      return sendError(c, 429, 'rate_limited', message);
    }
    if (isLimited) openByAddress.set(key, (openByAddress.get(key) ?? 0) + 1);
    const release = () => {
      if (!isLimited) return;
      const count = (openByAddress.get(key) ?? 1) - 1;
      if (count > 0) openByAddress.set(key, count);
      else openByAddress.delete(key);
    };

    return streamSSE(c, (stream) => runStream(stream, id, initial, options).finally(release));
  });
}

/** Applies the origin rules of the session's app when the request has an Origin header. */
async function checkStreamOrigin(
  c: Context<AppEnv>,
  id: string,
  options: StreamRouteOptions,
): Promise<Response | undefined> {
  if (c.req.header('origin') === undefined) return undefined;
  const row = await options.storage.getSession(id);
  return row ? checkAppOrigin(c, options.origins, row.appId) : undefined;
}

/** Writes states to one stream until the client disconnects or the hub closes. */
async function runStream(
  stream: SSEStreamingApi,
  id: string,
  initial: SessionState,
  options: StreamRouteOptions,
): Promise<void> {
  const queue: SessionState[] = [];
  let isClosed = false;
  let wake: () => void = () => {};

  const unsubscribe = options.hub.subscribe(id, {
    onState: (state) => {
      queue.push(state);
      wake();
    },
    onClose: () => {
      isClosed = true;
      wake();
    },
  });
  stream.onAbort(() => {
    isClosed = true;
    wake();
  });

  try {
    // Read again after subscribing, so a change between the first read and now is not lost.
    let last = JSON.stringify((await options.service.getState(id)) ?? initial);
    await stream.writeSSE({ event: 'state', data: last });

    while (!isClosed && !stream.aborted) {
      if (queue.length === 0) {
        const isWoken = await waitForWake(options.pingIntervalMs, (resolve) => (wake = resolve));
        if (!isWoken && !isClosed) await stream.write(': ping\n\n');
        continue;
      }
      const data = JSON.stringify(queue.shift());
      if (data !== last) await stream.writeSSE({ event: 'state', data });
      last = data;
    }
  } finally {
    unsubscribe();
  }
}

/** Resolves true when `register`'s callback is called, or false after `timeoutMs`. */
function waitForWake(timeoutMs: number, register: (resolve: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    register(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
