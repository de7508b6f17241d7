import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppOrigins } from '../access-config.js';
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

/**
 * Returns the origins the CORS headers and the first origin check allow: the
 * global list plus every app's `APP_ORIGINS`, because a batch's app id is
 * known only after its body is read. `checkAppOrigin` then narrows it per app.
 */
export function mergeAppOrigins(allowed: AllowedOrigins, appOrigins: AppOrigins): AllowedOrigins {
  if (allowed === '*') return '*';
  return [...new Set([...allowed, ...[...appOrigins.values()].flat()])];
}

/** Origin lists of `checkAppOrigin`. */
export interface OriginRules {
  /** `ALLOWED_ORIGINS`, for apps without an `APP_ORIGINS` entry. */
  allowed: AllowedOrigins;
  appOrigins: AppOrigins;
}

/**
 * Returns a 403 `origin_not_allowed` response when the request's Origin may
 * not send for `appId`, or undefined when the request may go on. An app with
 * an `APP_ORIGINS` entry accepts only its origins, and any other app only
 * `ALLOWED_ORIGINS`. Requests without an Origin header and from the
 * collector's own origin pass, as in `requireAllowedOrigin`.
 */
export function checkAppOrigin(
  c: Context<AppEnv>,
  rules: OriginRules,
  appId: string,
): Response | undefined {
  const origin = c.req.header('origin');
  if (origin === undefined) return undefined;

  const listed = rules.appOrigins.get(appId);
  const allowed = listed ?? rules.allowed;
  if (isOriginAllowed(allowed, origin, new URL(c.req.url).origin)) return undefined;

  const fix = listed
    ? `add it to the APP_ORIGINS entry of app ${appId}`
    : 'add it to ALLOWED_ORIGINS, or list it for the app in APP_ORIGINS';
  return sendError(
    c,
    403,
    'origin_not_allowed',
    `Origin ${origin} is not allowed for app ${appId}; ${fix}`,
  );
}
