import ky, { HTTPError } from 'ky';
import type { RejectedEvent, SessionState } from '../../shared/src/index.js';
import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';
import { byteLength } from './batches.js';

/** Status codes ky retries within one send: timeouts and server failures. */
const RETRY_STATUS_CODES = [408, 500, 502, 504];
/**
 * Status codes that may succeed later, after delivery's backoff. ky does not retry 429 and
 * 503, because ky 1.9.1 caps a longer Retry-After at `maxRetryAfter` and then retries too
 * early, while delivery waits out the whole Retry-After in every tab.
 */
const RETRYABLE_STATUS_CODES = [...RETRY_STATUS_CODES, 429, 503];
/** Retries after the first attempt; later failures wait for the next flush. */
const RETRY_LIMIT = 3;

/** The outcome of one batch POST, after retries. */
export type SendResult =
  | {
      ok: true;
      session?: SessionState;
      /** Events of the batch the collector did not store, such as a tab over `maxTabs`. */
      rejected?: RejectedEvent[];
    }
  | {
      ok: false;
      /** True when the batch may succeed later: network failure, timeout, 408, 429, 500, 502, 503 or 504. */
      isRetryable: boolean;
      status?: number;
      /** The collector's error code, such as `session_ended`. */
      code?: string;
      message: string;
      session?: SessionState;
      /** The reply's `Retry-After`, in ms; 0 without one. */
      retryAfterMs?: number;
    };

/**
 * Jittered exponential backoff: 300 ms, 600 ms, 1.2 s, each scaled by 0.5 to 1.5. The longest
 * delay is 1.8 s, so the request sets no `backoffLimit`.
 */
const retryDelayMs = (attempt: number) => 300 * 2 ** (attempt - 1) * (0.5 + Math.random());

/**
 * Sends the JSON `body` of a batch to `POST {endpoint}/v1/events` with ky. fetch gives a
 * string body the type text/plain;charset=UTF-8, so no CORS preflight runs. Network failures,
 * 408, 500, 502 and 504 are retried up to RETRY_LIMIT times after a jittered exponential
 * backoff. No other status is retried here, and neither is a timeout, because ky 1.9.1 never
 * retries one. `isRetryable` in the result marks whether a later flush may send the batch
 * again. Retrying is safe because the collector drops events whose id it already stored.
 * With `isClosing` the request uses keepalive, so it outlives the page, when the body fits
 * the browser's 64 KiB keepalive quota.
 */
export async function postBody(endpoint: string, body: string, isClosing = false): Promise<SendResult> {
  try {
    const response = await ky.post(`${endpoint}/v1/events`, {
      body,
      keepalive: isClosing && byteLength(body) <= MAX_BEACON_BYTES,
      // ky 1.9.1's default `timeout` of 10 s applies to each attempt.
      retry: { limit: RETRY_LIMIT, methods: ['post'], statusCodes: RETRY_STATUS_CODES, delay: retryDelayMs },
    });

    const reply = await readJson(response);

    return { ok: true, session: reply?.session, rejected: reply?.rejected };
  } catch (error) {
    if (error instanceof HTTPError) return readFailure(error.response);

    // A network failure, or ky's TimeoutError after 10 s.
    return { ok: false, isRetryable: true, message: `request failed: ${error}` };
  }
}

async function readFailure(response: Response): Promise<SendResult> {
  const { status } = response;
  const body = await readJson(response);

  return {
    ok: false,
    isRetryable: RETRYABLE_STATUS_CODES.includes(status),
    status,
    code: body?.code,
    message: body?.message ?? `collector replied ${status}`,
    session: body?.session,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  };
}

/** The fields of a collector reply, success or error, that the SDK reads. */
interface Reply {
  session?: SessionState;
  rejected?: RejectedEvent[];
  code?: string;
  message?: string;
}

/** Reads a JSON reply of the collector, or undefined when the body is not JSON. */
function readJson(response: Response): Promise<Reply | undefined> {
  return response.json().catch(() => undefined);
}

/** Reads `Retry-After`, in seconds or an HTTP date, as ms from now; 0 when missing or invalid. */
function parseRetryAfter(value: string | null): number {
  return Math.max(0, Number(value) * 1000 || Date.parse(value!) - Date.now() || 0);
}
