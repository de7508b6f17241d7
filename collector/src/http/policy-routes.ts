import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { errorBodySchema } from '../../../shared/src/index.js';
import type { PolicyProblem, PolicyService } from '../policy/policy-service.js';
import { settingsPatchSchema } from '../policy/session-settings.js';
import type { SessionService } from '../session-service.js';
import type { ApiDocs } from './api-docs.js';
import { defineRoute } from './api-route.js';
import type { AppEnv } from './app-env.js';
import {
  policyBodySchema,
  policyParamsSchema,
  policyReplySchema,
  policySchema,
  resolveQuerySchema,
  resolveReplySchema,
  settingsReplySchema,
  userGroupBodySchema,
  userGroupsReplySchema,
  userParamsSchema,
} from './admin-schemas.js';
import { actorOf, toPolicyView } from './admin-views.js';
import { sendError } from './errors.js';

const invalid = { description: 'Invalid query or body', schema: errorBodySchema };
const notFound = { description: 'No policy has this id', schema: errorBodySchema };

const PRECEDENCE =
  'Precedence: a policy matching both appId and userGroup, then one matching the userGroup only, ' +
  'then one matching the appId only, then the default settings. A user group mapped on the server ' +
  '(PUT /v1/admin/user-groups/{userId}) wins over the group a batch sends. Settings a policy leaves ' +
  'out come from the defaults, and `enabled` can only switch tracking off.';

function sendProblem(c: Context<AppEnv>, problem: PolicyProblem): Response {
  const where = problem.path.join('.');
  return sendError(c, 400, 'invalid_request', `Invalid body at ${where}: ${problem.message}`, {
    issues: [{ path: problem.path, message: problem.message }],
  });
}

/**
 * Registers the settings, policy and user group routes of the admin API.
 * Every change applies to live sessions at once and reaches their SDKs
 * through the stream.
 */
export function registerPolicyRoutes(
  app: Hono<AppEnv>,
  docs: ApiDocs,
  deps: { service: SessionService; policies: PolicyService },
): void {
  const { service, policies } = deps;
  const registry = service.policies;

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/settings',
      tag: 'Settings',
      summary: 'Read the default session settings',
      role: 'admin',
      responses: { 200: { description: 'The settings in force', schema: settingsReplySchema } },
    },
    async (c) => c.json({ settings: await policies.getSettings() }),
  );

  defineRoute(
    app,
    docs,
    {
      method: 'put',
      path: '/v1/admin/settings',
      tag: 'Settings',
      summary: 'Change default session settings',
      description:
        'Send any subset of the fields; the others keep their values. Switching `enabled` off rejects ' +
        'new sessions with 403 `tracking_disabled` and ends live ones with reason `disabled`.',
      role: 'admin',
      body: settingsPatchSchema,
      responses: { 200: { description: 'The settings now in force', schema: settingsReplySchema }, 400: invalid },
    },
    async (c, { body }) => {
      const result = await policies.updateSettings(body, actorOf(c));
      if (!result.isOk) return sendProblem(c, result.problem);
      return c.json({ settings: result.value, liveSessions: result.liveSessions });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/policies/resolve',
      tag: 'Policies',
      summary: 'Show which policy applies to an app and user',
      description: PRECEDENCE,
      role: 'admin',
      query: resolveQuerySchema,
      responses: { 200: { description: 'The policy and its settings', schema: resolveReplySchema }, 400: invalid },
    },
    async (c, { query }) => {
      await service.ready();
      const resolution = registry.resolve(query);
      const policy = resolution.policy ? { id: resolution.policy.id, name: resolution.policy.name } : null;
      const { matchedBy, userGroup, settings } = resolution;
      return c.json({ policy, matchedBy, userGroup, settings });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/policies',
      tag: 'Policies',
      summary: 'List custom policies',
      description: PRECEDENCE,
      role: 'admin',
      responses: {
        200: { description: 'Every policy', schema: z.object({ policies: z.array(policySchema) }) },
      },
    },
    async (c) => {
      await service.ready();
      return c.json({ policies: registry.listPolicies().map((policy) => toPolicyView(policy, registry)) });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'post',
      path: '/v1/admin/policies',
      tag: 'Policies',
      summary: 'Create a custom policy',
      description: PRECEDENCE,
      role: 'admin',
      body: policyBodySchema,
      responses: { 201: { description: 'The new policy', schema: policyReplySchema }, 400: invalid },
    },
    async (c, { body }) => {
      const result = await policies.createPolicy(body, actorOf(c));
      if (!result.isOk) return sendProblem(c, result.problem);
      const policy = toPolicyView(result.value, registry);
      return c.json({ policy, liveSessions: result.liveSessions }, 201);
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/policies/:id',
      tag: 'Policies',
      summary: 'Read a custom policy',
      role: 'admin',
      params: policyParamsSchema,
      responses: { 200: { description: 'The policy', schema: policyReplySchema }, 404: notFound },
    },
    async (c, { params }) => {
      await service.ready();
      const policy = registry.getPolicy(params.id);
      if (!policy) return sendError(c, 404, 'not_found', `Policy ${params.id} not found`);
      return c.json({ policy: toPolicyView(policy, registry) });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'put',
      path: '/v1/admin/policies/:id',
      tag: 'Policies',
      summary: 'Replace a custom policy',
      description: 'Replaces name, match and settings; settings left out come from the defaults.',
      role: 'admin',
      params: policyParamsSchema,
      body: policyBodySchema,
      responses: {
        200: { description: 'The policy', schema: policyReplySchema },
        400: invalid,
        404: notFound,
      },
    },
    async (c, { params, body }) => {
      const result = await policies.replacePolicy(params.id, body, actorOf(c));
      if (!result) return sendError(c, 404, 'not_found', `Policy ${params.id} not found`);
      if (!result.isOk) return sendProblem(c, result.problem);
      const policy = toPolicyView(result.value, registry);
      return c.json({ policy, liveSessions: result.liveSessions });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'delete',
      path: '/v1/admin/policies/:id',
      tag: 'Policies',
      summary: 'Delete a custom policy',
      description: 'Its live sessions move to the next matching policy, or the defaults.',
      role: 'admin',
      params: policyParamsSchema,
      responses: {
        200: {
          description: 'Deleted',
          schema: z.object({ deleted: z.literal(true), liveSessions: z.number() }),
        },
        404: notFound,
      },
    },
    async (c, { params }) => {
      const result = await policies.deletePolicy(params.id, actorOf(c));
      if (!result) return sendError(c, 404, 'not_found', `Policy ${params.id} not found`);
      return c.json({ deleted: true, liveSessions: result.liveSessions });
    },
  );

  registerUserGroupRoutes(app, docs, deps);
}

/** Registers the routes of the server-side user group map. */
function registerUserGroupRoutes(
  app: Hono<AppEnv>,
  docs: ApiDocs,
  deps: { service: SessionService; policies: PolicyService },
): void {
  const { service, policies } = deps;
  const groupReply = z.object({
    userId: z.string(),
    userGroup: z.string().nullable(),
    liveSessions: z
      .number()
      .describe('Live sessions checked against the policies after the change, which is every live session'),
  });

  defineRoute(
    app,
    docs,
    {
      method: 'get',
      path: '/v1/admin/user-groups',
      tag: 'Policies',
      summary: 'List the user groups mapped on the server',
      role: 'admin',
      responses: { 200: { description: 'The map, by user id', schema: userGroupsReplySchema } },
    },
    async (c) => {
      await service.ready();
      return c.json({ userGroups: service.policies.listUserGroups() });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'put',
      path: '/v1/admin/user-groups/:userId',
      tag: 'Policies',
      summary: 'Map a user to a group',
      description: 'The mapped group wins over the group the SDK sends, for policy matching.',
      role: 'admin',
      params: userParamsSchema,
      body: userGroupBodySchema,
      responses: { 200: { description: 'The mapping', schema: groupReply }, 400: invalid },
    },
    async (c, { params, body }) => {
      const liveSessions = await policies.setUserGroup(params.userId, body.userGroup, actorOf(c));
      return c.json({ userId: params.userId, userGroup: body.userGroup, liveSessions });
    },
  );

  defineRoute(
    app,
    docs,
    {
      method: 'delete',
      path: '/v1/admin/user-groups/:userId',
      tag: 'Policies',
      summary: 'Remove the group mapping of a user',
      role: 'admin',
      params: userParamsSchema,
      responses: { 200: { description: 'The mapping removed', schema: groupReply } },
    },
    async (c, { params }) => {
      const liveSessions = await policies.setUserGroup(params.userId, null, actorOf(c));
      return c.json({ userId: params.userId, userGroup: null, liveSessions });
    },
  );
}
