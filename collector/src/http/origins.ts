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

/** Response header that CORS lets pages read. */
const EXPOSED_HEADERS = 'X-Request-Id';

/**
 * Returns middleware that adds CORS headers and replies to preflight requests.
 * Other requests get their headers after the handler, on its response. Hono's
 * `cors` sets them on `c.res` before the handler, and Hono then copies the
 * handler's response into a new one whose body is a web stream, which took
 * more CPU per batch than the collector's own checks.
 */
export function corsFor(allowed: AllowedOrigins): MiddlewareHandler<AppEnv> {
  const allowOrigin = (origin: string) => {
    if (allowed === '*') return '*';
    return allowed.includes(origin) ? origin : null;
  };
  const preflight = cors({
    origin: allowOrigin,
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'X-Request-Id'],
    exposeHeaders: [EXPOSED_HEADERS],
    maxAge: 600,
  });

  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();

    const { headers } = c.res;
    const origin = allowOrigin(c.req.header('origin') ?? '');
    if (origin) headers.set('Access-Control-Allow-Origin', origin);
    headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (allowed !== '*') headers.append('Vary', 'Origin');
  };
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
