import type { Hono } from 'hono';
import { z } from 'zod';
import { appIdSchema, idSchema, textSchema } from '../../../shared/src/index.js';
import type { SessionService } from '../session-service.js';
import type { AppEnv } from './app-env.js';
import { formatPath, type Issue, sendError, toIssues } from './errors.js';
import { bodyErrorMessage, readBodyText } from './read-body.js';

/** Maximum body of an admin request, in bytes. */
const MAX_ADMIN_BODY_BYTES = 16 * 1024;

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  appId: appIdSchema.optional(),
  userId: textSchema(256).optional(),
});

const terminateBodySchema = z
  .object({ reason: textSchema(512).optional() })
  .strict();

/**
 * Registers the admin API under `/v1/admin`, behind the bearer token:
 * `GET /v1/admin/sessions` and `POST /v1/admin/sessions/:id/terminate`.
 */
export function registerAdminRoutes(
  app: Hono<AppEnv>,
  service: SessionService,
): void {

  app.get('/v1/admin/sessions', async (c) => {
    const result = listQuerySchema.safeParse(c.req.query());
    if (!result.success) {
      const issues = toIssues(result.error);
      const first = issues[0]!;
      const message = `Query parameter ${formatPath(first.path)}: ${first.message}`;
      return sendError(c, 400, 'invalid_query', message, { issues });
    }

    const sessions = await service.listLive(result.data);
    return c.json({ sessions, count: sessions.length });
  });

  app.post('/v1/admin/sessions/:id/terminate', async (c) => {
    const id = c.req.param('id');
    c.set('sessionId', id);

    const body = await readBodyText(c.req.raw, MAX_ADMIN_BODY_BYTES);
    if (!body.isOk && body.reason === 'too_large') {
      const message = `Request body must be at most ${MAX_ADMIN_BODY_BYTES} bytes`;
      return sendError(c, 413, 'payload_too_large', message);
    }
    if (!body.isOk) return sendError(c, 400, 'invalid_json', bodyErrorMessage(body.reason));

    const parsed = parseTerminateBody(body.text);
    if ('code' in parsed) {
      return sendError(c, 400, parsed.code, parsed.message, { issues: parsed.issues });
    }

    const session = idSchema.safeParse(id).success
      ? await service.terminate(id, parsed.reason ?? null)
      : undefined;
    if (!session) return sendError(c, 404, 'not_found', `Session ${id} not found`);
    return c.json({ session });
  });
}

type TerminateBody =
  | { reason?: string }
  | { code: 'invalid_json' | 'invalid_request'; message: string; issues?: Issue[] };

/** Parses the optional `{ reason }` body; an empty body means no reason. */
function parseTerminateBody(text: string): TerminateBody {
  if (text.trim() === '') return {};

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const message = `Request body is not valid JSON: ${(error as Error).message}`;
    return { code: 'invalid_json', message };
  }

  const result = terminateBodySchema.safeParse(json);
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  const first = issues[0]!;
  const message = `Invalid body at ${formatPath(first.path)}: ${first.message}`;
  return { code: 'invalid_request', message, issues };
}
