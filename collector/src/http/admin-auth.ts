import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.js';
import { sendError } from './errors.js';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * @deprecated Use `authorize(role)` from `./authorize.js`, which app.ts already
 * applies to `/v1/admin/*` and `/v1/analytics/*`.
 *
 * Requires `Authorization: Bearer <token>`, else replies 401 `unauthorized`.
 * Hashing both sides first gives equal lengths, so `timingSafeEqual` compares
 * in constant time whatever the length of the presented token. Without a
 * configured token every request is rejected.
 */
export function requireAdminToken(token: string | undefined): MiddlewareHandler<AppEnv> {
  const expected = token === undefined ? undefined : sha256(token);

  return async (c, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '');
    const presented = match?.[1];
    const isValid =
      expected !== undefined &&
      presented !== undefined &&
      timingSafeEqual(sha256(presented), expected);
    if (!isValid) {
      c.header('WWW-Authenticate', 'Bearer realm="process-sessions admin"');
      return sendError(
        c,
        401,
        'unauthorized',
        'Missing or invalid admin token; send Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    await next();
  };
}
