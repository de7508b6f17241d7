import type { MiddlewareHandler } from 'hono';
import type { Role } from '../auth/api-tokens.js';
import { hasRole, type TokenRegistry } from '../auth/token-registry.js';
import type { AppEnv } from './app-env.js';
import { sendError } from './errors.js';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Sets `caller` from an `Authorization: Bearer <token>` header that matches a
 * configured token. It rejects nothing itself, so routes without `authorize`
 * stay public, and other middleware (a console sign-in cookie) may set
 * `caller` instead.
 */
export function identifyCaller(registry: TokenRegistry): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    const caller = token === undefined ? undefined : registry.find(token);
    if (caller) c.set('caller', caller);
    await next();
  };
}

/**
 * Requires a caller whose role grants `role` (`admin` grants every role).
 * Replies 401 `unauthorized` without a valid token and 403 `forbidden` when
 * the token's role is not enough.
 */
export function authorize(role: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const caller = c.get('caller');
    if (!caller) {
      c.header('WWW-Authenticate', 'Bearer realm="process-sessions"');
      return sendError(
        c,
        401,
        'unauthorized',
        'Missing or invalid token; send Authorization: Bearer <token> with an admin or analyst token',
      );
    }
    if (!hasRole(caller.role, role)) {
      return sendError(
        c,
        403,
        'forbidden',
        `Token ${caller.name} has role ${caller.role}, but ${c.req.method} ${c.req.path} requires role ${role}`,
      );
    }
    await next();
  };
}
