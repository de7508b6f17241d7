import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ErrorBody } from '../../../shared/src/index.js';
import { DEFAULT_CONTENT_SECURITY_POLICY } from './security-headers.js';

/** Time limits a client's request must meet, in ms. */
export interface RequestLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/**
 * Client error lines logged in one second at most. Such errors never reach
 * the rate limits, so without a cap a client that opens connections and
 * sends garbage would write one log line each.
 */
const MAX_LOG_LINES_PER_SECOND = 10;

/** A socket with the response Node may have started on it, in Node's internal `_httpMessage`. */
type ClientSocket = Duplex & { _httpMessage?: { headersSent?: boolean } };

/**
 * Returns a `clientError` listener for the HTTP server. It responds to errors
 * Node raises before or while it reads a request (a timeout, headers too
 * large, bytes that are not HTTP) with the collector's JSON error body, logs
 * one line, and closes the connection. Without a listener Node sends the
 * status line alone. A connection reset by the client gets no reply. Past
 * `MAX_LOG_LINES_PER_SECOND` lines in a second, the errors of that second
 * are counted and logged as one line when it ends.
 */
export function createClientErrorListener(logger: Logger, limits: RequestLimits) {
  let secondStart = 0;
  let loggedLines = 0;
  let unloggedErrors = 0;
  const logUnlogged = () => {
    const message = `client errors beyond ${MAX_LOG_LINES_PER_SECOND} in a second, not logged one by one`;
    logger.warn({ count: unloggedErrors }, message);
    unloggedErrors = 0;
  };

  return (error: NodeJS.ErrnoException, socket: ClientSocket): void => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }

    const [status, body] = describeClientError(error, limits);
    const now = Date.now();
    if (now - secondStart >= 1000) {
      secondStart = now;
      loggedLines = 0;
    }
    if (loggedLines < MAX_LOG_LINES_PER_SECOND) {
      loggedLines += 1;
      logger.warn({ status, code: body.code, cause: error.code }, 'client error');
    } else {
      unloggedErrors += 1;
      // One timer a second at most, unref'd so that it never keeps the process alive.
      if (unloggedErrors === 1) setTimeout(logUnlogged, secondStart + 1000 - now).unref();
    }
    // A response that has started cannot take a second status line.
    if (!socket._httpMessage?.headersSent) {
      const text = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          'Content-Type: application/json\r\n' +
          'X-Content-Type-Options: nosniff\r\n' +
          'X-Frame-Options: DENY\r\n' +
          `Content-Security-Policy: ${DEFAULT_CONTENT_SECURITY_POLICY}\r\n` +
          'Referrer-Policy: no-referrer\r\n' +
          'Cache-Control: no-store\r\n' +
          `Content-Length: ${Buffer.byteLength(text)}\r\n` +
          'Connection: close\r\n\r\n' +
          text,
      );
    }
    socket.destroy();
  };
}

function describeClientError(
  error: NodeJS.ErrnoException,
  limits: RequestLimits,
): [number, ErrorBody] {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    const seconds = (ms: number) => `${ms / 1000} s`;
    const message =
      `Request timed out: send the headers within ${seconds(limits.headersTimeoutMs)} ` +
      `and the whole request within ${seconds(limits.requestTimeoutMs)}`;
    return [408, { code: 'request_timeout', message }];
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const message =
      `Request headers are over the limit of ${maxHeaderSize} bytes; send fewer or shorter headers`;
    return [431, { code: 'headers_too_large', message }];
  }
  return [400, { code: 'bad_request', message: `Request is not valid HTTP/1.1 (${error.code})` }];
}
