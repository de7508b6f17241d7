import ky, { HTTPError, TimeoutError } from 'ky';
import type { BatchInput, SessionState } from '../../shared/src/index.js';
import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';

/** Status codes worth retrying: timeouts, rate limits and server failures. */
const RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504];
/** Retries after the first attempt; later failures wait for the next flush. */
const RETRY_LIMIT = 3;
/** Upper bound of one retry delay, `Retry-After` included, in ms. */
const MAX_RETRY_DELAY_MS = 30_000;
/** An attempt with no reply after this long fails with a timeout, in ms. */
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

/** The content type of every batch: JSON sent as text/plain, so no CORS preflight runs. */
export const BATCH_CONTENT_TYPE = 'text/plain;charset=UTF-8';

const encoder = new TextEncoder();

/** Returns the UTF-8 size of `text` in bytes. */
export const byteLength = (text: string) => encoder.encode(text).length;

/** Jittered exponential backoff: 300 ms, 600 ms, 1.2 s, each scaled by 0.5 to 1.5. */
const retryDelayMs = (attempt: number) => 300 * 2 ** (attempt - 1) * (0.5 + Math.random());

/**
 * Sends the JSON `body` of a batch to `POST {endpoint}/v1/events` with ky. Network failures,
 * 408, 429 and 5xx are retried up to RETRY_LIMIT times, after the reply's `Retry-After` on
 * 429 and 503 or else a jittered exponential backoff. Other 4xx are not retried, and neither
 * is a timeout, because ky 1.9.1 never retries one; the next flush sends that batch again.
 * Retrying is safe because the collector drops events whose id it already stored. With
 * `isClosing` the request uses keepalive, so it outlives the page, when the body fits the
 * browser's 64 KiB keepalive quota.
 */
export async function postBody(endpoint: string, body: string, isClosing = false): Promise<SendResult> {
  try {
    const response = await ky.post(`${endpoint}/v1/events`, {
      body,
      headers: { 'content-type': BATCH_CONTENT_TYPE },
      keepalive: isClosing && byteLength(body) <= MAX_BEACON_BYTES,
      timeout: TIMEOUT_MS,
      retry: {
        limit: RETRY_LIMIT,
        methods: ['post'],
        statusCodes: RETRY_STATUS_CODES,
        afterStatusCodes: [429, 503],
        maxRetryAfter: MAX_RETRY_DELAY_MS,
        backoffLimit: MAX_RETRY_DELAY_MS,
        delay: retryDelayMs,
      },
    });

    return { ok: true, session: (await readJson(response))?.session };
  } catch (error) {
    if (error instanceof HTTPError) return readFailure(error.response);

    const message = error instanceof TimeoutError ? `timed out after ${TIMEOUT_MS} ms` : String(error);

    return { ok: false, isRetryable: true, message: `request failed: ${message}` };
  }
}

/** Sends `batch`; see `postBody`. */
export function postBatch(endpoint: string, batch: BatchInput, isClosing?: boolean): Promise<SendResult> {
  return postBody(endpoint, JSON.stringify(batch), isClosing);
}

async function readFailure(response: Response): Promise<SendResult> {
  const { status } = response;
  const body = await readJson(response);

  return {
    ok: false,
    isRetryable: RETRY_STATUS_CODES.includes(status),
    status,
    code: body?.code,
    message: body?.message ?? `collector replied ${status}`,
    session: body?.session,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  };
}

/** Reads a JSON reply of the collector, or undefined when the body is not JSON. */
function readJson(response: Response): Promise<{ session?: SessionState; code?: string; message?: string } | undefined> {
  return response.json().catch(() => undefined);
}

/** Reads `Retry-After` as seconds or an HTTP date, in ms from now. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;

  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();

  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}
