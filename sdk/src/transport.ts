import type { BatchInput, SessionState } from '../../shared/src/index.js';
import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';

/** Status codes worth retrying: timeouts, rate limits and server failures. */
const RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504];
/** Retries after the first attempt; later failures wait for the next flush. */
const RETRY_LIMIT = 3;
/** Upper bound of one retry delay, `Retry-After` included, in ms. */
const MAX_RETRY_DELAY_MS = 30_000;
/** An attempt that has no reply after this long is aborted and retried, in ms. */
const TIMEOUT_MS = 10_000;

/** The outcome of one batch POST, after retries. */
export type SendResult =
  | { ok: true; session?: SessionState }
  | {
      ok: false;
      /** True when the batch may succeed later: network failure, timeout, 408, 429 or 5xx. */
      isRetryable: boolean;
      status?: number;
      /** The collector's error code, such as `session_ended`. */
      code?: string;
      message: string;
      session?: SessionState;
      /** The reply's `Retry-After`, in ms. */
      retryAfterMs?: number;
    };

/** Builds the request the collector accepts: JSON sent as text/plain, so no CORS preflight runs. */
export function batchRequest(batch: BatchInput) {
  return { body: JSON.stringify(batch), headers: { 'content-type': 'text/plain;charset=UTF-8' } };
}

/**
 * Sends `batch` to `POST {endpoint}/v1/events`. Network failures, timeouts, 408, 429 and
 * 5xx are retried up to RETRY_LIMIT times, after the reply's `Retry-After` or else a
 * jittered exponential backoff. Other 4xx return at once. Retrying is safe because the
 * collector drops events whose id it already stored.
 */
export async function postBatch(endpoint: string, batch: BatchInput): Promise<SendResult> {
  const request = batchRequest(batch);

  for (let attempt = 0; ; attempt += 1) {
    const result = await postOnce(`${endpoint}/v1/events`, request);

    if (result.ok || !result.isRetryable || attempt >= RETRY_LIMIT) return result;

    const backoffMs = 300 * 2 ** attempt * (0.5 + Math.random());
    await new Promise((resolve) => setTimeout(resolve, Math.min(result.retryAfterMs ?? backoffMs, MAX_RETRY_DELAY_MS)));
  }
}

async function postOnce(url: string, request: ReturnType<typeof batchRequest>): Promise<SendResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);

  try {
    const response = await fetch(url, {
      method: 'POST',
      ...request,
      // Keepalive lets the request finish when the page navigates away, but only within
      // its 64 KiB quota; UTF-8 needs at most 3 bytes per UTF-16 code unit.
      keepalive: request.body.length * 3 <= MAX_BEACON_BYTES,
      signal: abort.signal,
    });
    const body = await response.json().catch(() => undefined);
    const { status } = response;

    if (response.ok) return { ok: true, session: body?.session };

    return {
      ok: false,
      isRetryable: RETRY_STATUS_CODES.includes(status),
      status,
      code: body?.code,
      message: body?.message ?? `collector replied ${status}`,
      session: body?.session,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    };
  } catch (error) {
    return { ok: false, isRetryable: true, message: `request failed: ${String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads `Retry-After` as seconds or an HTTP date, in ms from now. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;

  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();

  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}
