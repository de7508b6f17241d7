import type { Context, Hono } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Role } from '../auth/api-tokens.js';
import { hasRole, type Caller } from '../auth/token-registry.js';
import type { AppEnv } from '../http/app-env.js';
import type { Storage } from '../storage/index.js';
import type { StreamHub } from '../stream-hub.js';
import { currentSession, isSameOrigin, isValidCsrfToken } from './console-auth.js';
import { Layout, Notice, type Viewer } from './layout.js';
import type { ConsoleSession, SignInSessions } from './sign-in-sessions.js';

/** Dependencies of `registerConsole`. */
export interface ConsoleDeps {
  storage: Storage;
  hub: StreamHub;
  /** Server clock in epoch ms. */
  now: () => number;
  /** Returns the name and role of a bearer token, or undefined for an unknown token. */
  findCaller: (token: string) => Caller | undefined;
  /** Proxies in front of the collector whose `X-Forwarded-Proto` is trusted. @default 0 */
  trustProxyHops?: number;
  /** Interval of `: ping` comments on the live stream, in ms. @default 15000 */
  pingIntervalMs?: number;
}

/** State that every console route shares. */
export interface ConsoleContext {
  app: Hono<AppEnv>;
  deps: ConsoleDeps;
  sessions: SignInSessions;
}

/** Returns the viewer the layout shows for a sign-in. */
export function viewerOf(session: ConsoleSession): Viewer {
  return { name: session.caller.name, role: session.caller.role, csrfToken: session.csrfToken };
}

/** Renders a console page as an HTML document. */
export async function renderPage(
  c: Context,
  page: JSX.Element,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  return c.html(`<!doctype html>${await page.toString()}`, status);
}

/**
 * Returns the request's sign-in when its role grants `role`. Otherwise it
 * returns the response to send: a redirect to the sign-in page, or a 403 page.
 */
export async function requireSignIn(
  c: Context,
  context: ConsoleContext,
  role: Role,
): Promise<ConsoleSession | Response> {
  const session = currentSession(c, context.sessions);
  if (!session) {
    const next = new URL(c.req.url).pathname;
    return c.redirect(`/console/login?next=${encodeURIComponent(next)}`, 303);
  }
  if (hasRole(session.caller.role, role)) return session;

  const page = (
    <Layout title="Not allowed" viewer={viewerOf(session)}>
      <Notice kind="error">
        Your token {session.caller.name} has role {session.caller.role}; this page needs role {role}
        .
      </Notice>
    </Layout>
  );
  return renderPage(c, page, 403);
}

/**
 * Checks that a form post comes from a console page of the same sign-in:
 * same origin, and the form's `_csrf` field matches. Returns a 403 response
 * when it does not.
 */
export function checkFormOrigin(
  c: Context,
  session: ConsoleSession,
  form: Record<string, unknown>,
): Response | undefined {
  if (isSameOrigin(c) && isValidCsrfToken(session, form._csrf)) return undefined;
  return c.text(
    'Forbidden: the form was not sent from this console; reload the page and try again',
    403,
  );
}

/**
 * Calls the collector's own JSON API in process with the signed-in user's
 * token, so its validation, role checks and audit log apply.
 */
export async function callApi(
  context: ConsoleContext,
  session: ConsoleSession,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await context.app.request(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}
