import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from './app-env.js';
import { sendError } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

/** The collector's rate limits; a missing one is switched off. */
export interface RateLimits {
  /** Requests per client address without a bearer token. */
  perAddress?: RateLimiter;
  /** Batches per app id. */
  perApp?: RateLimiter;
}

/** Creates the limiters of `RATE_LIMIT_PER_IP` and `RATE_LIMIT_PER_APP`, where they are not 0. */
export function createRateLimits(
  limits: { rateLimitPerIp: number; rateLimitPerApp: number },
  now: () => number,
): RateLimits {
  const { rateLimitPerIp, rateLimitPerApp } = limits;
  return {
    ...(rateLimitPerIp > 0
      ? { perAddress: new RateLimiter({ perMinute: rateLimitPerIp, now }) }
      : {}),
    ...(rateLimitPerApp > 0
      ? { perApp: new RateLimiter({ perMinute: rateLimitPerApp, now }) }
      : {}),
  };
}

/**
 * Limits requests per client address and replies 429 `rate_limited` with
 * Retry-After. Requests with a valid bearer token, `/healthz`, requests
 * without a known address (an in-process `app.request`) and requests from a
 * loopback address are not counted. Loopback traffic comes from the host
 * itself or from a local reverse proxy, and limiting the proxy's address
 * would limit every client behind it together, so set TRUST_PROXY there.
 */
export function limitPerAddress(
  limiter: RateLimiter | undefined,
  logger: Pick<Logger, 'warn'>,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const address = c.get('clientAddress');
    const isExempt = address === undefined || isLoopback(address) || c.req.path === '/healthz';
    if (!limiter || isExempt || c.get('caller')) return next();

    const result = limiter.take(addressKey(address));
    if (result.isAllowed) return next();

    // The address is personal data, so the log line names the request, not the client.
    if (result.rejections === 1) {
      logger.warn(
        { requestId: c.get('requestId'), limit: limiter.perMinute },
        'per-address rate limit reached',
      );
    }
    const message =
      `Too many requests from this client address: the limit is ${limiter.perMinute} a minute ` +
      '(RATE_LIMIT_PER_IP)';
    return sendLimited(c, result, message);
  };
}

/**
 * Counts one batch of `appId` and returns a 429 `rate_limited` response when
 * the app is over its limit, or undefined when the batch may go on.
 */
export function checkAppLimit(
  c: Context<AppEnv>,
  limiter: RateLimiter | undefined,
  appId: string,
  logger: Pick<Logger, 'warn'>,
): Response | undefined {
  if (!limiter) return undefined;
  const result = limiter.take(appId);
  if (result.isAllowed) return undefined;

  if (result.rejections === 1) {
    logger.warn(
      { requestId: c.get('requestId'), appId, limit: limiter.perMinute },
      'per-app rate limit reached',
    );
  }
  const message = `App ${appId} sent more than ${limiter.perMinute} batches a minute (RATE_LIMIT_PER_APP)`;
  return sendLimited(c, result, message);
}

function sendLimited(
  c: Context<AppEnv>,
  result: { retryAfterMs: number; rejections: number },
  reason: string,
): Response {
  const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  // A flood would fill the integration log with copies, so it keeps the first of each run.
  if (result.rejections > 1) c.set('isIngestLogSkipped', true);
  c.header('Retry-After', String(retryAfterSeconds));
  return sendError(c, 429, 'rate_limited', `${reason}; retry after ${retryAfterSeconds} s`);
}

/** Returns whether an address is 127.0.0.0/8 or ::1; `clientAddress` has IPv4-mapped ones unmapped. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/**
 * Returns the rate-limit key of an address: an IPv4 address itself, and the
 * /64 prefix of an IPv6 address, because one host usually has a whole /64.
 */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;

  const [bare = ''] = address.toLowerCase().split('%');
  const [head = '', tail] = bare.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // A dotted IPv4 tail such as 1.2.3.4 fills two groups.
  const tailSize = tailGroups.reduce((size, group) => size + (group.includes('.') ? 2 : 1), 0);
  const zeros: string[] = Array.from(
    { length: Math.max(0, 8 - headGroups.length - tailSize) },
    () => '0',
  );

  const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  // Only the last two groups can be dotted, so the first four are always hexadecimal.
  const prefix = groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
