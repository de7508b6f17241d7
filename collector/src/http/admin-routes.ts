import type { Hono } from 'hono';
import { errorBodySchema } from '../../../shared/src/index.js';
import type { SessionService } from '../session-service.js';
import type { Storage } from '../storage/index.js';
import type { ApiDocs } from './api-docs.js';
import { defineRoute } from './api-route.js';
import type { AppEnv } from './app-env.js';
import {
  listSessionsQuerySchema,
  sessionDetailQuerySchema,
  sessionDetailSchema,
  sessionListSchema,
  sessionParamsSchema,
  terminateBodySchema,
  terminateReplySchema,
  terminateUserBodySchema,
  terminateUserReplySchema,
  userParamsSchema,
} from './admin-schemas.js';
import {
  actorOf,
  decodeSessionCursor,
  encodeSessionCursor,
  toAdminEvent,
  toAdminSession,
} from './admin-views.js';
import { sendError } from './errors.js';

const notFound = { description: 'No session has this id', schema: errorBodySchema };
const invalid = { description: 'Invalid query or body', schema: errorBodySchema };

/**
 * Registers the session routes of the admin API: list sessions, read one with
 * its recent events, terminate one, and terminate every session of a user.
 * app.ts requires role `admin` for every `/v1/admin/*` route.
 */
export function registerAdminRoutes(
  app: Hono<AppEnv>,
  docs: ApiDocs,
  deps: { service: SessionService; storage: Storage },
): void {
  const { service, storage } = deps;

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/sessions',
      tag: 'Sessions',
      summary: 'List sessions by state, app and user, newest start first',
      role: 'admin',
      query: listSessionsQuerySchema,
      responses: { 200: { description: 'A page of sessions', schema: sessionListSchema }, 400: invalid },
    },
    async (c, { query }) => {
      const after = query.cursor === undefined ? undefined : decodeSessionCursor(query.cursor);
      if (query.cursor !== undefined && !after) {
        const message = 'Query parameter cursor: must be the nextCursor of a previous page';
        return sendError(c, 400, 'invalid_query', message, {
          issues: [{ path: ['cursor'], message: 'must be the nextCursor of a previous page' }],
        });
      }

      const { cursor: _cursor, ...filter } = query;
      const rows = await service.listSessions({ ...filter, ...(after ? { after } : {}) });
      const last = rows.at(-1);
      const nextCursor = rows.length === query.limit && last ? encodeSessionCursor(last) : null;
      return c.json({ sessions: rows.map(toAdminSession), count: rows.length, nextCursor });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/sessions/:id',
      tag: 'Sessions',
      summary: 'Read one session with its state and recent events',
      role: 'admin',
      params: sessionParamsSchema,
      query: sessionDetailQuerySchema,
      responses: {
        200: { description: 'The session', schema: sessionDetailSchema },
        400: invalid,
        404: notFound,
      },
    },
    async (c, { params, query }) => {
      c.set('sessionId', params.id);
      const state = await service.getState(params.id);
      const row = await storage.getSession(params.id);
      if (!state || !row) return sendError(c, 404, 'not_found', `Session ${params.id} not found`);

      const events = query.events === 0 ? [] : await storage.listRecentEvents(params.id, query.events);
      return c.json({ session: toAdminSession(row), state, events: events.map(toAdminEvent) });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'post',
      path: '/v1/admin/sessions/:id/terminate',
      tag: 'Sessions',
      summary: 'Terminate a session',
      description:
        'Ends the session with reason `terminated`. Its open tabs learn it at once through the stream, ' +
        'and from the 410 reply to their next batch. Terminating an ended session changes nothing and ' +
        'returns the same state.',
      role: 'admin',
      params: sessionParamsSchema,
      body: terminateBodySchema,
      responses: {
        200: { description: 'The session state, ended', schema: terminateReplySchema },
        400: invalid,
        404: notFound,
      },
    },
    async (c, { params, body }) => {
      c.set('sessionId', params.id);
      const session = await service.terminate(params.id, body.reason ?? null, actorOf(c));
      if (!session) return sendError(c, 404, 'not_found', `Session ${params.id} not found`);
      return c.json({ session });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'post',
      path: '/v1/admin/users/:userId/sessions/terminate',
      tag: 'Sessions',
      summary: 'Terminate every live session of a user',
      description: 'Calling it again when no session is live returns count 0.',
      role: 'admin',
      params: userParamsSchema,
      body: terminateUserBodySchema,
      responses: {
        200: { description: 'The sessions this request ended', schema: terminateUserReplySchema },
        400: invalid,
      },
    },
    async (c, { params, body }) => {
      const target = { userId: params.userId, ...(body.appId ? { appId: body.appId } : {}) };
      const sessions = await service.terminateUser(target, body.reason ?? null, actorOf(c));
      return c.json({ userId: params.userId, count: sessions.length, sessions });
    },
  );
}
