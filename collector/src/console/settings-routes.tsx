import type { Context } from 'hono';
import type { ConsoleSession } from './sign-in-sessions.js';
import {
  callApi,
  type ConsoleContext,
  checkFormOrigin,
  renderPage,
  requireSignIn,
  viewerOf,
} from './console-context.js';
import { Layout, Notice } from './layout.js';
import {
  type EditableSettings,
  FIELD_OF_SETTING,
  type FieldError,
  readForm,
  type SettingsField,
  type SettingsFormValues,
  toFormValues,
  toSettingsPatch,
} from './settings-form.js';

interface SettingsPageProps {
  session: ConsoleSession;
  values: SettingsFormValues;
  errors?: FieldError[];
  notice?: { kind: 'info' | 'error'; text: string };
}

function FieldMessage(props: { field: SettingsField; errors: FieldError[] }) {
  const error = props.errors.find((entry) => entry.field === props.field);
  if (!error) return null;
  return (
    <p class="field-error" id={`${props.field}-error`} role="alert">
      {error.message}
    </p>
  );
}

function SettingsPage({ session, values, errors = [], notice }: SettingsPageProps) {
  const invalid = (field: SettingsField) =>
    errors.some((entry) => entry.field === field) ? 'true' : undefined;
  return (
    <Layout title="Settings" viewer={viewerOf(session)} current="/console/settings">
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <form method="post" action="/console/settings" class="card settings" novalidate>
        <input type="hidden" name="_csrf" value={session.csrfToken} />
        <h2>Process Sessions</h2>

        <div class="field switch-field">
          <label class="switch">
            <input
              type="checkbox"
              id="enabled"
              name="enabled"
              role="switch"
              checked={values.enabled}
            />
            <span>Track process sessions</span>
          </label>
          <p class="hint">
            Switching this off ends every live session and stops tracking in every app.
          </p>
          <FieldMessage field="enabled" errors={errors} />
        </div>

        <div class="field">
          <label for="idleTimeoutMinutes">Session timeout (minutes without activity)</label>
          <input
            id="idleTimeoutMinutes"
            name="idleTimeoutMinutes"
            inputmode="decimal"
            value={values.idleTimeoutMinutes}
            aria-invalid={invalid('idleTimeoutMinutes')}
          />
          <FieldMessage field="idleTimeoutMinutes" errors={errors} />
        </div>

        <div class="field">
          <label for="absoluteTimeoutHours">Maximum session lifetime (hours)</label>
          <input
            id="absoluteTimeoutHours"
            name="absoluteTimeoutHours"
            inputmode="decimal"
            value={values.absoluteTimeoutHours}
            aria-invalid={invalid('absoluteTimeoutHours')}
          />
          <FieldMessage field="absoluteTimeoutHours" errors={errors} />
        </div>

        <div class="field">
          <label for="maxSessionsPerUser">Maximum concurrent sessions per user</label>
          <input
            id="maxSessionsPerUser"
            name="maxSessionsPerUser"
            inputmode="numeric"
            placeholder="No limit"
            value={values.maxSessionsPerUser}
            aria-invalid={invalid('maxSessionsPerUser')}
          />
          <p class="hint">
            Leave empty for no limit. Sessions without a user id are never limited.
          </p>
          <FieldMessage field="maxSessionsPerUser" errors={errors} />
        </div>

        <div class="field">
          <label for="sessionLimitBehavior">When a user reaches the limit</label>
          <select
            id="sessionLimitBehavior"
            name="sessionLimitBehavior"
            aria-invalid={invalid('sessionLimitBehavior')}
          >
            <option value="reject" selected={values.sessionLimitBehavior === 'reject'}>
              Reject the new session
            </option>
            <option
              value="terminate_oldest"
              selected={values.sessionLimitBehavior === 'terminate_oldest'}
            >
              End the user's oldest session
            </option>
          </select>
          <FieldMessage field="sessionLimitBehavior" errors={errors} />
        </div>

        <button type="submit" class="primary">
          Save
        </button>
      </form>
    </Layout>
  );
}

/** Reads the settings through the admin API; the body is the settings or `{ settings }`. */
async function loadSettings(context: ConsoleContext, session: ConsoleSession) {
  const response = await callApi(context, session, 'GET', '/v1/admin/settings');
  if (response.status !== 200) return undefined;
  return (response.body?.settings ?? response.body) as EditableSettings & { warningMs?: number };
}

/** Registers the Settings page (admin only): `GET` and `POST /console/settings`. */
export function registerSettingsRoutes(context: ConsoleContext): void {
  const { app } = context;

  app.get('/console/settings', async (c) => {
    const session = await requireSignIn(c, context, 'admin');
    if (session instanceof Response) return session;

    const settings = await loadSettings(context, session);
    if (!settings) {
      return renderUnavailable(c, session);
    }
    const notice =
      c.req.query('saved') === '1' ? { kind: 'info' as const, text: 'Settings saved.' } : undefined;
    return renderPage(
      c,
      <SettingsPage session={session} values={toFormValues(settings)} notice={notice} />,
    );
  });

  app.post('/console/settings', async (c) => {
    const session = await requireSignIn(c, context, 'admin');
    if (session instanceof Response) return session;
    const form = await c.req.parseBody();
    const rejection = checkFormOrigin(c, session, form);
    if (rejection) return rejection;

    const values = readForm(form);
    const patch = toSettingsPatch(values, (await loadSettings(context, session))?.warningMs);
    if (Array.isArray(patch)) {
      const notice = {
        kind: 'error' as const,
        text: `Settings not saved: fix the ${patch.length === 1 ? 'field' : 'fields'} marked below.`,
      };
      return renderPage(
        c,
        <SettingsPage session={session} values={values} errors={patch} notice={notice} />,
        400,
      );
    }

    const response = await callApi(context, session, 'PUT', '/v1/admin/settings', patch);
    if (response.status === 200) return c.redirect('/console/settings?saved=1', 303);

    const issue = response.body?.issues?.[0];
    const field = FIELD_OF_SETTING[String(issue?.path?.[0])];
    const message = String(
      response.body?.message ?? `the admin API returned status ${response.status}`,
    );
    const errors = field ? [{ field, message: `${issue.message}` }] : [];
    const notice = { kind: 'error' as const, text: `Settings not saved: ${message}` };
    return renderPage(
      c,
      <SettingsPage session={session} values={values} errors={errors} notice={notice} />,
      400,
    );
  });
}

function renderUnavailable(c: Context, session: ConsoleSession) {
  const page = (
    <Layout title="Settings" viewer={viewerOf(session)} current="/console/settings">
      <Notice kind="error">The collector could not read its settings; see its log.</Notice>
    </Layout>
  );
  return renderPage(c, page, 502);
}
