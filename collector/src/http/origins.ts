import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from './app-env.js';
import { sendError } from './errors.js';

/** Allowed origins: a list, or `'*'` for any origin. */
export type AllowedOrigins = readonly string[] | '*';

/**
 * Returns whether a browser page of `origin` may call the collector. The
 * collector's own origin (`ownOrigin`, taken from the request URL) is always
 * allowed, because it serves the example page and the console itself.
 */
export function isOriginAllowed(allowed: AllowedOrigins, origin: string, ownOrigin?: string): boolean {
  return allowed === '*' || origin === ownOrigin || allowed.includes(origin);
}

/** Returns middleware that adds CORS headers and replies to preflight requests. */
export function corsFor(allowed: AllowedOrigins): MiddlewareHandler<AppEnv> {
  return cors({
    origin: allowed === '*' ? '*' : (origin) => (allowed.includes(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id'],
    maxAge: 600,
  });
}

/**
 * Rejects a request whose Origin header is not allowed with 403 `origin_not_allowed`.
 * Requests without an Origin header (servers, curl, same-origin GETs) pass.
 */
export function requireAllowedOrigin(allowed: AllowedOrigins): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !isOriginAllowed(allowed, origin, new URL(c.req.url).origin)) {
      return sendError(
        c,
        403,
        'origin_not_allowed',
        `Origin ${origin} is not allowed; add it to ALLOWED_ORIGINS of the collector`,
      );
    }
    await next();
  };
}
