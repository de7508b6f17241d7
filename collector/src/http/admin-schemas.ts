import { z } from 'zod';
import {
  appIdSchema,
  END_REASONS,
  idSchema,
  sessionStateSchema,
  textSchema,
} from '../../../shared/src/index.js';
import { sessionSettingsSchema, settingsPatchSchema } from '../policy/session-settings.js';

/** Request and response schemas of the admin API; they validate requests and build the OpenAPI document. */

const LIMIT_MESSAGE = 'must be an integer from 1 to 1000';

const limitSchema = (fallback: number) =>
  z.coerce
    .number({ error: LIMIT_MESSAGE })
    .int(LIMIT_MESSAGE)
    .min(1, LIMIT_MESSAGE)
    .max(1000, LIMIT_MESSAGE)
    .default(fallback)
    .describe(`Maximum items per page, 1 to 1000 (default ${fallback})`);

const cursorSchema = z
  .string()
  .min(1)
  .max(512)
  .optional()
  .describe('The nextCursor of the previous page');

const userIdSchema = textSchema(256);
const userGroupSchema = textSchema(128);

/** Query of `GET /v1/admin/sessions`. */
export const listSessionsQuerySchema = z.object({
  state: z.enum(['active', 'ended', 'all']).default('active').describe('Session state (default active)'),
  appId: appIdSchema.optional(),
  userId: userIdSchema.optional(),
  limit: limitSchema(100),
  cursor: cursorSchema,
});

/** Path of the routes of one session. */
export const sessionParamsSchema = z.object({ id: idSchema });

/** Query of `GET /v1/admin/sessions/:id`. */
export const sessionDetailQuerySchema = z.object({
  events: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(100)
    .describe('Number of recent events, 0 to 1000 (default 100)'),
});

/** Body of `POST /v1/admin/sessions/:id/terminate`; an empty body means no reason. */
export const terminateBodySchema = z.strictObject({
  reason: textSchema(512).optional().describe('Why the session was terminated, kept in the audit log'),
});

/** Path of the routes of one user. */
export const userParamsSchema = z.object({ userId: userIdSchema });

/** Body of `POST /v1/admin/users/:userId/sessions/terminate`. */
export const terminateUserBodySchema = z.strictObject({
  reason: textSchema(512).optional(),
  appId: appIdSchema.optional().describe('Only sessions of this app; all apps when left out'),
});

/** Body of `POST /v1/admin/policies` and `PUT /v1/admin/policies/:id`. */
export const policyBodySchema = z
  .strictObject({
    name: textSchema(128),
    appId: appIdSchema.nullable().default(null),
    userGroup: userGroupSchema.nullable().default(null),
    settings: settingsPatchSchema.default({}),
  })
  .refine((policy) => policy.appId !== null || policy.userGroup !== null, {
    path: ['appId'],
    message: 'a policy must match an appId, a userGroup or both',
  });

/** Path of the routes of one policy. */
export const policyParamsSchema = z.object({ id: idSchema });

/** Query of `GET /v1/admin/policies/resolve`. */
export const resolveQuerySchema = z.object({
  appId: appIdSchema,
  userId: userIdSchema.optional(),
  userGroup: userGroupSchema.optional(),
});

/** Query of `GET /v1/admin/audit`. */
export const auditQuerySchema = z.object({
  limit: limitSchema(100),
  cursor: cursorSchema,
  action: z.string().min(1).max(64).optional().describe('Such as session.end or settings.update'),
  targetId: z.string().min(1).max(256).optional().describe('Session id, user id or policy id'),
});

/** Query of `GET /v1/admin/ingest-errors`. */
export const ingestErrorsQuerySchema = z.object({
  limit: limitSchema(100),
  cursor: cursorSchema,
  code: z.string().min(1).max(64).optional(),
  appId: appIdSchema.optional(),
});

/** Body of `PUT /v1/admin/user-groups/:userId`. */
export const userGroupBodySchema = z.strictObject({ userGroup: userGroupSchema });

/** A session as the admin API lists it. */
export const adminSessionSchema = z.object({
  id: z.string(),
  state: z.enum(['active', 'ended']),
  appId: z.string(),
  clientId: z.string(),
  userId: z.string().nullable(),
  userGroup: z.string().nullable().describe('Group the SDK sent'),
  policyId: z.string().nullable().describe('Custom policy in force, null for the default settings'),
  startedAt: z.number(),
  lastActivityAt: z.number(),
  lastSeenAt: z.number(),
  endedAt: z.number().nullable(),
  endReason: z.enum(END_REASONS).nullable(),
  endNote: z.string().nullable(),
  tabsNow: z.number(),
  maxTabs: z.number(),
  interactions: z.number(),
  pageViews: z.number(),
  engagedMs: z.number(),
  idleMs: z.number(),
  eventCount: z.number(),
  idleTimeoutMs: z.number(),
  absoluteTimeoutMs: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

/** A page of sessions. */
export const sessionListSchema = z.object({
  sessions: z.array(adminSessionSchema),
  count: z.number(),
  nextCursor: z.string().nullable(),
});

/** A stored event as the admin API returns it, with `data` parsed. */
export const adminEventSchema = z.object({
  id: z.string(),
  tabId: z.string(),
  type: z.string(),
  ts: z.number().describe('Skew-corrected timestamp, epoch ms'),
  clientTs: z.number(),
  receivedAt: z.number(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

/** One session with its state and recent events. */
export const sessionDetailSchema = z.object({
  session: adminSessionSchema,
  state: sessionStateSchema,
  events: z.array(adminEventSchema).describe('Most recent first'),
});

/** Reply of a terminate request. */
export const terminateReplySchema = z.object({ session: sessionStateSchema });

/** Reply of a terminate-all-of-a-user request. */
export const terminateUserReplySchema = z.object({
  userId: z.string(),
  count: z.number().describe('Sessions this request ended; 0 when none was live'),
  sessions: z.array(sessionStateSchema),
});

/** The settings as the admin API returns them. */
export const settingsReplySchema = z.object({
  settings: sessionSettingsSchema,
  liveSessions: z
    .number()
    .optional()
    .describe('Live sessions checked against the new settings, which is every live session (PUT only)'),
});

/** A custom policy as the admin API returns it. */
export const policySchema = z.object({
  id: z.string(),
  name: z.string(),
  appId: z.string().nullable(),
  userGroup: z.string().nullable(),
  settings: settingsPatchSchema.describe('The settings this policy sets'),
  effective: sessionSettingsSchema.describe('Every setting in force under this policy'),
  createdAt: z.number(),
  updatedAt: z.number(),
});

/** A policy in a reply. */
export const policyReplySchema = z.object({
  policy: policySchema,
  liveSessions: z.number().optional(),
});

/** The policy that applies to an app and user, with its settings. */
export const resolveReplySchema = z.object({
  policy: z.object({ id: z.string(), name: z.string() }).nullable(),
  matchedBy: z.enum(['app_and_group', 'group', 'app', 'default']),
  userGroup: z.string().nullable().describe('The mapped group of the user, else the one given'),
  settings: sessionSettingsSchema,
});

/** An audit log entry. */
export const auditEntrySchema = z.object({
  seq: z.number(),
  at: z.number(),
  actor: z.object({ name: z.string(), role: z.enum(['admin', 'analyst', 'system', 'client']) }),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

/** An ingest request the collector rejected. */
export const ingestErrorSchema = z.object({
  seq: z.number(),
  at: z.number(),
  status: z.number(),
  code: z.string(),
  message: z.string(),
  appId: z.string().nullable(),
  sessionId: z.string().nullable(),
  origin: z.string().nullable(),
  requestId: z.string().nullable(),
});

/** The server-side user group map. */
export const userGroupsReplySchema = z.object({
  userGroups: z.array(z.object({ userId: z.string(), userGroup: z.string() })),
});
