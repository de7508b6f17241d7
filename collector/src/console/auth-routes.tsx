import type { Context } from 'hono';
import {
  clearSessionCookie,
  currentSession,
  isSameOrigin,
  setSessionCookie,
} from './console-auth.js';
import { type ConsoleContext, checkFormOrigin, renderPage } from './console-context.js';
import { Layout, Notice } from './layout.js';

/**
 * Returns `next` when it is a console path in normal form, or else the
 * role's start page. So a link cannot send a signed-in user out of the
 * console, not even through `..` segments.
 */
function landingPath(next: unknown, role: string): string {
  const isConsolePath =
    typeof next === 'string' &&
    /^\/console(\/[\w\-/.]*)?$/.test(next) &&
    new URL(next, 'http://console.invalid').pathname === next;
  if (isConsolePath) return next;
  return role === 'admin' ? '/console/live' : '/console/reports';
}

function LoginPage(props: { next: string; error?: string }) {
  return (
    <Layout title="Sign in">
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <form method="post" action="/console/login" class="card narrow">
        <label for="token">Admin or analyst token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <input type="hidden" name="next" value={props.next} />
        <button type="submit" class="primary">
          Sign in
        </button>
        <p class="hint">
          The collector printed the admin token on its first start and keeps it in the admin-token
          file beside the database.
        </p>
      </form>
    </Layout>
  );
}

/** Registers `/console` (a redirect), the sign-in page and the sign-out action. */
export function registerAuthRoutes(context: ConsoleContext): void {
  const { app, deps, sessions } = context;

  app.get('/console', (c) => {
    const session = currentSession(c, sessions);
    if (!session) return c.redirect('/console/login', 303);
    return c.redirect(landingPath(undefined, session.caller.role), 303);
  });

  app.get('/console/login', (c) => renderPage(c, <LoginPage next={c.req.query('next') ?? ''} />));

  app.post('/console/login', async (c: Context) => {
    const form = await c.req.parseBody();
    const next = typeof form.next === 'string' ? form.next : '';
    if (!isSameOrigin(c)) {
      return renderPage(
        c,
        <LoginPage next={next} error="Sign in from the console page itself." />,
        403,
      );
    }

    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const caller = token === '' ? undefined : deps.findCaller(token);
    if (!caller) {
      const error = 'The token is not valid. Paste an admin or analyst token of this collector.';
      return renderPage(c, <LoginPage next={next} error={error} />, 401);
    }

    const session = sessions.create(caller, token);
    setSessionCookie(c, session, deps.now(), deps.trustProxyHops ?? 0);
    return c.redirect(landingPath(next, caller.role), 303);
  });

  app.post('/console/logout', async (c) => {
    const session = currentSession(c, sessions);
    if (session) {
      const rejection = checkFormOrigin(c, session, await c.req.parseBody());
      if (rejection) return rejection;
      sessions.delete(session.id);
    }
    clearSessionCookie(c, deps.trustProxyHops ?? 0);
    return c.redirect('/console/login', 303);
  });
}
