import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isHttpsRequest } from '../http/client-address.js';
import type { ConsoleSession, SignInSessions } from './sign-in-sessions.js';

/** Name of the console's sign-in cookie. */
export const SESSION_COOKIE = 'ps_console';

/**
 * Sets the sign-in cookie: HttpOnly, SameSite=Strict, scoped to /console,
 * Secure when the request came over HTTPS, directly or at one of
 * `trustProxyHops` trusted proxies (`X-Forwarded-Proto`).
 */
export function setSessionCookie(
  c: Context,
  session: ConsoleSession,
  now: number,
  trustProxyHops: number,
): void {
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttpsRequest(c, trustProxyHops),
    path: '/console',
    maxAge: Math.max(1, Math.floor((session.expiresAt - now) / 1000)),
  });
}

/** Removes the sign-in cookie. */
export function clearSessionCookie(c: Context, trustProxyHops: number): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/console', secure: isHttpsRequest(c, trustProxyHops) });
}

/** Returns the sign-in of the request's cookie, if it is valid. */
export function currentSession(c: Context, sessions: SignInSessions): ConsoleSession | undefined {
  return sessions.get(getCookie(c, SESSION_COOKIE));
}

/**
 * Returns whether a form post comes from a console page. Browsers send
 * `Origin` on every POST; its host must be the host the request was sent to.
 * Without `Origin`, a `Sec-Fetch-Site` other than same-origin fails too.
 */
export function isSameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  if (origin !== undefined) {
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  const site = c.req.header('sec-fetch-site');
  return site === undefined || site === 'same-origin' || site === 'none';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares a form's CSRF token with the sign-in's in constant time. */
export function isValidCsrfToken(session: ConsoleSession, token: unknown): boolean {
  if (typeof token !== 'string' || token === '') return false;
  return timingSafeEqual(sha256(token), sha256(session.csrfToken));
}
