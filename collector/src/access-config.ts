/** Parsers of the access variables: TRUST_PROXY and APP_ORIGINS. */
import { z } from 'zod';
import { appIdSchema } from '../../shared/src/index.js';

/** Maximum proxy hops `TRUST_PROXY` accepts. */
const MAX_PROXY_HOPS = 10;

/** Allowed origins by app id, from `APP_ORIGINS`. */
export type AppOrigins = ReadonlyMap<string, readonly string[]>;

/**
 * Parses `TRUST_PROXY` into the number of proxies in front of the collector:
 * unset, empty, `false` or `0` is 0 (use the socket address), `true` is 1,
 * and a whole number up to 10 is that many proxies.
 */
export const trustProxyVariable = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const value = raw?.trim().toLowerCase() ?? '';
    if (value === '' || value === 'false') return 0;
    if (value === 'true') return 1;
    if (/^\d+$/.test(value) && Number(value) <= MAX_PROXY_HOPS) return Number(value);

    ctx.addIssue({
      code: 'custom',
      message: `TRUST_PROXY must be true, false or a number of proxies from 0 to ${MAX_PROXY_HOPS}, received "${raw}"`,
    });
    return z.NEVER;
  });

/**
 * Parses `APP_ORIGINS`: `appId=origin|origin;appId=origin`, such as
 * `shop-web=https://shop.example|https://www.shop.example;admin=https://admin.example`.
 * Unset or empty is no per-app list.
 */
export const appOriginsVariable = z
  .string()
  .optional()
  .transform((raw, ctx): AppOrigins => {
    try {
      return parseAppOrigins(raw ?? '');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

function parseAppOrigins(raw: string): AppOrigins {
  const origins = new Map<string, readonly string[]>();
  const entries = raw
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');

  for (const entry of entries) {
    const [appId = '', list = ''] = entry.split('=', 2).map((part) => part.trim());
    if (!entry.includes('=') || !appIdSchema.safeParse(appId).success) {
      throw new Error(
        `APP_ORIGINS entries must be appId=origin|origin, such as shop-web=https://shop.example, received "${entry}"`,
      );
    }
    if (origins.has(appId))
      throw new Error(`APP_ORIGINS lists app ${appId} twice, so merge its origins into one entry`);

    const appOrigins = list.split('|').map((origin) => origin.trim());
    const invalid = appOrigins.find((origin) => !isOrigin(origin));
    if (invalid !== undefined) {
      throw new Error(
        `APP_ORIGINS origins must look like https://shop.example:8443, received "${invalid}" for app ${appId}`,
      );
    }
    origins.set(appId, appOrigins);
  }
  return origins;
}

/** Returns whether `value` is exactly an http or https origin: scheme, host and optional port. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}
