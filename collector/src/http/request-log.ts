import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from './app-env.js';

/** A function that replaces secrets in text bound for a log line. */
export type Redactor = (text: string) => string;

/**
 * Returns a redactor that replaces every one of `secrets` (the API tokens)
 * with `[token]`, for a client that puts a token where a path or id belongs.
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  const values = secrets.filter((secret) => secret !== '');
  if (values.length === 0) return (text) => text;
  return (text) => values.reduce((result, secret) => result.replaceAll(secret, '[token]'), text);
}

/** Returns an error's type, message and stack with secrets redacted, as pino logs `err`. */
export function redactError(error: Error, redact: Redactor) {
  return {
    type: error.name,
    message: redact(error.message),
    stack: error.stack === undefined ? undefined : redact(error.stack),
  };
}

/**
 * Logs one line per request: method, path, status, duration, request id and
 * session id when a route set one. Headers, the query string and the client
 * address are never logged, and `redact` removes tokens from the path and id.
 */
export function logRequests(
  logger: Logger,
  redact: Redactor = (text) => text,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const startedAt = performance.now();
    await next();

    const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    const status = c.res.status;
    const sessionId = c.get('sessionId');
    const line = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: redact(c.req.path),
      status,
      durationMs,
      sessionId: sessionId === undefined ? undefined : redact(sessionId),
    };
    if (status >= 500) logger.error(line, 'request failed');
    else logger.info(line, 'request');
  };
}
