import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.js';

/**
 * Sets `clientAddress` on every request. With `trustProxyHops` 0 it is the
 * socket's peer address. With n it is the nth X-Forwarded-For entry from the
 * right, because each trusted proxy appends the address it received from,
 * and entries further left are whatever the client sent. The raw address
 * stays in memory for this request only, and must never be logged or stored.
 */
export function identifyClientAddress(trustProxyHops: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const address = resolveClientAddress(c, trustProxyHops);
    if (address !== undefined) c.set('clientAddress', address);
    await next();
  };
}

/**
 * Returns the client address of a request, or undefined when the request
 * came without a socket (an in-process `app.request`) and no trusted
 * X-Forwarded-For entry names one. IPv4-mapped IPv6 addresses become IPv4.
 */
export function resolveClientAddress(c: Context, trustProxyHops: number): string | undefined {
  const socketAddress = readSocketAddress(c);
  if (trustProxyHops === 0) return socketAddress;

  const entries = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return socketAddress;

  // Fewer entries than proxies means the request skipped a proxy and trusted ones added them all.
  const entry = entries[Math.max(0, entries.length - trustProxyHops)]!;
  return normalizeAddress(entry) ?? socketAddress;
}

/**
 * Returns whether the request arrived over https, directly or at the
 * outermost trusted proxy. Proxies that append to X-Forwarded-Proto add
 * their own incoming scheme, so with `trustProxyHops` proxies the client's
 * scheme is that many entries from the end, as for X-Forwarded-For.
 */
export function isHttpsRequest(c: Context, trustProxyHops: number): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  if (trustProxyHops === 0) return false;

  const entries = (c.req.header('x-forwarded-proto') ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  return entries[Math.max(0, entries.length - trustProxyHops)] === 'https';
}

function readSocketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  const address = env?.incoming?.socket?.remoteAddress;
  return address === undefined ? undefined : normalizeAddress(address);
}

/** Returns an IP address in canonical form, or undefined when `text` is not one. */
function normalizeAddress(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(bare) === 0) return undefined;

  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped ? mapped[1] : bare.toLowerCase();
}
