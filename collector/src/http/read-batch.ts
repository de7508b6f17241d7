import type { Context } from 'hono';
import {
  appIdSchema,
  type BatchEnvelope,
  batchEnvelopeSchema,
  idSchema,
  MAX_BODY_BYTES,
  PROTOCOL_VERSION,
} from '../../../shared/src/index.js';
import type { AppEnv } from './app-env.js';
import { formatPath, sendError, toIssues } from './errors.js';
import { bodyErrorMessage, readBodyText } from './read-body.js';

/**
 * Maximum nesting of arrays and objects in a request body. A valid batch
 * nests 5 levels (batch, events, event, data, props), so deeper JSON is
 * rejected before parsing, and no code that walks the value recursively can
 * overflow the stack.
 */
export const MAX_JSON_DEPTH = 20;

/**
 * Reads, parses and validates the envelope of a batch: everything but the
 * events themselves, which `checkEvents` validates one by one. Returns the
 * envelope or an error response.
 */
export async function readEnvelope(c: Context<AppEnv>): Promise<BatchEnvelope | Response> {
  const json = await readJson(c);
  if (json instanceof Response) return json;

  rememberIds(c, json);
  const version = isObject(json) ? json.v : undefined;
  if (version !== undefined && version !== PROTOCOL_VERSION) {
    return sendError(
      c,
      400,
      'unsupported_version',
      `Protocol version v must be ${PROTOCOL_VERSION}, received ${JSON.stringify(version).slice(0, 64)}; update the SDK`,
    );
  }

  const result = batchEnvelopeSchema.safeParse(json);
  if (!result.success) {
    const issues = toIssues(result.error);
    const first = issues[0];
    const where = first ? `${formatPath(first.path)}: ${first.message}` : 'unknown field';
    return sendError(c, 400, 'invalid_batch', `Invalid batch at ${where}`, { issues });
  }
  return result.data;
}

async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const body = await readBodyText(c, MAX_BODY_BYTES);
  if (!body.isOk && body.reason === 'too_large') {
    const message = `Request body must be at most ${MAX_BODY_BYTES} bytes`;
    return sendError(c, 413, 'payload_too_large', message);
  }
  if (!body.isOk) return sendError(c, 400, 'invalid_json', bodyErrorMessage(body.reason));

  if (isNestedDeeperThan(body.text, MAX_JSON_DEPTH)) {
    const message =
      `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels, ` +
      'but a batch needs only 5';
    return sendError(c, 400, 'invalid_json', message);
  }

  try {
    return JSON.parse(body.text) as unknown;
  } catch (error) {
    const message = `Request body is not valid JSON: ${(error as Error).message}`;
    return sendError(c, 400, 'invalid_json', message);
  }
}

/**
 * Returns whether JSON text nests arrays and objects deeper than `maxDepth`.
 * It counts brackets outside strings, so it runs before parsing, in one pass.
 */
export function isNestedDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let isInString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i);
    if (isInString) {
      // A backslash escapes the next character, which may be a quote.
      if (char === 0x5c) i += 1;
      else if (char === 0x22) isInString = false;
      continue;
    }
    if (char === 0x22) isInString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return false;
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
