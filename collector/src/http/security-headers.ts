import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.js';
import { isHttpsRequest } from './client-address.js';

/**
 * Content Security Policy of every response that sets none, such as JSON and
 * error bodies: the response may load nothing and no page may frame it.
 */
export const DEFAULT_CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** HSTS value: browsers use https only for this host for one year. */
const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

/**
 * Adds security headers to every response: `nosniff`, `X-Frame-Options: DENY`,
 * and a Referrer-Policy and Content-Security-Policy where the route set none
 * (routes that serve pages set their own). HSTS is added only to https
 * requests, seen directly or through a trusted proxy's X-Forwarded-Proto,
 * because browsers ignore it over http.
 */
export function secureResponses(trustProxyHops: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();

    const { headers } = c.res;
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('X-Frame-Options', 'DENY');
    if (!headers.has('Referrer-Policy')) headers.set('Referrer-Policy', 'no-referrer');
    if (!headers.has('Content-Security-Policy')) {
      headers.set('Content-Security-Policy', DEFAULT_CONTENT_SECURITY_POLICY);
    }
    if (isHttpsRequest(c, trustProxyHops)) {
      headers.set('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
    }
  };
}

/**
 * Returns a Content-Security-Policy for a static HTML page: scripts, styles,
 * connections and images from this origin, plus the page's own inline
 * `<style>` and `<script>` elements by their SHA-256 hash, so no other inline
 * code runs.
 */
export function pageContentSecurityPolicy(html: string): string {
  const styleHashes = hashInline(html, 'style');
  const scriptHashes = hashInline(html, 'script');
  return [
    "default-src 'none'",
    ["script-src 'self'", ...scriptHashes].join(' '),
    ["style-src 'self'", ...styleHashes].join(' '),
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Returns CSP hash sources of the inline elements named `tag` (those without `src`). */
function hashInline(html: string, tag: 'style' | 'script'): string[] {
  const pattern = new RegExp(`<${tag}(\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'gi');
  const hashes: string[] = [];
  for (const [, attributes = '', content = ''] of html.matchAll(pattern)) {
    if (/\ssrc\s*=/i.test(attributes) || content === '') continue;
    hashes.push(`'sha256-${createHash('sha256').update(content, 'utf8').digest('base64')}'`);
  }
  return hashes;
}
