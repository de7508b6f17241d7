import { liveFeedFor, LIVE_PING_INTERVAL_MS } from '../analytics/routes.js';
import { streamLiveSessions } from '../analytics/live-stream.js';
import { type LiveSession, toLiveSession } from '../analytics/live-feed.js';
import {
  callApi,
  type ConsoleContext,
  checkFormOrigin,
  renderPage,
  requireSignIn,
  viewerOf,
} from './console-context.js';
import { Layout, Notice } from './layout.js';
import type { ConsoleSession } from './sign-in-sessions.js';

/** Rows the Live sessions page lists at most, most recently seen first. */
const LIVE_PAGE_LIMIT = 500;

function terminateHref(target: { sessionId: string } | { userId: string }): string {
  return `/console/live/terminate?${new URLSearchParams(target).toString()}`;
}

function SessionRow({ session }: { session: LiveSession }) {
  return (
    <tr data-session-id={session.id}>
      <td class="mono">{session.id}</td>
      <td>{session.userId ?? <span class="muted">anonymous</span>}</td>
      <td>{session.appId}</td>
      <td>{session.userGroup ?? ''}</td>
      <td>
        <time datetime={new Date(session.startedAt).toISOString()}>
          {new Date(session.startedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC
        </time>
      </td>
      <td class="num">{session.tabsNow}</td>
      <td class="actions">
        <a class="button danger" href={terminateHref({ sessionId: session.id })}>
          Terminate
        </a>
        {session.userId !== null && (
          <a class="button danger-outline" href={terminateHref({ userId: session.userId })}>
            All of user
          </a>
        )}
      </td>
    </tr>
  );
}

function LivePage(props: {
  session: ConsoleSession;
  rows: LiveSession[];
  live: number;
  notice?: string;
}) {
  return (
    <Layout
      title="Live sessions"
      viewer={viewerOf(props.session)}
      current="/console/live"
      scripts={['live.js']}
    >
      {props.notice && <Notice kind="info">{props.notice}</Notice>}
      <p class="live-count">
        <strong id="live-count">{props.live}</strong> live sessions
        <span id="live-status" class="muted">
          {' '}
          · connecting…
        </span>
      </p>
      <table class="sessions" id="live-sessions">
        <thead>
          <tr>
            <th>Session</th>
            <th>User</th>
            <th>App</th>
            <th>Group</th>
            <th>Started</th>
            <th>Tabs</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <SessionRow session={row} />
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

type Target = { kind: 'session'; id: string } | { kind: 'user'; id: string };

function readTarget(values: Record<string, unknown>): Target | undefined {
  const { sessionId, userId } = values;
  if (typeof sessionId === 'string' && sessionId !== '') return { kind: 'session', id: sessionId };
  if (typeof userId === 'string' && userId !== '') return { kind: 'user', id: userId };
  return undefined;
}

function ConfirmPage(props: { session: ConsoleSession; target: Target }) {
  const { target } = props;
  const scope = target.kind === 'session' ? 'this session' : 'every live session of this user';
  return (
    <Layout title="Terminate sessions?" viewer={viewerOf(props.session)} current="/console/live">
      <form method="post" action="/console/live/terminate" class="card narrow confirm">
        <p>
          {target.kind === 'session' ? 'Session ' : 'User '}
          <strong class="mono">{target.id}</strong>
        </p>
        <p class="warning" role="alert">
          Terminating {scope} disrupts the user's work: every open tab of the session stops at once,
          input the app has not saved may be lost, and the user must start again.
        </p>
        <input type="hidden" name="_csrf" value={props.session.csrfToken} />
        <input
          type="hidden"
          name={target.kind === 'session' ? 'sessionId' : 'userId'}
          value={target.id}
        />
        <label for="reason">Reason (recorded in the audit log)</label>
        <input id="reason" name="reason" maxlength={512} placeholder="Security review" />
        <div class="buttons">
          <button type="submit" class="danger" id="confirm-terminate">
            Terminate
          </button>
          <a href="/console/live" class="button">
            Cancel
          </a>
        </div>
      </form>
    </Layout>
  );
}

/** Registers the Live sessions page, its stream and the Terminate confirmation (admin only). */
export function registerLiveRoutes(context: ConsoleContext): void {
  const { app, deps } = context;

  app.get('/console/live', async (c) => {
    const session = await requireSignIn(c, context, 'admin');
    if (session instanceof Response) return session;

    const feed = liveFeedFor(deps.storage, deps.hub);
    await feed.ready();
    const rows = await deps.storage.listLiveSessions({ limit: LIVE_PAGE_LIMIT });
    const notice = session.flash;
    delete session.flash;
    return renderPage(
      c,
      <LivePage
        session={session}
        rows={rows.map(toLiveSession)}
        live={feed.liveCount}
        notice={notice}
      />,
    );
  });

  app.get('/console/live/stream', async (c) => {
    const session = await requireSignIn(c, context, 'admin');
    if (session instanceof Response) return session;
    return streamLiveSessions(c, liveFeedFor(deps.storage, deps.hub), {
      now: deps.now,
      pingIntervalMs: deps.pingIntervalMs ?? LIVE_PING_INTERVAL_MS,
    });
  });

  app.get('/console/live/terminate', async (c) => {
    const session = await requireSignIn(c, context, 'admin');
    if (session instanceof Response) return session;
    const target = readTarget(c.req.query());
    if (!target) return c.redirect('/console/live', 303);
    return renderPage(c, <ConfirmPage session={session} target={target} />);
  });

  app.post('/console/live/terminate', async (c) => {
    const session = await requireSignIn(c, context, 'admin');
    if (session instanceof Response) return session;
    const form = await c.req.parseBody();
    const rejection = checkFormOrigin(c, session, form);
    if (rejection) return rejection;
    const target = readTarget(form);
    if (!target) return c.redirect('/console/live', 303);

    const reason =
      typeof form.reason === 'string' && form.reason.trim() !== '' ? form.reason.trim() : undefined;
    const path =
      target.kind === 'session'
        ? `/v1/admin/sessions/${encodeURIComponent(target.id)}/terminate`
        : `/v1/admin/users/${encodeURIComponent(target.id)}/sessions/terminate`;
    const response = await callApi(
      context,
      session,
      'POST',
      path,
      reason === undefined ? {} : { reason },
    );

    session.flash =
      response.status === 200
        ? `Terminated ${target.kind === 'session' ? 'session' : 'the sessions of user'} ${target.id}.`
        : `Terminate failed: ${response.body?.message ?? `the admin API returned status ${response.status}`}`;
    return c.redirect('/console/live', 303);
  });
}
