import type { Hono } from 'hono';
import { z } from 'zod';
import type { ApiDocs } from '../http/api-docs.js';
import { defineRoute } from '../http/api-route.js';
import type { AppEnv } from '../http/app-env.js';
import { auditEntrySchema, userParamsSchema } from '../http/admin-schemas.js';
import { actorOf, toAuditEntry } from '../http/admin-views.js';
import type { SessionService } from '../session-service.js';
import type { AuditActor, ErasureCounts, Storage, UserData } from '../storage/index.js';

/** Note recorded on the sessions that an erasure ends before deleting them. */
const ERASURE_NOTE = 'user data erasure';

const rowsSchema = z.array(z.record(z.string(), z.unknown()));

/** Body of `GET /v1/admin/users/:userId/export`. */
export const userExportSchema = z.object({
  userId: z.string(),
  exportedAt: z.string().describe('ISO 8601 time of the export'),
  userGroup: z.string().nullable(),
  sessions: rowsSchema.describe('The user’s sessions and anonymous sessions of the same clients'),
  events: rowsSchema.describe('Every stored event of those sessions, `data` as an object'),
  audit: rowsSchema.describe('Audit entries about the user or those sessions, or that name them'),
  ingestErrors: rowsSchema.describe('Rejected ingest requests of those sessions'),
});

/** Body of `DELETE /v1/admin/users/:userId`. */
export const userErasureSchema = z.object({
  userId: z.string(),
  endedSessions: z.number().int().describe('Live sessions ended before the erasure'),
  erased: z.object({
    sessions: z.number().int(),
    events: z.number().int(),
    userGroups: z.number().int(),
    auditDeleted: z.number().int(),
    auditRedacted: z.number().int().describe('Other entries whose mentions were replaced'),
    ingestErrors: z.number().int(),
  }),
});

/** Body of `GET /v1/admin/users/:userId/erasures`. */
export const userErasuresSchema = z.object({
  userId: z.string(),
  erasures: z.array(auditEntrySchema).describe('The `user.erase` audit entries of the id, oldest first'),
});

/**
 * Registers the data subject routes of the admin API: export everything
 * stored about a user, and erase it. app.ts requires role `admin` for every
 * `/v1/admin/*` route.
 */
export function registerUserDataRoutes(
  app: Hono<AppEnv>,
  docs: ApiDocs,
  deps: { service: SessionService; storage: Storage; now: () => number },
): void {
  const { storage, now } = deps;

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/users/:userId/export',
      tag: 'Users',
      summary: 'Export every stored row about a user',
      description:
        'Returns the rows of every table that concern the user, read in one snapshot. A user ' +
        'the collector knows nothing about gets empty lists.',
      role: 'admin',
      params: userParamsSchema,
      responses: { 200: { description: 'The user’s data', schema: userExportSchema } },
    },
    async (c, { params }) => {
      const data = await storage.exportUser(params.userId);
      return c.json(toExport(data, now()));
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'delete',
      path: '/v1/admin/users/:userId',
      tag: 'Users',
      summary: 'Erase every stored row about a user',
      description:
        'Ends the user’s live sessions (their tabs learn it on the stream), then deletes the ' +
        'rows that `GET /v1/admin/users/{userId}/export` returns, in one transaction. Other ' +
        'audit entries that name the user keep their place with the id replaced by `[erased]`. ' +
        'One `user.erase` audit entry records a keyed hash (HMAC-SHA-256) of the user id and ' +
        'the counts; `GET /v1/admin/users/{userId}/erasures` finds it by the id.',
      role: 'admin',
      params: userParamsSchema,
      responses: { 200: { description: 'What was erased', schema: userErasureSchema } },
    },
    async (c, { params }) => {
      const result = await eraseUser(deps, params.userId, actorOf(c));
      return c.json({ userId: params.userId, ...result });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/users/:userId/erasures',
      tag: 'Users',
      summary: 'Confirm that a user was erased',
      description:
        'Returns the `user.erase` audit entries recorded for the user id. They hold no id, only ' +
        'its HMAC-SHA-256 under a key kept in the file `erasure-key` next to the DuckDB file, so ' +
        'a copy of the database alone cannot confirm a guessed id. An empty list means no ' +
        'erasure of the id is recorded under that key.',
      role: 'admin',
      params: userParamsSchema,
      responses: { 200: { description: 'The erasures of the id', schema: userErasuresSchema } },
    },
    async (c, { params }) => {
      const rows = await storage.findErasures(params.userId);
      return c.json({ userId: params.userId, erasures: rows.map((row) => toAuditEntry(row)) });
    },
  );
}

/**
 * Ends a user's live sessions, so their tabs stop at once, then erases every
 * row about the user and forgets its user group in memory.
 */
export async function eraseUser(
  deps: { service: SessionService; storage: Storage; now: () => number },
  userId: string,
  actor: AuditActor,
): Promise<{ endedSessions: number; erased: ErasureCounts }> {
  // The erasure's own audit entry stands for this termination, which would be erased anyway.
  const ended = await deps.service.terminateUser({ userId }, ERASURE_NOTE, actor, {
    isAudited: false,
  });
  const erased = await deps.storage.eraseUser(userId, actor, deps.now());
  deps.service.policies.setUserGroup(userId, null);
  return { endedSessions: ended.length, erased };
}

/** Shapes the export: ISO export time, and each event's `data` parsed from its JSON text. */
function toExport(data: UserData, exportedAt: number) {
  return {
    userId: data.userId,
    exportedAt: new Date(exportedAt).toISOString(),
    userGroup: data.userGroup,
    sessions: data.sessions,
    events: data.events.map((event) => ({
      ...event,
      data: event.data === null ? null : (JSON.parse(event.data) as unknown),
    })),
    audit: data.audit,
    ingestErrors: data.ingestErrors,
  };
}
