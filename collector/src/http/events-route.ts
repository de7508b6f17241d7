import type { Context, Hono } from 'hono';
import {
  appIdSchema,
  type Batch,
  batchSchema,
  idSchema,
  MAX_BODY_BYTES,
  PROTOCOL_VERSION,
} from '../../../shared/src/index.js';
import type { SessionService } from '../session-service.js';
import type { AppEnv } from './app-env.js';
import { formatPath, sendError, toIssues } from './errors.js';
import { bodyErrorMessage, readBodyText } from './read-body.js';

const ACCEPTED_TYPES = ['application/json', 'text/plain'];

/**
 * Returns whether a Content-Type is JSON or plain text (what `sendBeacon`
 * sends), with no charset or charset UTF-8.
 */
export function isAcceptedContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (!ACCEPTED_TYPES.includes(type)) return false;
  return parameters.every(
    (parameter) =>
      parameter === '' || parameter === 'charset=utf-8' || parameter === 'charset="utf-8"',
  );
}

/** Registers `POST /v1/events`, which validates and stores one batch. */
export function registerEventsRoute(app: Hono<AppEnv>, service: SessionService): void {
  app.post('/v1/events', async (c) => {
    const contentType = c.req.header('content-type');
    if (!isAcceptedContentType(contentType)) {
      return sendError(
        c,
        415,
        'unsupported_media_type',
        `Content-Type must be application/json or text/plain (charset utf-8), received ${contentType ?? 'none'}`,
      );
    }

    const parsed = await readBatch(c);
    if (parsed instanceof Response) return parsed;

    c.set('sessionId', parsed.sessionId);
    return storeBatch(c, service, parsed);
  });
}

/** Reads, parses and validates the body; returns the batch or an error response. */
async function readBatch(c: Context<AppEnv>): Promise<Batch | Response> {
  const body = await readBodyText(c.req.raw, MAX_BODY_BYTES);
  if (!body.isOk && body.reason === 'too_large') {
    const message = `Request body must be at most ${MAX_BODY_BYTES} bytes`;
    return sendError(c, 413, 'payload_too_large', message);
  }
  if (!body.isOk) return sendError(c, 400, 'invalid_json', bodyErrorMessage(body.reason));

  let json: unknown;
  try {
    json = JSON.parse(body.text);
  } catch (error) {
    const message = `Request body is not valid JSON: ${(error as Error).message}`;
    return sendError(c, 400, 'invalid_json', message);
  }

  rememberIds(c, json);
  const version = isObject(json) ? json.v : undefined;
  if (version !== undefined && version !== PROTOCOL_VERSION) {
    return sendError(
      c,
      400,
      'unsupported_version',
      `Protocol version v must be ${PROTOCOL_VERSION}, received ${JSON.stringify(version)}; update the SDK`,
    );
  }

  const result = batchSchema.safeParse(json);
  if (!result.success) {
    const issues = toIssues(result.error);
    const first = issues[0];
    const where = first ? `${formatPath(first.path)}: ${first.message}` : 'unknown field';
    return sendError(c, 400, 'invalid_batch', `Invalid batch at ${where}`, { issues });
  }
  return result.data;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Sets the app and session id for the logs as soon as the body names valid ones. */
function rememberIds(c: Context<AppEnv>, json: unknown): void {
  if (!isObject(json)) return;
  const appId = appIdSchema.safeParse(json.appId);
  if (appId.success) c.set('appId', appId.data);
  const sessionId = idSchema.safeParse(json.sessionId);
  if (sessionId.success) c.set('sessionId', sessionId.data);
}

async function storeBatch(c: Context<AppEnv>, service: SessionService, batch: Batch) {
  const result = await service.ingest(batch);
  if (result.status === 'stored') return c.json(result.reply, 200);

  if (result.status === 'ended') {
    const { session } = result;
    const endedAt = new Date(session.endedAt ?? 0).toISOString();
    return sendError(
      c,
      410,
      'session_ended',
      `Session ${batch.sessionId} ended (${session.endReason}) at ${endedAt}; start a new session`,
      { session },
    );
  }

  if (result.status === 'disabled') {
    return sendError(
      c,
      403,
      'tracking_disabled',
      'Session tracking is switched off for this app; stop sending events until it is switched on',
      { session: result.session },
    );
  }

  if (result.status === 'limit') {
    return sendError(
      c,
      409,
      'session_limit',
      `User ${result.userId} already has ${result.maxSessionsPerUser} live sessions, the maximum; end one to start another`,
    );
  }

  return sendError(
    c,
    403,
    'forbidden',
    `Session ${batch.sessionId} belongs to another ${result.field}; start a new session`,
  );
}
